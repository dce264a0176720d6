"""Patient pages at CCO scale

Revision ID: c3d5e7f9a1b3
Revises: b2c4d6e8f0a2
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c3d5e7f9a1b3'
down_revision = 'b2c4d6e8f0a2'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
