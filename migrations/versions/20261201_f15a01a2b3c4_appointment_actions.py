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
    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('video_url', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('location_phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('change_requested_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        'appointment_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.Enum('change', 'cancel', name='appointmentrequestkind', native_enum=False, create_constraint=True, length=8), nullable=False),
        sa.Column('reason_choice', sa.Enum('transport', 'unwell', 'work_or_family', 'time', 'other', name='cancelreason', native_enum=False, create_constraint=True, length=16), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('suggested', sa.JSON(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('capacity', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_appointment_requests_created_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['item_id'], ['plan_items.id'], name=op.f('fk_appointment_requests_item_id_plan_items'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_appointment_requests_patient_id_patients'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['thread_id'], ['message_threads.id'], name=op.f('fk_appointment_requests_thread_id_message_threads'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_requests')),
    )
    with op.batch_alter_table('appointment_requests', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_requests_item_time', ['item_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_requests_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_requests_thread_id'), ['thread_id'], unique=False)


def downgrade():
    with op.batch_alter_table('appointment_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_requests_thread_id'))
        batch_op.drop_index(batch_op.f('ix_appointment_requests_patient_id'))
        batch_op.drop_index('ix_appointment_requests_item_time')
    op.drop_table('appointment_requests')

    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.drop_column('change_requested_at')
        batch_op.drop_column('location_phone')
        batch_op.drop_column('video_url')
