"""Medicines: dose times, dose log, refill requests

Medicines stop using task_completions: their ticks move into the dose log as slot 0 (the one
dose of a medicine without times of day). Task rows stay as they are.

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

OPEN_ONLY = sa.text("state = 'requested'")


def upgrade():
    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dose_times', sa.JSON(), nullable=True))

    op.create_table(
        'medication_doses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('for_date', sa.Date(), nullable=False),
        sa.Column('slot', sa.Integer(), nullable=False),
        sa.Column('taken_by_id', sa.Integer(), nullable=True),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['plan_items.id'], name=op.f('fk_medication_doses_item_id_plan_items'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['taken_by_id'], ['users.id'], name=op.f('fk_medication_doses_taken_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_medication_doses')),
        sa.UniqueConstraint('item_id', 'for_date', 'slot', name='uq_medication_doses_item_day_slot'),
    )

    op.create_table(
        'refill_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=True),
        sa.Column('pharmacy', sa.String(length=160), nullable=False),
        sa.Column('state', sa.Enum('requested', 'sent_to_pharmacy', 'needs_visit', name='refillstate', native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('handled_by_id', sa.Integer(), nullable=True),
        sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['plan_items.id'], name=op.f('fk_refill_requests_item_id_plan_items'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_refill_requests_patient_id_patients'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['thread_id'], ['message_threads.id'], name=op.f('fk_refill_requests_thread_id_message_threads'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_refill_requests_requested_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['handled_by_id'], ['users.id'], name=op.f('fk_refill_requests_handled_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refill_requests')),
    )
    with op.batch_alter_table('refill_requests', schema=None) as batch_op:
        batch_op.create_index('uq_refill_requests_open_item', ['item_id'], unique=True, sqlite_where=OPEN_ONLY, postgresql_where=OPEN_ONLY)
        batch_op.create_index('ix_refill_requests_item_requested', ['item_id', 'requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_refill_requests_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refill_requests_thread_id'), ['thread_id'], unique=False)

    # A medicine's "taken" ticks become slot 0 of the dose log; tasks keep theirs.
    op.execute(
        "INSERT INTO medication_doses (item_id, for_date, slot, taken_by_id, taken_at) "
        "SELECT tc.item_id, tc.for_date, 0, tc.completed_by_id, tc.completed_at "
        "FROM task_completions tc JOIN plan_items pi ON pi.id = tc.item_id "
        "WHERE pi.kind = 'medication'"
    )
    op.execute(
        "DELETE FROM task_completions WHERE item_id IN "
        "(SELECT id FROM plan_items WHERE kind = 'medication')"
    )


def downgrade():
    # Slot 0 goes back to a tick (the other doses of a day have no place there).
    op.execute(
        "INSERT INTO task_completions (item_id, for_date, completed_by_id, completed_at) "
        "SELECT item_id, for_date, taken_by_id, taken_at FROM medication_doses WHERE slot = 0"
    )
    with op.batch_alter_table('refill_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refill_requests_thread_id'))
        batch_op.drop_index(batch_op.f('ix_refill_requests_patient_id'))
        batch_op.drop_index('ix_refill_requests_item_requested')
        batch_op.drop_index('uq_refill_requests_open_item')
    op.drop_table('refill_requests')
    op.drop_table('medication_doses')
    with op.batch_alter_table('plan_items', schema=None) as batch_op:
        batch_op.drop_column('dose_times')
