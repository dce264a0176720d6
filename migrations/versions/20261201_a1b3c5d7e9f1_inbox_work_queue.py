"""The team inbox as a work queue per member; indexes for lists at CCO scale

Revision ID: a1b3c5d7e9f1
Revises: f6b8d0e2a4c5
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a1b3c5d7e9f1'
down_revision = 'f6b8d0e2a4c5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
