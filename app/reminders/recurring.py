"""Medicine, task and goal check-in reminders at the times the patient chose.

A ReminderSchedule holds wall-clock times in the patient's time zone ("08:00") and, for weekly
things, the days. The planner (`plan_due`, run by the dispatcher each cycle and right after a
schedule is saved) turns the occurrences of the next REMINDER_PLAN_HOURS into outbox rows, one
per recipient, through scheduling.plan_text (unique keys, quiet hours, caps). A medicine or task
reminder that quiet hours would push more than REMINDER_MAX_DELAY_MINUTES late is dropped: a
08:00 pill reminder at noon helps no one. Only open items and goals being worked on count.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from app.careplan.goals.models import Goal, GoalLifecycle
from app.careplan.items.models import CLOSED_STATUSES, ItemKind, PlanItem, Schedule
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import Patient
from app.patients.queries import preferences
from app.reminders.models import ReminderSchedule
from app.reminders.recipients import Recipient, recipients_for
from app.reminders.scheduling import drop_waiting, plan_text, with_link
from app.texting import bodies
from app.texting.models import OutboundSms

#: Goals that a check-in reminder makes sense for.
GOALS_IN_PROGRESS = (GoalLifecycle.ACCEPTED, GoalLifecycle.ACTIVE)
#: Plan items that can have patient-chosen reminder times.
TIMED_KINDS = (ItemKind.MEDICATION, ItemKind.TASK)
#: One planner at a time on PostgreSQL (any number may try; the others skip the round).
PLANNER_LOCK = 4_211_977


def schedule_for_item(item_id: int) -> ReminderSchedule | None:
    return db.session.scalar(
        sa.select(ReminderSchedule).where(ReminderSchedule.plan_item_id == item_id)
    )


def schedule_for_goal(goal_id: int) -> ReminderSchedule | None:
    return db.session.scalar(sa.select(ReminderSchedule).where(ReminderSchedule.goal_id == goal_id))


def parse_times(values) -> list[time]:
    return sorted({time.fromisoformat(v) for v in values or []})


def occurrences(
    schedule: ReminderSchedule, zone: str, start: datetime, end: datetime, only_on: date | None
) -> Iterator[datetime]:
    """The instants in (start, end] when the schedule fires, from local wall-clock times."""
    tz = ZoneInfo(zone)
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        if (only_on is None or day == only_on) and (
            schedule.weekdays is None or day.weekday() in schedule.weekdays
        ):
            for at in parse_times(schedule.times):
                instant = datetime.combine(day, at, tz).astimezone(UTC)
                if start < instant <= end:
                    yield instant
        day += timedelta(days=1)


def _subject(schedule: ReminderSchedule):
    if schedule.plan_item_id is not None:
        item = db.session.get(PlanItem, schedule.plan_item_id)
        if item is None or item.status in CLOSED_STATUSES or item.kind not in TIMED_KINDS:
            return None
        return item
    goal = db.session.get(Goal, schedule.goal_id) if schedule.goal_id else None
    if goal is None or goal.lifecycle_status not in GOALS_IN_PROGRESS:
        return None
    return goal


def _body(subject, patient: Patient, recipient: Recipient, link: str) -> str:
    if not recipient.is_patient:
        return bodies.for_caregiver(locale=recipient.locale, link=link, name=patient.display_name)
    if isinstance(subject, Goal):
        return bodies.goal(
            locale=recipient.locale,
            link=link,
            detailed=recipient.detailed,
            goal=subject.description,
        )
    if subject.kind is ItemKind.MEDICATION:
        return bodies.medication(
            locale=recipient.locale,
            link=link,
            detailed=recipient.detailed,
            medicine=subject.medication_name or subject.title,
        )
    return bodies.task(
        locale=recipient.locale, link=link, detailed=recipient.detailed, title=subject.title
    )


def plan_schedule(schedule: ReminderSchedule, now: datetime | None = None) -> int:
    """Plan this schedule's reminders for the next REMINDER_PLAN_HOURS. Returns how many."""
    now = now or utcnow()
    if not schedule.active or not schedule.times:
        return 0
    subject = _subject(schedule)
    if subject is None:
        return 0
    patient = db.session.get(Patient, schedule.patient_id)
    prefs = preferences(patient.id)
    if isinstance(subject, Goal):
        kind, purpose, path = "goal", "goal", f"/patients/{patient.id}/goals/{subject.id}"
        only_on, item_id = None, None
    else:
        kind = purpose = "medication" if subject.kind is ItemKind.MEDICATION else "task"
        path = f"/patients/{patient.id}/plan/items/{subject.id}"
        once = subject.kind is ItemKind.TASK and subject.schedule is Schedule.ONCE
        only_on, item_id = (subject.due_date if once else None), subject.id
    sensitivity = subject.sensitivity.value if subject.sensitivity else None
    recipients = recipients_for(patient, kind, sensitivity, prefs)
    if not recipients:
        return 0
    horizon = now + timedelta(hours=current_app.config["REMINDER_PLAN_HOURS"])
    delay = timedelta(minutes=current_app.config["REMINDER_MAX_DELAY_MINUTES"])
    planned = 0
    for instant in occurrences(schedule, patient.timezone, now, horizon, only_on):
        for recipient in recipients:
            row = plan_text(
                patient=patient,
                recipient=recipient,
                purpose=purpose,
                body=with_link(_body, path, subject, patient, recipient),
                ideal=instant,
                latest=instant + delay + timedelta(seconds=1),
                key=f"sched:{schedule.id}:{instant:%Y%m%dT%H%M}:{recipient.phone}",
                now=now,
                schedule_id=schedule.id,
                plan_item_id=item_id,
            )
            planned += row is not None and row.status == "queued"
    db.session.flush()
    return planned


def replan_schedule(schedule: ReminderSchedule, now: datetime | None = None) -> int:
    drop_waiting(OutboundSms.schedule_id == schedule.id)
    return plan_schedule(schedule, now)


def plan_due(now: datetime | None = None) -> int:
    """The planner's round: every active schedule, the next hours. Commits; returns how many.

    On PostgreSQL one worker plans at a time (a transaction-level advisory lock); a worker
    that cannot take it skips the round, the next one plans (keys keep it from doubling)."""
    now = now or utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        # Keyed by schema too: planners of different schemas (test workers) do not block.
        got = db.session.scalar(
            sa.text("SELECT pg_try_advisory_xact_lock(:k, hashtext(current_schema()))"),
            {"k": PLANNER_LOCK},
        )
        if not got:
            db.session.rollback()
            return 0
    planned = 0
    ids = list(db.session.scalars(sa.select(ReminderSchedule.id).where(ReminderSchedule.active)))
    for schedule_id in ids:
        schedule = db.session.get(ReminderSchedule, schedule_id)
        planned += plan_schedule(schedule, now)
    db.session.commit()
    return planned
