"""The audit trail: who saw or changed which patient's data, for whom, when, from where.

Rows are append-only: the ORM refuses updates and deletes, and database triggers (created by the
migration and by `create_all`) refuse them too, on SQLite and PostgreSQL.

Events are collected during the request and written by the request hooks in `app.core.uow`:
with the request's changes when it succeeds; when it fails, only its "view" events are written,
so a refused or invalid request leaves its "who looked" trace and never claims a change that
was rolled back.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import g, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import utcnow
from app.core.privacy import Capacity, current_actor
from app.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_patient_time", "patient_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The user who acted; NULL for the system (scheduled jobs).
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    #: In which capacity: patient, caregiver, care_team, admin or system.
    capacity: Mapped[str] = mapped_column(sa.String(16))
    #: The patient a caregiver was acting for (NULL when acting in one's own right).
    acting_for_patient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="RESTRICT")
    )
    #: Whose data it was.
    patient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="RESTRICT")
    )
    #: view, create, update, delete, or a verb such as login, invite, revoke.
    action: Mapped[str] = mapped_column(sa.String(24))
    #: What was touched, e.g. "patient.summary" or "careplan.item".
    resource: Mapped[str] = mapped_column(sa.String(64))
    resource_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: The HTTP endpoint (never the URL: no query strings, no tokens).
    endpoint: Mapped[str | None] = mapped_column(sa.String(96))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise PermissionError("audit events are append-only")


APPEND_ONLY_DDL = {
    "sqlite": [
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'audit_events is append-only'; END $$",
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    ],
}


@event.listens_for(AuditEvent.__table__, "after_create")
def _install_triggers(target, connection, **kw):
    for statement in APPEND_ONLY_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


def client_ip() -> str | None:
    if not has_request_context():
        return None
    return request.remote_addr


def record(
    *,
    action: str,
    resource: str,
    patient_id: int | None,
    actor_id: int | None = None,
    capacity: str | None = None,
    acting_for_patient_id: int | None = None,
    resource_id: object | None = None,
) -> dict:
    """Record that someone saw or changed a patient's data.

    Actor and capacity default to the current actor (`g.actor`, set by `patient_route`; the
    system in a job). In a request the event waits for the request hook, which writes it with
    the request's changes, or alone if the request failed. Outside a request (a CLI job) the
    row is added to the session at once, so it commits with the job's work and cannot be lost.
    """
    actor = current_actor()
    actor_id = actor_id if actor_id is not None else actor.user_id
    capacity = str(capacity or actor.capacity.value)
    if acting_for_patient_id is None and capacity == Capacity.CAREGIVER.value:
        acting_for_patient_id = patient_id
    values = {
        "occurred_at": utcnow(),
        "actor_id": actor_id,
        "capacity": capacity,
        "acting_for_patient_id": acting_for_patient_id,
        "patient_id": patient_id,
        "action": action,
        "resource": resource,
        "resource_id": None if resource_id is None else str(resource_id),
        "endpoint": request.endpoint if has_request_context() else None,
        "ip_address": client_ip(),
    }
    if has_request_context():
        g.setdefault("pending_audit", []).append(values)
    else:
        db.session.add(AuditEvent(**values))
    return values


def pending_events() -> list[dict]:
    return g.get("pending_audit", []) if has_request_context() else []


def write(session, events: list[dict]) -> None:
    """One multi-row INSERT for the request's events, however many pages of data it showed."""
    if events:
        session.execute(sa.insert(AuditEvent), events)


# ------------------------------------------------------------------ how events read

#: What each audit resource is, in the patient's words ("Who has seen my record"). Each domain
#: registers its own resources from its labels module.
RESOURCE_LABELS: dict[str, object] = {}
#: What was done; core knows view, create and update, domains add their own verbs.
ACTION_LABELS: dict[str, object] = {
    "view": _l("Looked at"),
    "update": _l("Changed"),
    "create": _l("Added"),
}
CAPACITY_LABELS = {
    Capacity.PATIENT.value: _l("You"),
    Capacity.CAREGIVER.value: _l("Caregiver"),
    Capacity.CARE_TEAM.value: _l("Care team"),
    Capacity.ADMIN.value: _l("CareCircle administrator"),
    Capacity.SYSTEM.value: _l("CareCircle system"),
}


def register_labels(*, resources: dict | None = None, actions: dict | None = None) -> None:
    """Called by each domain's `init_app` with the resources and verbs it records."""
    RESOURCE_LABELS.update(resources or {})
    ACTION_LABELS.update(actions or {})
