"""Readings: tasks that ask for a number, the readings, alert rules and alerts

Revision ID: f15a03c4d5e6
Revises: f15a02b3c4d5
Create Date: 2026-12-01 19:03:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f15a03c4d5e6'
down_revision = 'f15a02b3c4d5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
