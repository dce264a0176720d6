"""The team inbox as a work queue per member; indexes for lists at CCO scale

Revision ID: a1b3c5d7e9f1
Revises: b8d0f2a4c6e7
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a1b3c5d7e9f1'
down_revision = 'b8d0f2a4c6e7'
branch_labels = None
depends_on = None


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "inbox_entries",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Enum("medication", "appointment", "symptoms", "care_plan", "social_needs", "billing", "other", name="topic", native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column("lane", sa.Enum("unassigned", "mine", "team", "other", "closed", name="inboxlane", native_enum=False, create_constraint=True, length=12), nullable=False),
        sa.Column("awaiting", sa.Boolean(), nullable=False),
        sa.Column("due_sort", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["care_team_members.id"], name=op.f("fk_inbox_entries_member_id_care_team_members"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_inbox_entries_patient_id_patients"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["thread_id"], ["message_threads.id"], name=op.f("fk_inbox_entries_thread_id_message_threads"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id", "thread_id", name=op.f("pk_inbox_entries")),
    )
    op.create_index("ix_inbox_entries_lane_due", "inbox_entries", ["member_id", "lane", "due_sort", "thread_id"])
    op.create_index("ix_inbox_entries_lane_recent", "inbox_entries", ["member_id", "lane", "last_message_at", "thread_id"])
    op.create_index("ix_inbox_entries_recent", "inbox_entries", ["member_id", "last_message_at", "thread_id"])
    op.create_index("ix_inbox_entries_patient", "inbox_entries", ["member_id", "patient_id"])
    op.create_index("ix_inbox_entries_thread", "inbox_entries", ["thread_id"])

    sort_type = sa.String(120, collation="C") if postgres else sa.String(120)
    op.add_column("care_team_assignments", sa.Column("patient_sort", sort_type, server_default="", nullable=False))
    op.create_index("ix_care_team_assignments_member_sort", "care_team_assignments", ["member_id", "patient_sort", "patient_id"])
    op.create_index("ix_users_full_name_id", "users", ["full_name", "id"])
    op.create_index("ix_users_role_full_name_id", "users", ["role", "full_name", "id"])
    # No batch mode: on SQLite a table rebuild would drop the audit triggers.
    op.create_index("ix_audit_events_actor", "audit_events", ["actor_id"])
    op.create_index("ix_audit_events_acting_for", "audit_events", ["acting_for_patient_id"])

    # Fill the new derived data from what is there (the same code the app keeps it with).
    from app.messaging.workqueue import rebuild_with_connection

    rebuild_with_connection(op.get_bind())


def downgrade():
    op.drop_index("ix_audit_events_acting_for", table_name="audit_events")
    op.drop_index("ix_audit_events_actor", table_name="audit_events")
    op.drop_index("ix_users_role_full_name_id", table_name="users")
    op.drop_index("ix_users_full_name_id", table_name="users")
    op.drop_index("ix_care_team_assignments_member_sort", table_name="care_team_assignments")
    with op.batch_alter_table("care_team_assignments") as batch:
        batch.drop_column("patient_sort")
    op.drop_table("inbox_entries")
