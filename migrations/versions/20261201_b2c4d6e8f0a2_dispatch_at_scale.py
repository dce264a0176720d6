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
    # NULL: every schedule is planned on the planner's next round, then only when due.
    op.add_column(
        'reminder_schedules',
        sa.Column('planned_until', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        'ix_reminder_schedules_planned_until', 'reminder_schedules', ['planned_until'], unique=False
    )


def downgrade():
    op.drop_index('ix_reminder_schedules_planned_until', table_name='reminder_schedules')
    with op.batch_alter_table('reminder_schedules', schema=None) as batch_op:
        batch_op.drop_column('planned_until')
