"""Messaging: topic not sure, subject derived

A new message topic, "not_sure" ("I'm not sure", read first by the care coordinator): the
CHECK constraint of every column that stores a topic (named ck_<table>_topic by the naming
convention, created with the tables) takes the new value. The subject needs no change: it is
still stored, derived from the message's first words when the writer gives none.

Revision ID: f15a04d5e6f7
Revises: f15a03c4d5e6
Create Date: 2026-12-01 19:04:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f15a04d5e6f7'
down_revision = 'f15a03c4d5e6'
branch_labels = None
depends_on = None

TOPICS = ('medication', 'appointment', 'symptoms', 'care_plan', 'social_needs', 'billing', 'other')
NEW_TOPICS = (*TOPICS, 'not_sure')
#: Every table with a topic column (enum_column(Topic) in app/messaging/models.py).
TOPIC_TABLES = ('message_threads', 'message_response_times', 'inbox_entries')


def _topic_values(values) -> None:
    for table in TOPIC_TABLES:
        name = f'ck_{table}_topic'
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(name), type_='check')
            batch_op.create_check_constraint(op.f(name), sa.column('topic').in_(values))


def upgrade():
    _topic_values(NEW_TOPICS)


def downgrade():
    # A "not sure" thread cannot keep its topic under the old constraint: it becomes "other",
    # which the same people (nursing, and the coordinator) read.
    for table in TOPIC_TABLES:
        rows = sa.table(table, sa.column('topic'))
        op.execute(rows.update().where(rows.c.topic == 'not_sure').values(topic='other'))
    _topic_values(TOPICS)
