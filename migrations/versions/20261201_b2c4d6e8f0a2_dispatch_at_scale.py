"""Texts at 500 a second: the planner's planned_until per schedule

Revision ID: b2c4d6e8f0a2
Revises: a1b3c5d7e9f1
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b2c4d6e8f0a2'
down_revision = 'a1b3c5d7e9f1'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
