"""FHIR sources of imported records

Revision ID: a17a02e5f6a7
Revises: a17a01d4e5f6
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a17a02e5f6a7'
down_revision = 'a17a01d4e5f6'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
