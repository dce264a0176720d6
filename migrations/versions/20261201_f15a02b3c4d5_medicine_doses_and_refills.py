"""Medicines: dose times, dose log, refill requests

Revision ID: f15a02b3c4d5
Revises: f15a01a2b3c4
Create Date: 2026-12-01 19:02:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f15a02b3c4d5'
down_revision = 'f15a01a2b3c4'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
