"""Reads for the goal pages. Everything a page shows is loaded up front (relationships are
lazy="raise"), so each page runs a fixed number of queries whatever the number of goals and
check-ins; every query keeps out the categories hidden from the viewer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.careplan.goals.models import Goal, GoalCheckIn, GoalLifecycle
from app.careplan.goals.rules import CURRENT
from app.core.privacy import visible
from app.extensions import db

L = GoalLifecycle

#: How many check-ins the detail page loads, lists and charts.
CHECK_IN_LOAD = 60
CHECK_IN_LIST = 20


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
    return sa.select(Goal).where(Goal.patient_id == patient_id, visible(Goal.sensitivity, hidden))


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
