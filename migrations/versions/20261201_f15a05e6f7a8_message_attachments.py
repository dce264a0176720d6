"""Attachments on messages

Revision ID: f15a05e6f7a8
Revises: f15a04d5e6f7
Create Date: 2026-12-01 19:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f15a05e6f7a8'
down_revision = 'f15a04d5e6f7'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
