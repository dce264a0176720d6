"""Goals in the patient's care plan (FHIR Goal): services, queries and the trend chart.

Patients (and caregivers with the "goals" scope) write goals in their own words; the care team
may propose goals, which only the patient side can accept or decline. Check-ins record progress.

Services add and flush only; the request commits. Every change goes to "What changed" and the
audit trail through `changes.record`. Rules that the user broke raise `GoalRuleError` with a
translated message the view shows as it is.

Queries load everything a page shows up front (relationships are lazy="raise"), so each page
runs a fixed number of queries whatever the number of goals and check-ins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from babel.numbers import NumberFormatError, parse_decimal
from flask import g, has_request_context
from flask_babel import format_date, format_decimal, get_locale, lazy_pgettext, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.careplan import changes
from app.careplan.models import (
    ChangeKind,
    ChangeSubject,
    Goal,
    GoalAchievement,
    GoalCheckIn,
    GoalLifecycle,
    Sensitivity,
)
from app.core.access import Capacity
from app.core.db import utcnow
from app.extensions import db

L = GoalLifecycle
A = GoalAchievement


class GoalRuleError(Exception):
    """A change the goal rules do not allow; the message is shown to the user as it is."""


# ------------------------------------------------------------------ labels

LIFECYCLE_LABELS = {
    L.PROPOSED: _l("Suggested"),
    L.ACCEPTED: _l("Agreed, not started yet"),
    L.ACTIVE: _l("Working on it"),
    L.ON_HOLD: lazy_pgettext("goal status", "On hold"),
    L.COMPLETED: lazy_pgettext("goal status", "Finished"),
    L.CANCELLED: lazy_pgettext("goal status", "Stopped"),
    L.REJECTED: lazy_pgettext("goal status", "Said no"),
}

ACHIEVEMENT_LABELS = {
    A.IN_PROGRESS: _l("In progress"),
    A.IMPROVING: _l("Getting better"),
    A.WORSENING: _l("Getting harder"),
    A.ACHIEVED: _l("Reached"),
    A.NOT_ACHIEVED: _l("Not reached"),
}

CAPACITY_LABELS = {
    Capacity.PATIENT.value: _l("patient"),
    Capacity.CAREGIVER.value: _l("caregiver"),
    Capacity.CARE_TEAM.value: _l("care team"),
}

# ------------------------------------------------------------------ rules

#: Where each lifecycle status may go next. Everything else is refused.
TRANSITIONS: dict[GoalLifecycle, frozenset[GoalLifecycle]] = {
    L.PROPOSED: frozenset({L.ACCEPTED, L.ACTIVE, L.REJECTED, L.CANCELLED}),
    L.ACCEPTED: frozenset({L.ACTIVE, L.ON_HOLD, L.CANCELLED}),
    L.ACTIVE: frozenset({L.ON_HOLD, L.COMPLETED, L.CANCELLED}),
    L.ON_HOLD: frozenset({L.ACTIVE, L.CANCELLED}),
    L.COMPLETED: frozenset(),
    L.CANCELLED: frozenset(),
    L.REJECTED: frozenset(),
}

FINAL = frozenset({L.COMPLETED, L.CANCELLED, L.REJECTED})
#: Goals someone is (or soon will be) working on.
CURRENT = frozenset({L.ACCEPTED, L.ACTIVE, L.ON_HOLD})
#: Check-ins are only for goals someone is working on.
CHECK_IN_STATUSES = CURRENT
#: Only the patient side answers a proposed goal; only the team withdraws its proposal.
PATIENT_SIDE = frozenset({Capacity.PATIENT, Capacity.CAREGIVER})
PATIENT_SIDE_ONLY = frozenset(
    {(L.PROPOSED, L.ACCEPTED), (L.PROPOSED, L.ACTIVE), (L.PROPOSED, L.REJECTED)}
)
TEAM_ONLY = frozenset({(L.PROPOSED, L.CANCELLED)})
FINISHED_ACHIEVEMENTS = frozenset({A.ACHIEVED, A.NOT_ACHIEVED})

#: Fields compared to tell what an edit changed.
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

#: How many check-ins the detail page loads, lists and charts.
CHECK_IN_LOAD = 60
CHECK_IN_LIST = 20
CHART_POINTS = 30

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


def _capacity(capacity: Capacity | None) -> Capacity:
    found = capacity or (g.get("capacity") if has_request_context() else None)
    if found is None:
        raise RuntimeError("goal services need the actor's capacity")
    return Capacity(found)


def _actor_id(actor_id: int | None) -> int | None:
    if actor_id is not None:
        return actor_id
    return g.get("audit_actor_id") if has_request_context() else None


def is_patient_side(capacity: Capacity | None = None) -> bool:
    return _capacity(capacity) in PATIENT_SIDE


def _start_status(start_date: date | None, today: date) -> GoalLifecycle:
    """Agreed goals are active at once, unless they are set to start later."""
    return L.ACCEPTED if start_date is not None and start_date > today else L.ACTIVE


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
        sensitivity=goal.sensitivity,
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
    if capacity in PATIENT_SIDE:
        goal.lifecycle_status = _start_status(goal.start_date, today)
    else:
        goal.lifecycle_status = L.PROPOSED
    goal.achievement_status = A.IN_PROGRESS if goal.lifecycle_status is L.ACTIVE else None
    db.session.add(goal)
    db.session.flush()
    _record(goal, ChangeKind.ADDED, actor_id=actor_id, capacity=capacity)
    return goal


def edit_goal(goal: Goal, data: GoalInput, *, capacity: Capacity | None = None) -> list[str]:
    """Change what the goal says. Returns the names of the fields that changed."""
    capacity = _capacity(capacity)
    if goal.lifecycle_status in FINAL:
        raise GoalRuleError(
            _("This goal is closed, so it can't be changed. You can add a new goal instead.")
        )
    if goal.lifecycle_status is L.PROPOSED and capacity in PATIENT_SIDE:
        raise GoalRuleError(_("Please say yes or no to this suggested goal first."))
    changed = _apply(goal, data)
    if changed:
        db.session.flush()
        _record(goal, ChangeKind.CHANGED, changed, capacity=capacity)
    return changed


def accept_goal(
    goal: Goal, *, today: date, data: GoalInput | None = None, capacity: Capacity | None = None
) -> list[str]:
    """The patient side says yes to a proposed goal, as it is or with their own changes."""
    capacity = _capacity(capacity)
    target = _start_status(data.start_date if data else goal.start_date, today)
    check_transition(goal, target, capacity)
    changed = _apply(goal, data) if data is not None else []
    changed += _move(goal, target)
    db.session.flush()
    _record(goal, ChangeKind.CHANGED, changed, capacity=capacity)
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
        raise GoalRuleError(_("Please tell your care team why you are saying no."))
    if target is L.COMPLETED and achievement not in FINISHED_ACHIEVEMENTS:
        raise GoalRuleError(_("To finish a goal, say if you reached it or not."))
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
    return changed


def _move(goal: Goal, target: GoalLifecycle) -> list[str]:
    changed = ["lifecycle_status"]
    goal.lifecycle_status = target
    if target is L.ACTIVE and goal.achievement_status is None:
        goal.achievement_status = A.IN_PROGRESS
        changed.append("achievement_status")
    return changed


def check_transition(goal: Goal, target: GoalLifecycle, capacity: Capacity) -> None:
    """Raise GoalRuleError, in plain words, unless this user may make this move now."""
    current = goal.lifecycle_status
    if current in FINAL:
        raise GoalRuleError(
            _("This goal is closed, so it can't be changed. You can add a new goal instead.")
        )
    if target is current:
        raise GoalRuleError(
            _('This goal is already "%(status)s".', status=LIFECYCLE_LABELS[target])
        )
    if target not in TRANSITIONS[current]:
        raise GoalRuleError(
            _(
                'A goal that is "%(current)s" can\'t be changed to "%(new)s".',
                current=LIFECYCLE_LABELS[current],
                new=LIFECYCLE_LABELS[target],
            )
        )
    if (current, target) in PATIENT_SIDE_ONLY and capacity not in PATIENT_SIDE:
        raise GoalRuleError(
            _("Only the patient or their caregiver can say yes or no to a suggested goal.")
        )
    if (current, target) in TEAM_ONLY and capacity in PATIENT_SIDE:
        raise GoalRuleError(
            _('To turn down a suggested goal, choose "Say no" and tell your care team why.')
        )


def next_steps(goal: Goal, capacity: Capacity | None = None) -> list[GoalLifecycle]:
    """The moves this user may make now, for the buttons on the goal page."""
    capacity = _capacity(capacity)
    allowed = []
    for target in sorted(TRANSITIONS[goal.lifecycle_status], key=list(L).index):
        try:
            check_transition(goal, target, capacity)
        except GoalRuleError:
            continue
        allowed.append(target)
    return allowed


def computed_achievement(
    goal: Goal, previous: float | None, value: float | None
) -> GoalAchievement | None:
    """Improving or worsening from the last two numbers, when the goal says which way is
    better; None when there is nothing to compare (or the number did not move)."""
    if goal.higher_is_better is None or previous is None or value is None or value == previous:
        return None
    went_up = value > previous
    return A.IMPROVING if went_up == goal.higher_is_better else A.WORSENING


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
        raise GoalRuleError(_("You can check in only on a goal that someone is working on."))
    note = (note or "").strip() or None
    if value is None and note is None and achievement is None:
        raise GoalRuleError(_("Add a number or a short note."))
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


# ------------------------------------------------------------------ numbers


_NUMBER_SHAPE = re.compile(r"^[+-]?[0-9.,]*[0-9][0-9.,]*$")


def parse_number(raw: str | None) -> float | None:
    """A number typed the way people type it in their language: "6,200" and "7.5" in English,
    "6.200" and "7,5" in Spanish. A single separator that can't be grouping is a decimal mark.
    Raises ValueError when it is not a number."""
    text = (raw or "").strip().replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if not text:
        return None
    if not _NUMBER_SHAPE.match(text):
        raise ValueError(text)
    try:
        number = parse_decimal(text, locale=str(get_locale() or "en"), strict=True)
    except NumberFormatError:
        if text.count(",") + text.count(".") > 1:
            raise ValueError(text) from None
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise ValueError(text) from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 9:
        raise ValueError(text)
    return float(number)


def format_number(value: float | None) -> str:
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##")


def format_amount(value: float | None, unit: str | None) -> str:
    """A number with its unit, e.g. "6,200 steps"."""
    if value is None:
        return ""
    if not unit:
        return format_number(value)
    return _("%(number)s %(unit)s", number=format_number(value), unit=unit)


# ------------------------------------------------------------------ queries


@dataclass
class GoalList:
    #: Proposed goals waiting for the patient's answer.
    proposed: list[Goal] = field(default_factory=list)
    #: Accepted, active and on-hold goals.
    current: list[Goal] = field(default_factory=list)
    #: Completed, cancelled and declined goals.
    closed: list[Goal] = field(default_factory=list)
    #: The latest check-in of each goal that has one, by goal id.
    latest: dict[int, GoalCheckIn] = field(default_factory=dict)


_CURRENT_ORDER = {L.ACTIVE: 0, L.ACCEPTED: 1, L.ON_HOLD: 2}


def _current_key(goal: Goal):
    return (
        _CURRENT_ORDER.get(goal.lifecycle_status, 9),
        goal.due_date is None,
        goal.due_date or date.max,
        goal.id,
    )


def _visible_goals(patient_id: int, hidden: frozenset[str]):
    return sa.select(Goal).where(
        Goal.patient_id == patient_id, changes.visible(Goal.sensitivity, hidden)
    )


def goal_list(patient_id: int, hidden: frozenset[str]) -> GoalList:
    """Every goal of the patient the viewer may see, grouped for the list page (two queries)."""
    rows = list(
        db.session.scalars(
            _visible_goals(patient_id, hidden)
            .options(joinedload(Goal.expressed_by))
            .order_by(Goal.id)
        )
    )
    out = GoalList()
    for goal in rows:
        if goal.lifecycle_status is L.PROPOSED:
            out.proposed.append(goal)
        elif goal.lifecycle_status in CURRENT:
            out.current.append(goal)
        else:
            out.closed.append(goal)
    out.proposed.sort(key=lambda goal: goal.id, reverse=True)
    out.current.sort(key=_current_key)
    out.closed.sort(key=lambda goal: (goal.updated_at, goal.id), reverse=True)
    if rows:
        out.latest = latest_check_ins([goal.id for goal in rows])
    return out


def latest_check_ins(goal_ids: list[int]) -> dict[int, GoalCheckIn]:
    """The most recent check-in of each goal, in one query."""
    ranked = (
        sa.select(
            GoalCheckIn.id,
            sa.func.row_number()
            .over(
                partition_by=GoalCheckIn.goal_id,
                order_by=(GoalCheckIn.recorded_at.desc(), GoalCheckIn.id.desc()),
            )
            .label("position"),
        )
        .where(GoalCheckIn.goal_id.in_(goal_ids))
        .subquery()
    )
    found = db.session.scalars(
        sa.select(GoalCheckIn)
        .join(ranked, ranked.c.id == GoalCheckIn.id)
        .where(ranked.c.position == 1)
    )
    return {row.goal_id: row for row in found}


def summary_goals(patient_id: int, hidden: frozenset[str]) -> list[Goal]:
    """Current goals for the patient summary page: proposals waiting for an answer first, then
    active, agreed and on-hold goals. One query; no relationships are loaded."""
    rows = db.session.scalars(
        _visible_goals(patient_id, hidden)
        .where(Goal.lifecycle_status.in_([L.PROPOSED, *CURRENT]))
        .order_by(Goal.id)
    )
    return sorted(
        rows, key=lambda goal: (goal.lifecycle_status is not L.PROPOSED, *_current_key(goal))
    )


def goal_for(patient_id: int, goal_id: int, hidden: frozenset[str]) -> Goal | None:
    """One goal of this patient the viewer may see; None otherwise (the caller answers 404)."""
    return db.session.scalars(
        _visible_goals(patient_id, hidden)
        .where(Goal.id == goal_id)
        .options(joinedload(Goal.expressed_by))
    ).first()


def recent_check_ins(goal_id: int, limit: int = CHECK_IN_LOAD) -> list[GoalCheckIn]:
    """The goal's latest check-ins, newest first, with who recorded them (one query)."""
    return list(
        db.session.scalars(
            sa.select(GoalCheckIn)
            .where(GoalCheckIn.goal_id == goal_id)
            .options(joinedload(GoalCheckIn.recorded_by))
            .order_by(GoalCheckIn.recorded_at.desc(), GoalCheckIn.id.desc())
            .limit(limit)
        )
    )


# ------------------------------------------------------------------ trend chart


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: str
    when: str


@dataclass(frozen=True)
class TrendChart:
    """An inline SVG line chart, in viewBox units, with its text alternative."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    points: list[ChartPoint]
    line: str
    target_y: float | None
    target_label: str | None
    #: The highest and lowest numbers, as (y, text), for the axis.
    y_labels: list[tuple[float, str]]
    first_when: str
    last_when: str
    summary: str


def trend_chart(
    goal: Goal, check_ins: list[GoalCheckIn], *, width: int = 320, height: int = 180
) -> TrendChart | None:
    """Chart the numbers of the latest check-ins (oldest to newest); None with no numbers."""
    numbered = [c for c in check_ins if c.value is not None]
    numbered.sort(key=lambda c: (c.recorded_at, c.id))
    numbered = numbered[-CHART_POINTS:]
    if not numbered:
        return None
    left, right, top, bottom = 56, width - 12, 16, height - 28
    values = [c.value for c in numbered]
    scale = [*values, goal.target_value] if goal.target_value is not None else values
    low, high = min(scale), max(scale)
    pad = (high - low) * 0.12 or (abs(high) * 0.1 or 1.0)
    low, high = low - pad, high + pad
    if min(scale) >= 0 > low:
        low = 0.0

    def y_of(value: float) -> float:
        return round(bottom - (value - low) / (high - low) * (bottom - top), 1)

    start = numbered[0].recorded_at.timestamp()
    span = numbered[-1].recorded_at.timestamp() - start
    points = []
    for index, row in enumerate(numbered):
        if span > 0:
            share = (row.recorded_at.timestamp() - start) / span
        else:
            share = 0.5 if len(numbered) == 1 else index / (len(numbered) - 1)
        points.append(
            ChartPoint(
                x=round(left + share * (right - left), 1),
                y=y_of(row.value),
                value=format_amount(row.value, goal.target_unit),
                when=format_date(row.recorded_at, "medium"),
            )
        )
    y_labels = [(y_of(max(values)), format_number(max(values)))]
    if y_of(min(values)) - y_labels[0][0] >= 14:  # room for a second label
        y_labels.append((y_of(min(values)), format_number(min(values))))
    target = goal.target_value
    first, last = points[0], points[-1]
    summary = ngettext(
        "%(num)d check-in with a number: %(first)s on %(first_when)s.",
        "%(num)d check-ins with a number, from %(first)s on %(first_when)s "
        "to %(last)s on %(last_when)s.",
        len(points),
        first=first.value,
        first_when=first.when,
        last=last.value,
        last_when=last.when,
    )
    if target is not None:
        summary += " " + _(
            "The target is %(target)s.", target=format_amount(target, goal.target_unit)
        )
    return TrendChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        points=points,
        line=" ".join(f"{p.x},{p.y}" for p in points),
        target_y=y_of(target) if target is not None else None,
        target_label=format_amount(target, goal.target_unit) if target is not None else None,
        y_labels=y_labels,
        first_when=format_date(numbered[0].recorded_at, "short"),
        last_when=format_date(numbered[-1].recorded_at, "short"),
        summary=summary,
    )
