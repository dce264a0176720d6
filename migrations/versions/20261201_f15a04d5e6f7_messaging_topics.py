"""Messaging: topic not sure, subject derived

Revision ID: f15a04d5e6f7
Revises: f15a03c4d5e6
Create Date: 2026-12-01 19:04:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f15a04d5e6f7'
down_revision = 'f15a03c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
