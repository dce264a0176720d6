"""Medicine, task and goal check-in reminders at the times the patient chose.

A ReminderSchedule holds wall-clock times in the patient's time zone ("08:00") and, for weekly
things, the days. The planner (`plan_due`, run by `flask reminders plan` in its own loop, and
right after a schedule is saved) turns the occurrences of the next REMINDER_PLAN_HOURS into
outbox rows, one per recipient, through scheduling.plan_text (unique keys, quiet hours, caps).

Each schedule remembers how far it is planned (`planned_until`: its first occurrence not
planned yet), so a steady round looks only at the schedules whose next occurrence has come
within the horizon: one indexed query, then those few, in batches. Whatever changes what a
schedule should send (the schedule, its item or goal, the patient's number, a caregiver's
grant) re-plans it at once or clears `planned_until` (`forget_planned`); a full round
(`plan_due(full=True)`, hourly in the planner loop) catches anything else. A medicine or task
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
from app.careplan.translations.reading import text_in
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
            goal=text_in(subject, "description", recipient.locale)
            if recipient.detailed
            else subject.description,
        )
    if subject.kind is ItemKind.MEDICATION:
        return bodies.medication(
            locale=recipient.locale,
            link=link,
            detailed=recipient.detailed,
            medicine=subject.medication_name or subject.title,
        )
    title = text_in(subject, "title", recipient.locale) if recipient.detailed else subject.title
    return bodies.task(locale=recipient.locale, link=link, detailed=recipient.detailed, title=title)


#: How far past the horizon the planner looks for a schedule's next occurrence (a weekly
#: schedule has one within 7 days; without one, the schedule is looked at again then).
LOOK_AHEAD = timedelta(days=8)
#: Schedules planned together (their items, goals and patients loaded in one query each).
PLAN_BATCH = 200


def _horizon(now: datetime) -> datetime:
    return now + timedelta(hours=current_app.config["REMINDER_PLAN_HOURS"])


def next_unplanned(schedule: ReminderSchedule, zone: str, horizon: datetime, subject) -> datetime:
    """The first occurrence after `horizon` (what `planned_until` holds), or LOOK_AHEAD past
    the horizon if none comes sooner."""
    only_on = None
    if isinstance(subject, PlanItem) and subject.schedule is Schedule.ONCE:
        only_on = subject.due_date
    if schedule.times:
        for instant in occurrences(schedule, zone, horizon, horizon + LOOK_AHEAD, only_on):
            return instant
    return horizon + LOOK_AHEAD


def plan_schedule(schedule: ReminderSchedule, now: datetime | None = None) -> int:
    """Plan this schedule's reminders for the next REMINDER_PLAN_HOURS, and note how far it
    is planned (`planned_until`). Returns how many."""
    now = now or utcnow()
    horizon = _horizon(now)
    if not schedule.active or not schedule.times:
        schedule.planned_until = horizon + LOOK_AHEAD
        return 0
    subject = _subject(schedule)
    patient = db.session.get(Patient, schedule.patient_id)
    schedule.planned_until = next_unplanned(schedule, patient.timezone, horizon, subject)
    if subject is None:
        return 0
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


def forget_planned(*conditions) -> None:
    """Have the planner look at these schedules again on its next round (something that
    decides who gets their texts changed); already planned texts are not planned twice."""
    db.session.execute(
        sa.update(ReminderSchedule)
        .where(*conditions)
        .values(planned_until=None)
        .execution_options(synchronize_session=False)
    )


def due_schedules(now: datetime, *, full: bool = False) -> list[int]:
    """The active schedules with an occurrence not planned yet within the horizon (all of
    them with `full`): one query on the planned_until index."""
    query = sa.select(ReminderSchedule.id).where(ReminderSchedule.active)
    if not full:
        query = query.where(
            sa.or_(
                ReminderSchedule.planned_until.is_(None),
                ReminderSchedule.planned_until <= _horizon(now),
            )
        )
    return list(db.session.scalars(query.order_by(ReminderSchedule.id)))


def _load_batch(ids: list[int]) -> list[ReminderSchedule]:
    """The schedules, with their items, goals and patients in the identity map (one query
    each), so planning them does not load them one by one."""
    schedules = db.session.scalars(
        sa.select(ReminderSchedule).where(ReminderSchedule.id.in_(ids))
    ).all()
    keep = list(schedules)
    items = {s.plan_item_id for s in schedules if s.plan_item_id is not None}
    goals = {s.goal_id for s in schedules if s.goal_id is not None}
    patients = {s.patient_id for s in schedules}
    if items:
        keep += db.session.scalars(sa.select(PlanItem).where(PlanItem.id.in_(items))).all()
    if goals:
        keep += db.session.scalars(sa.select(Goal).where(Goal.id.in_(goals))).all()
    keep += db.session.scalars(sa.select(Patient).where(Patient.id.in_(patients))).all()
    return schedules


def plan_due(now: datetime | None = None, *, full: bool = False) -> int:
    """The planner's round: the schedules with something new to plan (every active one with
    `full`), the next hours. Commits; returns how many texts were planned.

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
    ids = due_schedules(now, full=full)
    for start in range(0, len(ids), PLAN_BATCH):
        for schedule in _load_batch(ids[start : start + PLAN_BATCH]):
            planned += plan_schedule(schedule, now)
        db.session.flush()
    db.session.commit()
    return planned
