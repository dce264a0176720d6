"""Indexes the measures read by: the care team's plan changes and caregivers' audit rows of a
period (by time), and each patient's open plan items (by patient), so that a measure computed
live reads the period's rows, not every row (docs/performance.md, "Measures computed live")

Revision ID: a18a06a7b8c9
Revises: a18a05f6a7b8
Create Date: 2026-12-02 02:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a18a06a7b8c9'
down_revision = 'a18a05f6a7b8'
branch_labels = None
depends_on = None

OPEN_ITEMS = "status NOT IN ('cancelled', 'completed', 'stopped')"
TEAM_CHANGES = "capacity = 'care_team'"
CAREGIVER_EVENTS = "capacity = 'caregiver' AND action <> 'denied'"


def upgrade():
    op.create_index('ix_plan_items_open_since', 'plan_items', ['patient_id', 'created_at'],
                    sqlite_where=sa.text(OPEN_ITEMS), postgresql_where=sa.text(OPEN_ITEMS))
    op.create_index('ix_plan_changes_team_time', 'plan_changes', ['occurred_at', 'patient_id'],
                    sqlite_where=sa.text(TEAM_CHANGES), postgresql_where=sa.text(TEAM_CHANGES))
    op.create_index('ix_audit_events_caregiver_time', 'audit_events',
                    ['occurred_at', 'patient_id', 'actor_id'],
                    sqlite_where=sa.text(CAREGIVER_EVENTS),
                    postgresql_where=sa.text(CAREGIVER_EVENTS))


def downgrade():
    op.drop_index('ix_audit_events_caregiver_time', table_name='audit_events')
    op.drop_index('ix_plan_changes_team_time', table_name='plan_changes')
    op.drop_index('ix_plan_items_open_since', table_name='plan_items')
