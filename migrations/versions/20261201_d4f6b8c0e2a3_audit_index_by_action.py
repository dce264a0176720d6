"""Refused attempts are recorded in the audit trail; an index finds them newest first

Revision ID: d4f6b8c0e2a3
Revises: c3e5a7b9d1f2
Create Date: 2026-12-01 11:00:00

"""
from alembic import op


revision = 'd4f6b8c0e2a3'
down_revision = 'c3e5a7b9d1f2'
branch_labels = None
depends_on = None


def upgrade():
    # No batch mode: on SQLite a table rebuild would drop the audit triggers.
    op.create_index('ix_audit_events_action_id', 'audit_events', ['action', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_audit_events_action_id', table_name='audit_events')
