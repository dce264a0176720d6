"""Translatable role titles and relationships

Revision ID: a16a01b2c3d4
Revises: f15a05e6f7a8
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a16a01b2c3d4'
down_revision = 'f15a05e6f7a8'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
