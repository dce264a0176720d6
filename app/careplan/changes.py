"""Record what changed in the plan, for the patient's "What changed" page.

Every service that adds, changes or stops a plan item, goal or decision calls `record`, in the
same transaction as the change, alongside the audit event.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, has_request_context

from app.careplan.models import ChangeKind, ChangeSubject, PlanChange, Sensitivity
from app.core import audit
from app.extensions import db

AUDIT_RESOURCES = {
    ChangeSubject.ITEM: "careplan.item",
    ChangeSubject.GOAL: "careplan.goal",
    ChangeSubject.DECISION: "careplan.decision",
}

AUDIT_ACTIONS = {
    ChangeKind.ADDED: "create",
    ChangeKind.CHANGED: "update",
    ChangeKind.STOPPED: "update",
    ChangeKind.COMPLETED: "update",
}


def record(
    *,
    patient_id: int,
    subject: ChangeSubject,
    subject_id: int,
    change: ChangeKind,
    title: str,
    sensitivity: Sensitivity | None = None,
    fields: list[str] | None = None,
    actor_id: int | None = None,
    capacity: str | None = None,
) -> PlanChange:
    if has_request_context():
        actor_id = actor_id if actor_id is not None else g.get("audit_actor_id")
        capacity = capacity or g.get("audit_capacity")
    row = PlanChange(
        patient_id=patient_id,
        subject=subject,
        subject_id=subject_id,
        change=change,
        title=title[:200],
        sensitivity=sensitivity,
        fields=sorted(fields) if fields else None,
        actor_id=actor_id,
        capacity=capacity or "system",
    )
    db.session.add(row)
    audit.record(
        action=AUDIT_ACTIONS[change],
        resource=AUDIT_RESOURCES[subject],
        resource_id=subject_id,
        patient_id=patient_id,
        actor_id=actor_id,
        capacity=capacity,
    )
    return row


def hidden_categories() -> frozenset[str]:
    """What the current viewer may not see for the patient in `g` (set by patient_route)."""
    return g.get("hidden_categories", frozenset()) if has_request_context() else frozenset()


def visible(column, hidden: frozenset[str]):
    """A SQL condition keeping rows whose sensitivity the viewer may see."""
    if not hidden:
        return sa.true()
    return column.is_(None) | column.not_in([Sensitivity(h) for h in hidden])
