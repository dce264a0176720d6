"""FHIR integration clients

Revision ID: a17a01d4e5f6
Revises: a16a02c3d4e5
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a17a01d4e5f6'
down_revision = 'a16a02c3d4e5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
