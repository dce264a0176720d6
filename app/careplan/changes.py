"""What changed in the plan, for the patient's "What changed" page.

Every service that adds, changes or stops a plan item, goal or decision calls `record`, in the
same transaction as the change, alongside the audit event. The change log is read with the
viewer's hidden categories, like everything else in the plan.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.careplan.models import ChangeKind, ChangeSubject, PlanChange, PlanVisit
from app.core import audit
from app.core.db import utcnow
from app.core.privacy import current_actor, visible
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

PER_PAGE = 30


def record(
    *,
    patient_id: int,
    subject: ChangeSubject,
    subject_id: int,
    change: ChangeKind,
    title: str,
    fields: list[str] | None = None,
    actor_id: int | None = None,
    capacity: str | None = None,
) -> PlanChange:
    """Add a "What changed" row and its audit event. Who did it defaults to the current
    actor (`g.actor`, or the system in a job)."""
    actor = current_actor()
    actor_id = actor_id if actor_id is not None else actor.user_id
    capacity = capacity or actor.capacity.value
    row = PlanChange(
        patient_id=patient_id,
        subject=subject,
        subject_id=subject_id,
        change=change,
        title=title[:200],
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


# ------------------------------------------------------------------ reading


def last_visit(user_id: int, patient_id: int) -> PlanVisit | None:
    return db.session.scalar(
        sa.select(PlanVisit).where(PlanVisit.user_id == user_id, PlanVisit.patient_id == patient_id)
    )


def recent(patient_id: int, hidden: frozenset[str], page: int, per_page: int = PER_PAGE):
    """One page of the change log the viewer may see, newest first, and how many there are."""
    conditions = [PlanChange.patient_id == patient_id, visible(PlanChange.sensitivity, hidden)]
    total = db.session.scalar(sa.select(sa.func.count(PlanChange.id)).where(*conditions))
    rows = list(
        db.session.scalars(
            sa.select(PlanChange)
            .where(*conditions)
            .options(joinedload(PlanChange.actor))
            .order_by(PlanChange.occurred_at.desc(), PlanChange.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return rows, total


def by_someone_else(viewer_id: int | None):
    """Changes not made by the viewer: their own edits are never news to them."""
    if viewer_id is None:
        return sa.true()
    return sa.or_(PlanChange.actor_id.is_(None), PlanChange.actor_id != viewer_id)


def is_new(change: PlanChange, since: datetime | None, viewer_id: int | None) -> bool:
    """Marked "New" for this viewer: made by someone else since they last looked."""
    if viewer_id is not None and change.actor_id == viewer_id:
        return False
    return since is None or change.occurred_at > since


def count_new(
    patient_id: int,
    hidden: frozenset[str],
    since: datetime | None,
    viewer_id: int | None = None,
) -> int:
    """How many changes the viewer may see that are new to them (`is_new`). The viewer is the
    current actor unless given."""
    if viewer_id is None:
        viewer_id = current_actor().user_id
    conditions = [
        PlanChange.patient_id == patient_id,
        visible(PlanChange.sensitivity, hidden),
        by_someone_else(viewer_id),
    ]
    if since is not None:
        conditions.append(PlanChange.occurred_at > since)
    return db.session.scalar(sa.select(sa.func.count(PlanChange.id)).where(*conditions)) or 0


def mark_seen(user_id: int, patient_id: int) -> None:
    visit = last_visit(user_id, patient_id)
    if visit is None:
        db.session.add(PlanVisit(user_id=user_id, patient_id=patient_id, seen_at=utcnow()))
    else:
        visit.seen_at = utcnow()
