"""Measures: nightly rollups, if the dashboard needs them (placeholder: filled by the work it names)

Revision ID: a18a04e5f6a7
Revises: a18a03d4e5f6
Create Date: 2026-12-02 01:03:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'a18a04e5f6a7'
down_revision = 'a18a03d4e5f6'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
