"""Appointment actions: video link, location phone, cancellation reason, change requests

Revision ID: f15a01a2b3c4
Revises: c5e7a9b1d3f5
Create Date: 2026-12-01 19:01:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f15a01a2b3c4'
down_revision = 'c5e7a9b1d3f5'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
