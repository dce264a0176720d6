"""Indexes the measures read by (placeholder: filled by the work it names)

Revision ID: a18a06a7b8c9
Revises: a18a05f6a7b8
Create Date: 2026-12-02 02:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'a18a06a7b8c9'
down_revision = 'a18a05f6a7b8'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
