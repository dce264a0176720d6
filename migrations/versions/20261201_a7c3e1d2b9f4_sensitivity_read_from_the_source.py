"""Sensitivity is read from the item, goal or decision: no copies on change rows or threads

The change log's rows no longer keep a copy of their subject's sensitivity (it is read from the
item, goal or decision each time), and a thread keeps its own only when it is private; a thread
about a plan item is as sensitive as the item is now.

Revision ID: a7c3e1d2b9f4
Revises: e03e308000ab
Create Date: 2026-12-01 08:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c3e1d2b9f4'
down_revision = 'e03e308000ab'
branch_labels = None
depends_on = None

SENSITIVITY = sa.Enum(
    'behavioral_health', 'substance_use', 'sexual_reproductive', 'confidential',
    name='sensitivity', native_enum=False, create_constraint=True, length=32,
)


def upgrade():
    op.execute(
        "UPDATE message_threads SET sensitivity = NULL "
        "WHERE sensitivity IS NOT NULL AND sensitivity <> 'confidential'"
    )
    with op.batch_alter_table('plan_changes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_plan_changes_sensitivity'), type_='check')
        batch_op.drop_column('sensitivity')


def downgrade():
    with op.batch_alter_table('plan_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sensitivity', SENSITIVITY, nullable=True))
    op.execute(
        "UPDATE message_threads SET sensitivity = ("
        "SELECT plan_items.sensitivity FROM plan_items "
        "WHERE plan_items.id = message_threads.plan_item_id) "
        "WHERE sensitivity IS NULL AND plan_item_id IS NOT NULL"
    )
