"""Appointment attendance (attended / no-show), for the no-show measure

Revision ID: a18a01b2c3d4
Revises: a17a02e5f6a7
Create Date: 2026-12-02 01:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a18a01b2c3d4'
down_revision = 'a17a02e5f6a7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'attendance',
            sa.Enum('attended', 'no_show', name='attendance', native_enum=False,
                    length=12, create_constraint=True),
            nullable=True))
        batch_op.add_column(sa.Column('attendance_recorded_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.drop_column('attendance_recorded_at')
        batch_op.drop_constraint(op.f('ck_plan_items_attendance'), type_='check')
        batch_op.drop_column('attendance')
