"""Social needs screening: referral links and what else screening needs (placeholder: filled by the work it names)

Revision ID: a18a03d4e5f6
Revises: a18a02c3d4e5
Create Date: 2026-12-02 01:02:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = 'a18a03d4e5f6'
down_revision = 'a18a02c3d4e5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
