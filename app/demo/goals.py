"""Demo goals for `flask demo seed`: María's (in Spanish), James's and Leo's.

`seed` is idempotent per patient: a patient who already has any goal is left alone. It adds and
flushes only; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from app.careplan import changes
from app.careplan.goals.models import Goal, GoalAchievement, GoalCheckIn, GoalLifecycle
from app.careplan.goals.rules import computed_achievement
from app.careplan.models import ChangeKind, ChangeSubject
from app.core.db import utcnow
from app.core.privacy import Capacity, Sensitivity
from app.demo.accounts import Demo
from app.extensions import db


@dataclass
class CheckInSpec:
    weeks_ago: float
    value: float | None = None
    note: str | None = None
    achievement: GoalAchievement | None = None


@dataclass
class GoalSpec:
    description: str
    by: str  # key of `users`
    capacity: Capacity
    lifecycle: GoalLifecycle
    why_it_matters: str | None = None
    target_text: str | None = None
    target_value: float | None = None
    target_unit: str | None = None
    higher_is_better: bool | None = None
    due_in_days: int | None = None
    started_weeks_ago: float = 8
    sensitivity: Sensitivity | None = None
    achievement: GoalAchievement | None = None
    status_reason: str | None = None
    check_ins: list[CheckInSpec] = field(default_factory=list)


def _maria() -> list[GoalSpec]:
    return [
        GoalSpec(
            "Caminar 20 minutos después de la cena",
            by="maria",
            capacity=Capacity.PATIENT,
            lifecycle=GoalLifecycle.ACTIVE,
            why_it_matters="Quiero tener más energía y bajar mi azúcar. "
            "Y me gusta caminar con mi hija.",
            target_text="Caminar 20 minutos, 5 días a la semana",
            target_value=6000,
            target_unit="pasos",
            higher_is_better=True,
            due_in_days=60,
            started_weeks_ago=6,
            check_ins=[
                CheckInSpec(6, 3200, "Solo caminé 10 minutos. Me dolían los pies."),
                CheckInSpec(5, 4100, "Compré zapatos nuevos. Mucho mejor."),
                CheckInSpec(4, 3900, "Llovió casi toda la semana."),
                CheckInSpec(2.5, 5200, "Caminé con mi hija 4 días."),
                CheckInSpec(1, 5800, "¡Ya casi llego!"),
            ],
        ),
        GoalSpec(
            "Tomarme la presión en casa dos veces por semana",
            by="nurse",
            capacity=Capacity.CARE_TEAM,
            lifecycle=GoalLifecycle.PROPOSED,
            why_it_matters="Así su médico puede ver si la medicina de la presión le "
            "está funcionando.",
            target_text="Anotar la presión los lunes y los jueves por la mañana",
            due_in_days=45,
            started_weeks_ago=0.5,
        ),
        GoalSpec(
            "Tomar agua en vez de refresco en la comida",
            by="maria",
            capacity=Capacity.PATIENT,
            lifecycle=GoalLifecycle.COMPLETED,
            why_it_matters="El refresco me subía mucho el azúcar.",
            achievement=GoalAchievement.ACHIEVED,
            started_weeks_ago=14,
            check_ins=[
                CheckInSpec(12, note="Lo logré 4 de 7 días."),
                CheckInSpec(
                    9,
                    note="Ya no compro refresco para la casa.",
                    achievement=GoalAchievement.ACHIEVED,
                ),
            ],
        ),
    ]


def _james() -> list[GoalSpec]:
    return [
        GoalSpec(
            "Get my A1c under 7",
            by="james",
            capacity=Capacity.PATIENT,
            lifecycle=GoalLifecycle.ACTIVE,
            why_it_matters="I want to keep my feet and my eyes healthy, and stay out of the "
            "hospital.",
            target_text="A1c below 7 at my next lab test",
            target_value=7.0,
            target_unit="%",
            higher_is_better=False,
            due_in_days=90,
            started_weeks_ago=16,
            check_ins=[
                CheckInSpec(15, 8.4, "First test after starting metformin."),
                CheckInSpec(11, 8.1, "Cut back on bread at dinner."),
                CheckInSpec(7, 8.3, "Holidays were hard."),
                CheckInSpec(3, 7.6, "Walking most days now. Ana helps me cook."),
            ],
        ),
        GoalSpec(
            "Check my feet every evening",
            by="doctor",
            capacity=Capacity.CARE_TEAM,
            lifecycle=GoalLifecycle.PROPOSED,
            why_it_matters="High blood sugar can hurt the nerves in your feet. Small cuts can "
            "get worse without you noticing.",
            target_text="Look at both feet before bed and call us about any sore",
            due_in_days=30,
            started_weeks_ago=0.3,
        ),
        GoalSpec(
            "Call or visit a friend twice a week",
            by="james",
            capacity=Capacity.PATIENT,
            lifecycle=GoalLifecycle.ACTIVE,
            why_it_matters="Since my wife passed I stay home too much. Leah and I agreed "
            "that seeing people helps my mood.",
            target_text="Two calls or visits every week",
            target_value=2,
            target_unit="visits a week",
            higher_is_better=True,
            sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
            started_weeks_ago=5,
            check_ins=[
                CheckInSpec(4, 1, "Called my brother."),
                CheckInSpec(2, 2, "Coffee with Frank from church, and a call with my brother."),
            ],
        ),
    ]


def _leo() -> list[GoalSpec]:
    return [
        GoalSpec(
            "Brush my teeth for 2 minutes, morning and night",
            by="rosa",
            capacity=Capacity.CAREGIVER,
            lifecycle=GoalLifecycle.ACTIVE,
            why_it_matters="So my braces come off on time and I have no new cavities.",
            target_text="Brush twice a day, every day",
            target_value=14,
            target_unit="times a week",
            higher_is_better=True,
            due_in_days=120,
            started_weeks_ago=4,
            check_ins=[
                CheckInSpec(3, 9, "Forgot most nights."),
                CheckInSpec(2, 11, "Using a timer on my phone."),
                CheckInSpec(1, 13, "Only missed one night."),
            ],
        ),
    ]


def _has_goals(patient_id: int) -> bool:
    return (
        db.session.scalar(sa.select(Goal.id).where(Goal.patient_id == patient_id).limit(1))
        is not None
    )


def _create(patient_id: int, spec: GoalSpec, users: dict) -> None:
    now = utcnow()
    author = users[spec.by]
    created = now - timedelta(weeks=spec.started_weeks_ago)
    today: date = now.date()
    goal = Goal(
        patient_id=patient_id,
        description=spec.description,
        why_it_matters=spec.why_it_matters,
        target_text=spec.target_text,
        target_value=spec.target_value,
        target_unit=spec.target_unit,
        higher_is_better=spec.higher_is_better,
        start_date=created.date() if spec.lifecycle is not GoalLifecycle.PROPOSED else None,
        due_date=today + timedelta(days=spec.due_in_days) if spec.due_in_days else None,
        lifecycle_status=spec.lifecycle,
        achievement_status=spec.achievement
        or (GoalAchievement.IN_PROGRESS if spec.lifecycle is GoalLifecycle.ACTIVE else None),
        expressed_by_id=author.id,
        expressed_by_capacity=spec.capacity.value,
        status_reason=spec.status_reason,
        sensitivity=spec.sensitivity,
        created_at=created,
        updated_at=created,
    )
    db.session.add(goal)
    db.session.flush()
    change = changes.record(
        patient_id=patient_id,
        subject=ChangeSubject.GOAL,
        subject_id=goal.id,
        change=ChangeKind.ADDED,
        title=goal.description,
        actor_id=author.id,
        capacity=spec.capacity.value,
    )
    change.occurred_at = created
    previous: float | None = None
    for entry in spec.check_ins:
        achievement = entry.achievement or computed_achievement(goal, previous, entry.value)
        db.session.add(
            GoalCheckIn(
                goal_id=goal.id,
                value=entry.value,
                note=entry.note,
                achievement_status=achievement,
                recorded_by_id=author.id,
                capacity=spec.capacity.value,
                recorded_at=now - timedelta(weeks=entry.weeks_ago),
            )
        )
        if achievement is not None and spec.achievement is None:
            goal.achievement_status = achievement
        if entry.value is not None:
            previous = entry.value
    if spec.lifecycle is GoalLifecycle.COMPLETED:
        done = changes.record(
            patient_id=patient_id,
            subject=ChangeSubject.GOAL,
            subject_id=goal.id,
            change=ChangeKind.COMPLETED,
            title=goal.description,
            fields=["achievement_status", "lifecycle_status"],
            actor_id=author.id,
            capacity=spec.capacity.value,
        )
        done.occurred_at = now - timedelta(weeks=8)


def seed(demo: Demo) -> None:
    """Add the demo goals to María, James and Leo, unless they already have goals."""
    plans = {"maria": _maria, "james": _james, "leo": _leo}
    for key, make in plans.items():
        patient = demo.patients.get(key)
        if patient is None or _has_goals(patient.id):
            continue
        for spec in make():
            _create(patient.id, spec, demo.users)
    db.session.flush()
