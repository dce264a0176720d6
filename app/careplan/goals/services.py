"""Writes to goals: write, change, accept, decline, move along the lifecycle, check in.

The view validates its form and hands a `GoalInput`; the service applies it. Who acts comes
from the current actor (`g.actor`) unless given. Services add and flush only; the request
commits. Every change goes to "What changed" and the audit trail through `changes.record`,
and sends `goal_changed` (reminders follow the goal's status).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.careplan import changes
from app.careplan.goals.models import Goal, GoalAchievement, GoalCheckIn, GoalLifecycle
from app.careplan.goals.rules import (
    CHECK_IN_STATUSES,
    FINISHED_ACHIEVEMENTS,
    check_transition,
    computed_achievement,
    require_open,
    start_status,
)
from app.careplan.models import ChangeKind, ChangeSubject
from app.careplan.translations import services as translations
from app.core.db import utcnow
from app.core.errors import RuleError
from app.core.privacy import PATIENT_SIDE, Capacity, Sensitivity, current_actor
from app.core.signals import goal_changed
from app.extensions import db

L = GoalLifecycle
A = GoalAchievement

EDITABLE_FIELDS = (
    "description",
    "why_it_matters",
    "target_text",
    "target_value",
    "target_unit",
    "higher_is_better",
    "start_date",
    "due_date",
    "sensitivity",
)

KEEP = object()  # "leave the sensitivity as it is" (caregivers don't choose it)


@dataclass
class GoalInput:
    """What a goal form gives the services, already checked and cleaned."""

    description: str
    why_it_matters: str | None = None
    target_text: str | None = None
    target_value: float | None = None
    target_unit: str | None = None
    higher_is_better: bool | None = None
    start_date: date | None = None
    due_date: date | None = None
    sensitivity: Sensitivity | object | None = KEEP
    #: The language it is written in (None: `translations.default_language` for the writer).
    content_language: str | None = None


def _capacity(capacity: Capacity | None) -> Capacity:
    return Capacity(capacity) if capacity is not None else current_actor().capacity


def _actor_id(actor_id: int | None) -> int | None:
    return actor_id if actor_id is not None else current_actor().user_id


def _record(
    goal: Goal,
    change: ChangeKind,
    fields: list[str] | None = None,
    *,
    actor_id: int | None = None,
    capacity: Capacity | None = None,
) -> None:
    changes.record(
        patient_id=goal.patient_id,
        subject=ChangeSubject.GOAL,
        subject_id=goal.id,
        change=change,
        title=goal.description,
        fields=fields,
        actor_id=actor_id,
        capacity=capacity.value if capacity else None,
    )


def _apply(goal: Goal, data: GoalInput) -> list[str]:
    """Copy the form's values onto the goal; return the names of the fields that changed."""
    before = {name: getattr(goal, name) for name in EDITABLE_FIELDS}
    goal.description = data.description
    goal.why_it_matters = data.why_it_matters
    goal.target_text = data.target_text
    goal.target_value = data.target_value
    goal.target_unit = data.target_unit
    goal.higher_is_better = data.higher_is_better
    goal.start_date = data.start_date
    goal.due_date = data.due_date
    if data.sensitivity is not KEEP:
        goal.sensitivity = data.sensitivity  # type: ignore[assignment]
    return [name for name in EDITABLE_FIELDS if before[name] != getattr(goal, name)]


# ------------------------------------------------------------------ services


def create_goal(
    patient_id: int,
    data: GoalInput,
    *,
    today: date,
    actor_id: int | None = None,
    capacity: Capacity | None = None,
) -> Goal:
    """The patient side writes goals that start at once; the care team's start as proposals."""
    capacity = _capacity(capacity)
    actor_id = _actor_id(actor_id)
    goal = Goal(
        patient_id=patient_id, expressed_by_id=actor_id, expressed_by_capacity=capacity.value
    )
    _apply(goal, data)
    goal.content_language = data.content_language or translations.default_language_for(
        patient_id, capacity
    )
    if capacity in PATIENT_SIDE:
        goal.lifecycle_status = start_status(goal.start_date, today)
    else:
        goal.lifecycle_status = L.PROPOSED
    goal.achievement_status = A.IN_PROGRESS if goal.lifecycle_status is L.ACTIVE else None
    db.session.add(goal)
    db.session.flush()
    _record(goal, ChangeKind.ADDED, actor_id=actor_id, capacity=capacity)
    goal_changed.send(goal, fields=[])
    return goal


def edit_goal(goal: Goal, data: GoalInput, *, capacity: Capacity | None = None) -> list[str]:
    """Change what the goal says. Returns the names of the fields that changed."""
    capacity = _capacity(capacity)
    require_open(goal)
    if goal.lifecycle_status is L.PROPOSED and capacity in PATIENT_SIDE:
        raise RuleError(_("Please say yes or no to this suggested goal first."))
    changed = _apply(goal, data)
    if changed:
        db.session.flush()
        _record(goal, ChangeKind.CHANGED, changed, capacity=capacity)
        goal_changed.send(goal, fields=changed)
    return changed


def accept_goal(
    goal: Goal, *, today: date, data: GoalInput | None = None, capacity: Capacity | None = None
) -> list[str]:
    """The patient side says yes to a proposed goal, as it is or with their own changes."""
    capacity = _capacity(capacity)
    target = start_status(data.start_date if data else goal.start_date, today)
    check_transition(goal, target, capacity)
    changed = _apply(goal, data) if data is not None else []
    changed += _move(goal, target)
    db.session.flush()
    _record(goal, ChangeKind.CHANGED, changed, capacity=capacity)
    goal_changed.send(goal, fields=changed)
    return changed


def decline_goal(goal: Goal, reason: str | None, *, capacity: Capacity | None = None) -> None:
    """The patient side says no to a proposed goal, and tells the team why."""
    set_status(goal, L.REJECTED, reason=reason, capacity=capacity)


def set_status(
    goal: Goal,
    target: GoalLifecycle,
    *,
    today: date | None = None,
    achievement: GoalAchievement | None = None,
    reason: str | None = None,
    capacity: Capacity | None = None,
) -> list[str]:
    """Move a goal along its lifecycle, following TRANSITIONS and who may do what."""
    capacity = _capacity(capacity)
    if goal.lifecycle_status is L.PROPOSED and target in (L.ACCEPTED, L.ACTIVE):
        return accept_goal(goal, today=today or utcnow().date(), capacity=capacity)
    check_transition(goal, target, capacity)
    reason = (reason or "").strip() or None
    if target is L.REJECTED and not reason:
        raise RuleError(_("Please tell your care team why you are saying no."), status=422)
    if target is L.COMPLETED and achievement not in FINISHED_ACHIEVEMENTS:
        raise RuleError(_("To finish a goal, say if you reached it or not."), status=422)
    changed = _move(goal, target)
    if target is L.COMPLETED and goal.achievement_status is not achievement:
        goal.achievement_status = achievement
        changed.append("achievement_status")
    if target in (L.REJECTED, L.CANCELLED, L.ON_HOLD):
        if goal.status_reason != reason:
            goal.status_reason = reason
            changed.append("status_reason")
    elif goal.status_reason is not None:
        goal.status_reason = None
        changed.append("status_reason")
    db.session.flush()
    kind = {
        L.COMPLETED: ChangeKind.COMPLETED,
        L.CANCELLED: ChangeKind.STOPPED,
        L.REJECTED: ChangeKind.STOPPED,
    }.get(target, ChangeKind.CHANGED)
    _record(goal, kind, changed, capacity=capacity)
    goal_changed.send(goal, fields=changed)
    return changed


def _move(goal: Goal, target: GoalLifecycle) -> list[str]:
    changed = ["lifecycle_status"]
    goal.lifecycle_status = target
    if target is L.ACTIVE and goal.achievement_status is None:
        goal.achievement_status = A.IN_PROGRESS
        changed.append("achievement_status")
    return changed


def add_check_in(
    goal: Goal,
    *,
    value: float | None = None,
    note: str | None = None,
    achievement: GoalAchievement | None = None,
    actor_id: int | None = None,
    capacity: Capacity | None = None,
    recorded_at: datetime | None = None,
) -> GoalCheckIn:
    """Record progress: an optional number and a note. Without an achievement given, a number
    compared with the one before tells whether things are improving or worsening."""
    capacity = _capacity(capacity)
    actor_id = _actor_id(actor_id)
    if goal.lifecycle_status not in CHECK_IN_STATUSES:
        raise RuleError(_("You can check in only on a goal that someone is working on."))
    note = (note or "").strip() or None
    if value is None and note is None and achievement is None:
        raise RuleError(_("Add a number or a short note."), status=422)
    if achievement is None and value is not None:
        previous = db.session.scalar(
            sa.select(GoalCheckIn.value)
            .where(GoalCheckIn.goal_id == goal.id, GoalCheckIn.value.is_not(None))
            .order_by(GoalCheckIn.recorded_at.desc(), GoalCheckIn.id.desc())
            .limit(1)
        )
        achievement = computed_achievement(goal, previous, value)
    row = GoalCheckIn(
        goal_id=goal.id,
        value=value,
        note=note,
        achievement_status=achievement,
        recorded_by_id=actor_id,
        capacity=capacity.value,
        recorded_at=recorded_at or utcnow(),
    )
    db.session.add(row)
    fields = ["check_in"]
    if achievement is not None and goal.achievement_status is not achievement:
        goal.achievement_status = achievement
        fields.append("achievement_status")
    db.session.flush()
    _record(goal, ChangeKind.CHANGED, fields, actor_id=actor_id, capacity=capacity)
    return row
