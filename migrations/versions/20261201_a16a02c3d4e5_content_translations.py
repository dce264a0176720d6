"""Care content in its language, and the team's translations

Revision ID: a16a02c3d4e5
Revises: a16a01b2c3d4
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a16a02c3d4e5'
down_revision = 'a16a01b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
