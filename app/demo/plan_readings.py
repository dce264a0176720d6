"""Demo data for issue 15, readings: James's "Weigh yourself every morning" asks for his weight
in kg, feeds his goal "Keep my weight steady", and carries the team's rule (up 2 kg within 3
days). Two weeks of readings (not today's: that one is for the demo walk), the last of them a
rise the team's inbox shows as one open flag.

Idempotent: a task that already asks for a number is left alone. Adds and flushes only.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from app.careplan.goals.models import Goal, GoalAchievement, GoalCheckIn, GoalLifecycle
from app.careplan.items.models import PlanItem, ReadingKind, TaskCompletion
from app.careplan.items.readings import (
    AlertStatus,
    Reading,
    ReadingAlert,
    ReadingInput,
    broken_rules,
)
from app.core.privacy import Capacity
from app.demo.accounts import Demo
from app.extensions import db

TASK_TITLE = "Weigh yourself every morning"

#: Kilograms, oldest first, ending yesterday: steady, then up 2.2 kg within 3 days.
WEIGHTS = [83.8, 84.0, 83.9, 83.7, 84.1, 83.9, 83.8, 84.0, 83.6, 83.9, 84.2, 83.9, 84.8, 86.1]


def seed(people: Demo) -> None:
    """Add the demo's readings data (idempotent; adds and flushes, the caller commits)."""
    james = people.patients.get("james")
    if james is None:
        return
    task = db.session.scalar(
        sa.select(PlanItem).where(PlanItem.patient_id == james.id, PlanItem.title == TASK_TITLE)
    )
    if task is None or task.reading_kind is not None:
        return
    today = james.today()
    goal = Goal(
        patient_id=james.id,
        description="Keep my weight steady",
        why_it_matters="Quick weight gain can mean fluid build-up. Weighing every morning "
        "helps my team catch it early.",
        target_text="Stay close to 84 kg",
        target_value=84.0,
        target_unit="kg",
        higher_is_better=False,
        start_date=today - timedelta(days=len(WEIGHTS) + 1),
        lifecycle_status=GoalLifecycle.ACTIVE,
        achievement_status=GoalAchievement.IN_PROGRESS,
        expressed_by_id=james.user_id,
        expressed_by_capacity=Capacity.PATIENT.value,
    )
    db.session.add(goal)
    db.session.flush()
    task.reading_kind = ReadingKind.WEIGHT
    task.reading_unit = "kg"
    task.goal_id = goal.id
    task.alert_rise = 2.0
    task.alert_rise_days = 3
    readings: list[Reading] = []
    for back, kilos in zip(range(len(WEIGHTS), 0, -1), WEIGHTS, strict=True):
        day = today - timedelta(days=back)
        at = datetime.combine(day, time(7, 30), tzinfo=james.zone)
        check_in = GoalCheckIn(
            goal_id=goal.id,
            value=kilos,
            recorded_by_id=james.user_id,
            capacity=Capacity.PATIENT.value,
            recorded_at=at,
        )
        db.session.add(check_in)
        db.session.flush()
        reading = Reading(
            patient_id=james.id,
            item_id=task.id,
            for_date=day,
            value=kilos,
            unit="kg",
            check_in_id=check_in.id,
            recorded_by_id=james.user_id,
            capacity=Capacity.PATIENT.value,
            recorded_at=at,
        )
        db.session.add(reading)
        db.session.add(
            TaskCompletion(
                item_id=task.id, for_date=day, completed_by_id=james.user_id, completed_at=at
            )
        )
        readings.append(reading)
    db.session.flush()
    last = readings[-1]
    window = [r.value for r in readings[-1 - task.alert_rise_days : -1]]
    data = ReadingInput(for_date=last.for_date, value=last.value)
    for rule, (threshold, change, days) in broken_rules(task, data, min(window)).items():
        db.session.add(
            ReadingAlert(
                patient_id=james.id,
                item_id=task.id,
                reading_id=last.id,
                rule=rule,
                for_date=last.for_date,
                value=last.value,
                unit="kg",
                threshold=threshold,
                change=change,
                days=days,
                status=AlertStatus.OPEN,
                created_at=last.recorded_at,
            )
        )
    db.session.flush()
