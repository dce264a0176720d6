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
    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reading_kind', sa.Enum('weight', 'blood_pressure', 'blood_sugar', 'steps', 'mood', name='readingkind', native_enum=False, create_constraint=True, length=16), nullable=True))
        batch_op.add_column(sa.Column('reading_unit', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('goal_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('alert_above', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('alert_above2', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('alert_below', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('alert_rise', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('alert_rise_days', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_plan_items_goal_id_goals'), 'goals', ['goal_id'], ['id'], ondelete='SET NULL')

    op.create_table(
        'readings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('for_date', sa.Date(), nullable=False),
        sa.Column('value', sa.Double(), nullable=False),
        sa.Column('value2', sa.Double(), nullable=True),
        sa.Column('unit', sa.String(length=12), nullable=True),
        sa.Column('check_in_id', sa.Integer(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('capacity', sa.String(length=16), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['check_in_id'], ['goal_check_ins.id'], name=op.f('fk_readings_check_in_id_goal_check_ins'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['item_id'], ['plan_items.id'], name=op.f('fk_readings_item_id_plan_items'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_readings_patient_id_patients'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_readings_recorded_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_readings')),
        sa.UniqueConstraint('item_id', 'for_date', name='uq_readings_item_day'),
    )
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_readings_patient_id'), ['patient_id'], unique=False)

    op.create_table(
        'reading_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('reading_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.Enum('above', 'above_bottom', 'below', 'rise', name='alertrule', native_enum=False, create_constraint=True, length=16), nullable=False),
        sa.Column('for_date', sa.Date(), nullable=False),
        sa.Column('value', sa.Double(), nullable=False),
        sa.Column('value2', sa.Double(), nullable=True),
        sa.Column('unit', sa.String(length=12), nullable=True),
        sa.Column('threshold', sa.Double(), nullable=False),
        sa.Column('change', sa.Double(), nullable=True),
        sa.Column('days', sa.Integer(), nullable=True),
        sa.Column('status', sa.Enum('open', 'seen', name='alertstatus', native_enum=False, create_constraint=True, length=8), nullable=False),
        sa.Column('seen_by_id', sa.Integer(), nullable=True),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['plan_items.id'], name=op.f('fk_reading_alerts_item_id_plan_items'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_reading_alerts_patient_id_patients'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reading_id'], ['readings.id'], name=op.f('fk_reading_alerts_reading_id_readings'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['seen_by_id'], ['users.id'], name=op.f('fk_reading_alerts_seen_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reading_alerts')),
        sa.UniqueConstraint('reading_id', 'rule', name='uq_reading_alerts_reading_rule'),
    )
    with op.batch_alter_table('reading_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reading_alerts_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_reading_alerts_patient_status', ['patient_id', 'status', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('reading_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_reading_alerts_patient_status')
        batch_op.drop_index(batch_op.f('ix_reading_alerts_item_id'))
    op.drop_table('reading_alerts')
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_readings_patient_id'))
    op.drop_table('readings')
    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plan_items_goal_id_goals'), type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_plan_items_readingkind'), type_='check')
        batch_op.drop_column('alert_rise_days')
        batch_op.drop_column('alert_rise')
        batch_op.drop_column('alert_below')
        batch_op.drop_column('alert_above2')
        batch_op.drop_column('alert_above')
        batch_op.drop_column('goal_id')
        batch_op.drop_column('reading_unit')
        batch_op.drop_column('reading_kind')
