"""Readings: a self-care task that asks for a number (weight, blood pressure, blood sugar,
steps, mood), the readings entered, and the flags the team's alert rules raise.

A reading is one per task per day (entering again changes that day's number: one upsert that
survives two submits at once). Entering it ticks the task off for the day (the same
`TaskCompletion` as "Done") and, when the task feeds a goal, records (or corrects) one goal
check-in. A reading that breaks a rule the team set (above, below, or a rise within some days,
compared with the lowest reading of that window) opens a `ReadingAlert` in the team's inbox:
neutral words and a "Seen" button, never a diagnosis.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional

from app.auth.models import Role
from app.careplan.goals import services as goal_services
from app.careplan.goals.models import Goal, GoalCheckIn
from app.careplan.goals.numbers import format_number, parse_number
from app.careplan.goals.rules import CHECK_IN_STATUSES
from app.careplan.items import bp, queries
from app.careplan.items.models import (
    CLOSED_STATUSES,
    ItemKind,
    OwnerKind,
    PlanItem,
    ReadingKind,
)
from app.careplan.items.panels import item_panel
from app.careplan.items.services import tick_task
from app.careplan.labels import UNIT_LABELS as PLAN_UNIT_LABELS
from app.core import audit, idempotency
from app.core.access import Permission, can, patient_route
from app.core.db import enum_column, insert, utcnow
from app.core.errors import RuleError, on_rule_error
from app.core.forms import EmptyForm
from app.core.idempotency import IdempotentForm
from app.core.pagination import capped_count
from app.core.privacy import current_actor, hidden, visible
from app.extensions import db
from app.patients.models import Patient
from app.team import queries as team_queries
from app.team.models import CareTeamAssignment

K = ReadingKind

# ------------------------------------------------------------------ kinds, units, ranges

READING_LABELS = {
    K.WEIGHT: _l("Weight"),
    K.BLOOD_PRESSURE: _l("Blood pressure"),
    K.BLOOD_SUGAR: _l("Blood sugar"),
    K.STEPS: _l("Steps"),
    K.MOOD: _l("Mood"),
}

#: The units the team may choose for each kind (the first is the default); mood has none.
READING_UNITS: dict[ReadingKind, tuple[str, ...]] = {
    K.WEIGHT: ("kg", "lb"),
    K.BLOOD_PRESSURE: ("mmHg",),
    K.BLOOD_SUGAR: ("mg/dL", "mmol/L"),
    K.STEPS: ("steps",),
    K.MOOD: (),
}

#: How a unit reads, in the reader's language ("кг"): careplan.labels.UNIT_LABELS.
UNIT_LABELS = {
    unit: PLAN_UNIT_LABELS[unit] for unit in ("kg", "lb", "mmHg", "mg/dL", "mmol/L", "steps")
}

#: The numbers a person can have, per kind and unit: (low, high) for the first number.
RANGES: dict[tuple[ReadingKind, str | None], tuple[float, float]] = {
    (K.WEIGHT, "kg"): (20, 300),
    (K.WEIGHT, "lb"): (44, 660),
    (K.BLOOD_PRESSURE, "mmHg"): (60, 260),
    (K.BLOOD_SUGAR, "mg/dL"): (20, 600),
    (K.BLOOD_SUGAR, "mmol/L"): (1.1, 33.3),
    (K.STEPS, "steps"): (0, 100000),
    (K.MOOD, None): (1, 5),
}
#: Blood pressure's bottom number.
BOTTOM_RANGE = (30, 160)
#: Kinds counted in whole numbers.
WHOLE_KINDS = frozenset({K.BLOOD_PRESSURE, K.STEPS, K.MOOD})

MOOD_WORDS = {
    1: _l("Very low"),
    2: _l("Low"),
    3: _l("Okay"),
    4: _l("Good"),
    5: _l("Very good"),
}

#: How many days back a reading may be entered (today and the six days before).
DAYS_BACK = 6
#: Readings on the task's page.
PANEL_READINGS = 14
#: Readings per task on the team's summary, and rows in all.
SUMMARY_PER_TASK = 5
SUMMARY_ROWS = 40
#: Alerts in the inbox, and where their count stops.
INBOX_ALERTS = 20
ALERT_COUNT_CAP = 99


def range_for(kind: ReadingKind, unit: str | None) -> tuple[float, float]:
    return (
        RANGES.get((kind, unit if kind is not K.MOOD else None))
        or RANGES[(kind, READING_UNITS[kind][0] if READING_UNITS[kind] else None)]
    )


def unit_label(unit: str | None) -> str:
    return str(UNIT_LABELS.get(unit, unit or ""))


def format_reading(kind: ReadingKind, value: float, value2: float | None, unit: str | None) -> str:
    """A reading as people read it: "84.1 kg", "132/85 mmHg", "Good (4 of 5)"."""
    if kind is K.MOOD:
        return _("%(word)s (%(num)s of 5)", word=MOOD_WORDS.get(round(value), ""), num=round(value))
    number = format_number(value)
    if kind is K.BLOOD_PRESSURE and value2 is not None:
        number = f"{format_number(value)}/{format_number(value2)}"
    if not unit:
        return number
    return _("%(number)s %(unit)s", number=number, unit=unit_label(unit))


# ------------------------------------------------------------------ models


class AlertRule(enum.StrEnum):
    ABOVE = "above"
    ABOVE_BOTTOM = "above_bottom"  # blood pressure's bottom number
    BELOW = "below"
    RISE = "rise"


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    SEEN = "seen"


class Reading(db.Model):
    """The number a task asked for, for one day of the patient's calendar."""

    __tablename__ = "readings"
    __table_args__ = (sa.UniqueConstraint("item_id", "for_date", name="uq_readings_item_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_items.id", ondelete="CASCADE"))
    for_date: Mapped[date] = mapped_column()
    #: The number (blood pressure: the top number; mood: 1 to 5).
    value: Mapped[float] = mapped_column()
    #: Blood pressure's bottom number.
    value2: Mapped[float | None] = mapped_column()
    #: The task's unit when it was entered.
    unit: Mapped[str | None] = mapped_column(sa.String(12))
    #: The goal check-in this reading made (corrected with the reading).
    check_in_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("goal_check_ins.id", ondelete="SET NULL")
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    capacity: Mapped[str] = mapped_column(sa.String(16))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadingAlert(db.Model):
    """A reading that broke one of the team's rules, for a person on the team to look at."""

    __tablename__ = "reading_alerts"
    __table_args__ = (
        sa.UniqueConstraint("reading_id", "rule", name="uq_reading_alerts_reading_rule"),
        sa.Index("ix_reading_alerts_patient_status", "patient_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plan_items.id", ondelete="CASCADE"), index=True
    )
    reading_id: Mapped[int] = mapped_column(sa.ForeignKey("readings.id", ondelete="CASCADE"))
    rule: Mapped[AlertRule] = mapped_column(enum_column(AlertRule, length=16))
    for_date: Mapped[date] = mapped_column()
    value: Mapped[float] = mapped_column()
    value2: Mapped[float | None] = mapped_column()
    unit: Mapped[str | None] = mapped_column(sa.String(12))
    #: The team's number the reading went past (for a rise: how much within `days`).
    threshold: Mapped[float] = mapped_column()
    #: For a rise: how much it went up, and within how many days.
    change: Mapped[float | None] = mapped_column()
    days: Mapped[int | None] = mapped_column()
    status: Mapped[AlertStatus] = mapped_column(
        enum_column(AlertStatus, length=8), default=AlertStatus.OPEN
    )
    seen_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    seen_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ------------------------------------------------------------------ services


@dataclass
class ReadingInput:
    """A reading already checked by `ReadingForm`."""

    for_date: date
    value: float
    value2: float | None = None


def is_reading_task(item: PlanItem) -> bool:
    """A task that asks for a number, for the patient side to enter (like ticking it off)."""
    return (
        item.kind is ItemKind.TASK
        and item.reading_kind is not None
        and item.owner_kind in (OwnerKind.PATIENT, OwnerKind.CAREGIVER)
    )


def _recorded_at(patient: Patient, day: date) -> datetime:
    """When the reading counts on a goal's chart: now for today, midday for a day before."""
    if day >= patient.today():
        return utcnow()
    return datetime.combine(day, time(12), tzinfo=patient.zone)


def enter_reading(patient: Patient, item: PlanItem, data: ReadingInput) -> list[ReadingAlert]:
    """Save the day's reading (or change it), tick the task off for that day, feed the linked
    goal, and check the team's rules. Returns the alerts the reading raised (still open).

    The reading is one INSERT .. ON CONFLICT DO UPDATE on (task, day): of two submits at once
    the second waits for the first and changes its number, so there is one reading and one
    check-in, whatever the timing."""
    if not is_reading_task(item) or item.status in CLOSED_STATUSES:
        raise RuleError(_l("This task does not ask for a number."))
    actor = current_actor()
    now = utcnow()
    statement = insert(db.session, Reading).values(
        patient_id=item.patient_id,
        item_id=item.id,
        for_date=data.for_date,
        value=data.value,
        value2=data.value2,
        unit=item.reading_unit,
        recorded_by_id=actor.user_id,
        capacity=actor.capacity.value,
        recorded_at=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["item_id", "for_date"],
        set_={
            "value": statement.excluded.value,
            "value2": statement.excluded.value2,
            "unit": statement.excluded.unit,
            "recorded_by_id": statement.excluded.recorded_by_id,
            "capacity": statement.excluded.capacity,
            "recorded_at": statement.excluded.recorded_at,
        },
    ).returning(Reading.id, Reading.check_in_id)
    reading_id, check_in_id = db.session.execute(statement).one()
    tick_task(item, data.for_date)
    _feed_goal(patient, item, reading_id, check_in_id, data)
    audit.record(
        action="update",
        resource="careplan.item",
        resource_id=item.id,
        patient_id=item.patient_id,
    )
    return _check_rules(item, reading_id, data)


def _feed_goal(
    patient: Patient, item: PlanItem, reading_id: int, check_in_id: int | None, data: ReadingInput
) -> None:
    """One check-in per reading: made the first time, corrected when the reading changes."""
    if item.goal_id is None:
        return
    if check_in_id is not None:
        db.session.execute(
            sa.update(GoalCheckIn)
            .where(GoalCheckIn.id == check_in_id)
            .values(value=data.value)
            .execution_options(synchronize_session=False)
        )
        return
    goal = db.session.get(Goal, item.goal_id)
    if goal is None or goal.patient_id != item.patient_id:
        return
    if goal.lifecycle_status not in CHECK_IN_STATUSES:
        return  # a goal no one works on any more: the reading still counts for the task
    check_in = goal_services.add_check_in(
        goal, value=data.value, recorded_at=_recorded_at(patient, data.for_date)
    )
    db.session.execute(
        sa.update(Reading)
        .where(Reading.id == reading_id)
        .values(check_in_id=check_in.id)
        .execution_options(synchronize_session=False)
    )


def broken_rules(item: PlanItem, data: ReadingInput, lowest_before: float | None) -> dict:
    """The team's rules this reading breaks: {rule: (threshold, change, days)}."""
    broken: dict[AlertRule, tuple[float, float | None, int | None]] = {}
    if item.alert_above is not None and data.value > item.alert_above:
        broken[AlertRule.ABOVE] = (item.alert_above, None, None)
    bottom = data.value2
    if item.alert_above2 is not None and bottom is not None and bottom > item.alert_above2:
        broken[AlertRule.ABOVE_BOTTOM] = (item.alert_above2, None, None)
    if item.alert_below is not None and data.value < item.alert_below:
        broken[AlertRule.BELOW] = (item.alert_below, None, None)
    if item.alert_rise is not None and item.alert_rise_days and lowest_before is not None:
        change = round(data.value - lowest_before, 2)
        if change >= item.alert_rise:
            broken[AlertRule.RISE] = (item.alert_rise, change, item.alert_rise_days)
    return broken


def _check_rules(item: PlanItem, reading_id: int, data: ReadingInput) -> list[ReadingAlert]:
    lowest = None
    if item.alert_rise is not None and item.alert_rise_days:
        lowest = db.session.scalar(
            sa.select(sa.func.min(Reading.value)).where(
                Reading.item_id == item.id,
                Reading.for_date >= data.for_date - timedelta(days=item.alert_rise_days),
                Reading.for_date < data.for_date,
            )
        )
    broken = broken_rules(item, data, lowest)
    # A corrected reading that no longer breaks a rule takes back the flag nobody saw yet.
    db.session.execute(
        sa.delete(ReadingAlert)
        .where(
            ReadingAlert.reading_id == reading_id,
            ReadingAlert.status == AlertStatus.OPEN,
            ReadingAlert.rule.not_in(list(broken)) if broken else sa.true(),
        )
        .execution_options(synchronize_session=False)
    )
    for rule, (threshold, change, days) in broken.items():
        statement = insert(db.session, ReadingAlert).values(
            patient_id=item.patient_id,
            item_id=item.id,
            reading_id=reading_id,
            rule=rule,
            for_date=data.for_date,
            value=data.value,
            value2=data.value2,
            unit=item.reading_unit,
            threshold=threshold,
            change=change,
            days=days,
            status=AlertStatus.OPEN,
            created_at=utcnow(),
        )
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=["reading_id", "rule"],
                set_={
                    "value": statement.excluded.value,
                    "value2": statement.excluded.value2,
                    "threshold": statement.excluded.threshold,
                    "change": statement.excluded.change,
                    "days": statement.excluded.days,
                },
            )
        )
    if not broken:
        return []
    return list(
        db.session.scalars(
            sa.select(ReadingAlert).where(
                ReadingAlert.reading_id == reading_id, ReadingAlert.status == AlertStatus.OPEN
            )
        )
    )


def mark_seen(patient_id: int, alert_id: int) -> bool:
    """A person on the team looked at the flag. One conditional UPDATE: of two nurses at once,
    one marks it; the other finds it already seen (False)."""
    done = db.session.execute(
        sa.update(ReadingAlert)
        .where(
            ReadingAlert.id == alert_id,
            ReadingAlert.patient_id == patient_id,
            ReadingAlert.status == AlertStatus.OPEN,
        )
        .values(status=AlertStatus.SEEN, seen_by_id=current_actor().user_id, seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        return False
    audit.record(
        action="update",
        resource="careplan.item",
        resource_id=f"reading-alert-{alert_id}",
        patient_id=patient_id,
    )
    return True


# ------------------------------------------------------------------ words for an alert


def alert_text(alert: ReadingAlert, kind: ReadingKind) -> str:
    """Neutral words, never a diagnosis: "Weight 84.1 kg on Dec 1: up 2.3 kg in 3 days; the
    team's limit is 2 kg"."""
    reading = format_reading(kind, alert.value, alert.value2, alert.unit)
    what = _(
        "%(kind)s %(reading)s on %(day)s",
        kind=READING_LABELS[kind],
        reading=reading,
        day=format_date(alert.for_date, "medium"),
    )

    def amount(number: float) -> str:
        if kind is K.MOOD or not alert.unit:
            return format_number(number)
        return _("%(number)s %(unit)s", number=format_number(number), unit=unit_label(alert.unit))

    if alert.rule is AlertRule.RISE:
        why = _(
            "up %(change)s in %(days)s days; the team's limit is %(limit)s",
            change=amount(alert.change or 0),
            days=alert.days,
            limit=amount(alert.threshold),
        )
    elif alert.rule is AlertRule.ABOVE_BOTTOM:
        why = _(
            "the bottom number is above the team's limit of %(limit)s",
            limit=format_number(alert.threshold),
        )
    elif alert.rule is AlertRule.BELOW:
        why = _("below the team's limit of %(limit)s", limit=amount(alert.threshold))
    else:
        why = _("above the team's limit of %(limit)s", limit=amount(alert.threshold))
    return _("%(what)s: %(why)s", what=what, why=why)


# ------------------------------------------------------------------ queries


def latest_readings(item_id: int, limit: int = PANEL_READINGS) -> list[Reading]:
    return list(
        db.session.scalars(
            sa.select(Reading)
            .where(Reading.item_id == item_id)
            .order_by(Reading.for_date.desc())
            .limit(limit)
        )
    )


def alerts_for_readings(reading_ids: list[int]) -> dict[int, list[ReadingAlert]]:
    if not reading_ids:
        return {}
    found: dict[int, list[ReadingAlert]] = {}
    for alert in db.session.scalars(
        sa.select(ReadingAlert)
        .where(ReadingAlert.reading_id.in_(reading_ids))
        .order_by(ReadingAlert.id)
    ):
        found.setdefault(alert.reading_id, []).append(alert)
    return found


@dataclass
class SeriesRow:
    item_id: int
    title: str
    kind: ReadingKind
    readings: list[tuple[Reading, list[ReadingAlert]]]


def summary_series(patient_id: int, hidden_categories: frozenset[str]) -> list[SeriesRow]:
    """Per reading task the latest SUMMARY_PER_TASK readings, newest first, with their open
    alerts: one query, LIMITed, whatever the number of readings."""
    rank = (
        sa.func.row_number()
        .over(partition_by=Reading.item_id, order_by=Reading.for_date.desc())
        .label("rank")
    )
    ranked = (
        sa.select(Reading.id.label("reading_id"), rank)
        .join(PlanItem, PlanItem.id == Reading.item_id)
        .where(
            Reading.patient_id == patient_id,
            PlanItem.patient_id == patient_id,
            PlanItem.reading_kind.is_not(None),
            PlanItem.status.not_in(list(CLOSED_STATUSES)),
            visible(PlanItem.sensitivity, hidden_categories),
        )
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Reading, PlanItem.title, PlanItem.reading_kind, ReadingAlert)
        .join(ranked, ranked.c.reading_id == Reading.id)
        .join(PlanItem, PlanItem.id == Reading.item_id)
        .outerjoin(
            ReadingAlert,
            (ReadingAlert.reading_id == Reading.id) & (ReadingAlert.status == AlertStatus.OPEN),
        )
        .where(ranked.c.rank <= SUMMARY_PER_TASK)
        .order_by(PlanItem.title, PlanItem.id, Reading.for_date.desc(), ReadingAlert.id)
        .limit(SUMMARY_ROWS)
    ).all()
    series: dict[int, SeriesRow] = {}
    seen: dict[int, list[ReadingAlert]] = {}
    for reading, title, kind, alert in rows:
        row = series.setdefault(reading.item_id, SeriesRow(reading.item_id, title, kind, []))
        if reading.id not in seen:
            seen[reading.id] = []
            row.readings.append((reading, seen[reading.id]))
        if alert is not None:
            seen[reading.id].append(alert)
    return list(series.values())


@dataclass
class InboxAlert:
    alert: ReadingAlert
    patient: Patient
    title: str
    text: str


def inbox_alerts(member_id: int) -> tuple[list[InboxAlert], int]:
    """Open reading alerts of the member's own patients, newest first: at most INBOX_ALERTS,
    and how many (capped at ALERT_COUNT_CAP + 1). Starts from the member's care-team
    assignments (an index range), never from the whole CCO: two queries."""
    conditions = (
        CareTeamAssignment.member_id == member_id,
        ReadingAlert.patient_id == CareTeamAssignment.patient_id,
        ReadingAlert.status == AlertStatus.OPEN,
    )
    rows = db.session.execute(
        sa.select(ReadingAlert, Patient, PlanItem.title, PlanItem.reading_kind)
        .select_from(CareTeamAssignment)
        .join(ReadingAlert, ReadingAlert.patient_id == CareTeamAssignment.patient_id)
        .join(Patient, Patient.id == ReadingAlert.patient_id)
        .join(PlanItem, PlanItem.id == ReadingAlert.item_id)
        .where(*conditions)
        .order_by(ReadingAlert.created_at.desc(), ReadingAlert.id.desc())
        .limit(INBOX_ALERTS)
    ).all()
    total = capped_count(
        sa.select(ReadingAlert.id)
        .select_from(CareTeamAssignment)
        .join(ReadingAlert, ReadingAlert.patient_id == CareTeamAssignment.patient_id)
        .where(*conditions),
        ALERT_COUNT_CAP,
    )
    return [
        InboxAlert(alert, patient, title, alert_text(alert, kind))
        for alert, patient, title, kind in rows
    ], total


def reading_disciplines() -> list[str]:
    """Who sees "Readings to look at" (read from the config each time)."""
    return current_app.config["MESSAGE_ROUTING"]["symptoms"]


@bp.app_context_processor
def reading_alerts_for_inbox():
    """`inbox_reading_alerts()` for the team's inbox (messaging/_inbox_alerts.html)."""

    def load():
        if not current_user.is_authenticated or current_user.role is not Role.CARE_TEAM:
            return [], 0
        member = team_queries.member_for_user(current_user.id)
        # Readings go to those who answer how a patient feels (the "symptoms" topic's
        # disciplines: nursing and primary care), not to the pharmacist or the dentist.
        if member is None or member.discipline.value not in reading_disciplines():
            return [], 0
        return inbox_alerts(member.id)

    def words(kind: ReadingKind, reading: Reading) -> str:
        return format_reading(kind, reading.value, reading.value2, reading.unit)

    return {
        "inbox_reading_alerts": load,
        "reading_alert_cap": ALERT_COUNT_CAP,
        "reading_words": words,
        "reading_alert_text": alert_text,
    }


# ------------------------------------------------------------------ forms


class ReadingForm(IdempotentForm):
    value = StringField(_l("Number"))
    value2 = StringField(_l("Bottom number"))
    day = HiddenField()
    back = HiddenField()

    def __init__(self, item: PlanItem, patient: Patient, **kwargs):
        super().__init__(**kwargs)
        self.item = item
        self.patient = patient
        kind = item.reading_kind
        if kind is K.BLOOD_PRESSURE:
            self.value.label.text = _l("Top number")
        elif kind is not None:
            self.value.label.text = READING_LABELS[kind]
        self.checked: ReadingInput | None = None

    def _number(self, field, low: float, high: float, whole: bool) -> float | None:
        raw = field.data or ""
        if "\x00" in raw or len(raw) > 20:
            field.errors.append(_l("Enter a number, like %(example)s.", example="84.5"))
            return None
        try:
            number = parse_number(raw)
        except ValueError:
            field.errors.append(_l("Enter a number, like %(example)s.", example="84.5"))
            return None
        if number is None:
            field.errors.append(_l("Enter the number."))
            return None
        if whole and number != int(number):
            field.errors.append(_l("Enter a whole number."))
            return None
        if not low <= number <= high:
            field.errors.append(
                _l(
                    "Enter a number from %(low)s to %(high)s.",
                    low=format_number(low),
                    high=format_number(high),
                )
            )
            return None
        return number

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self.value.errors = list(self.value.errors)
        self.value2.errors = list(self.value2.errors)
        kind = self.item.reading_kind
        low, high = range_for(kind, self.item.reading_unit)
        value = self._number(self.value, low, high, kind in WHOLE_KINDS)
        value2 = None
        if kind is K.BLOOD_PRESSURE:
            value2 = self._number(self.value2, *BOTTOM_RANGE, whole=True)
            if value is not None and value2 is not None and value2 >= value:
                self.value2.errors.append(_l("The bottom number is smaller than the top one."))
                value2 = None
        day = self._day()
        if value is None or day is None or (kind is K.BLOOD_PRESSURE and value2 is None):
            return False
        self.checked = ReadingInput(for_date=day, value=value, value2=value2)
        return ok

    def _day(self) -> date | None:
        raw = self.day.data or ""
        try:
            day = date.fromisoformat(raw) if raw else self.patient.today()
        except ValueError:
            day = None
        if day is None or not 0 <= (self.patient.today() - day).days <= DAYS_BACK:
            self.day.errors = [_l("Choose today or a day in the past week.")]
            return None
        return day


class ReadingRuleFields:
    """The team's item form, for a task: the number it asks for, its unit, the goal it feeds
    and the alert rules. Mixed into `PlanItemForm`; `goals=` are the patient's goals (the only
    ones a task may feed)."""

    reading_kind = SelectField(
        _l("Ask for a number"),
        validators=[Optional()],
        description=_l("Entering it marks the task done for the day."),
    )
    reading_unit = SelectField(_l("Unit"), validators=[Optional()])
    goal = SelectField(
        _l("Feeds the goal"),
        validators=[Optional()],
        description=_l("Each reading becomes a check-in on this goal."),
    )
    alert_above = StringField(
        _l("Flag a reading above"),
        validators=[Optional(), Length(max=20)],
        description=_l("For blood pressure, the top number."),
    )
    alert_above2 = StringField(
        _l("Flag a bottom number above"),
        validators=[Optional(), Length(max=20)],
        description=_l("Blood pressure only."),
    )
    alert_below = StringField(_l("Flag a reading below"), validators=[Optional(), Length(max=20)])
    alert_rise = StringField(
        _l("Flag a rise of"),
        validators=[Optional(), Length(max=20)],
        description=_l("Compared with the lowest reading of the days below."),
    )
    alert_rise_days = StringField(
        _l("Within how many days"), validators=[Optional(), Length(max=4)]
    )

    def __init__(self, *args, goals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.reading_kind.choices = [("", _l("No number, just Done"))] + [
            (k.value, label) for k, label in READING_LABELS.items()
        ]
        units = dict.fromkeys(u for kind_units in READING_UNITS.values() for u in kind_units)
        self.reading_unit.choices = [("", "")] + [(u, unit_label(u)) for u in units]
        self.goal.choices = [("", _l("No goal"))] + [(str(g.id), g.description) for g in goals]
        self.reading_numbers: dict = {}

    def check_reading(self) -> bool:
        """The unit fits the kind; the limits are numbers a reading of that kind can have."""
        ok = True
        kind = ReadingKind(self.reading_kind.data) if self.reading_kind.data else None
        numbers: dict = {}
        if kind is None:
            self.reading_numbers = {}
            return True
        units = READING_UNITS[kind]
        unit = self.reading_unit.data or (units[0] if units else "")
        if (unit or None) not in (units or (None,)):
            self.reading_unit.errors = [
                *self.reading_unit.errors,
                _l("Choose a unit for this kind of number."),
            ]
            ok = False
            unit = units[0] if units else ""
        low, high = range_for(kind, unit or None)
        limits = {
            "alert_above": (low, high),
            "alert_below": (low, high),
            "alert_above2": BOTTOM_RANGE,
            "alert_rise": (0.01, high - low),
            "alert_rise_days": (1, 30),
        }
        for name, (lo, hi) in limits.items():
            field = getattr(self, name)
            raw = field.data or ""
            try:
                number = parse_number(raw) if "\x00" not in raw else float("nan")
            except ValueError:
                number = float("nan")
            if number is None:
                numbers[name] = None
                continue
            if number != number or not lo <= number <= hi:
                field.errors = [
                    *field.errors,
                    _l(
                        "Enter a number from %(low)s to %(high)s.",
                        low=format_number(lo),
                        high=format_number(hi),
                    ),
                ]
                ok = False
                continue
            if name == "alert_rise_days" and number != int(number):
                field.errors = [*field.errors, _l("Enter a whole number.")]
                ok = False
                continue
            numbers[name] = int(number) if name == "alert_rise_days" else number
        if kind is not K.BLOOD_PRESSURE and numbers.get("alert_above2") is not None:
            self.alert_above2.errors = [
                *self.alert_above2.errors,
                _l("Only blood pressure has a bottom number."),
            ]
            ok = False
        if (numbers.get("alert_rise") is None) != (numbers.get("alert_rise_days") is None):
            self.alert_rise_days.errors = [
                *self.alert_rise_days.errors,
                _l("Give both the rise and the number of days, or neither."),
            ]
            ok = False
        numbers["reading_unit"] = unit or None
        self.reading_numbers = numbers
        return ok

    def reading_values(self) -> dict:
        """The checked values, as `ItemInput` fields (a task without a number has none)."""
        kind = ReadingKind(self.reading_kind.data) if self.reading_kind.data else None
        if kind is None:
            return {}
        numbers = self.reading_numbers
        return {
            "reading_kind": kind,
            "reading_unit": numbers.get("reading_unit"),
            "goal_id": int(self.goal.data) if self.goal.data else None,
            "alert_above": numbers.get("alert_above"),
            "alert_above2": numbers.get("alert_above2") if kind is K.BLOOD_PRESSURE else None,
            "alert_below": numbers.get("alert_below"),
            "alert_rise": numbers.get("alert_rise"),
            "alert_rise_days": numbers.get("alert_rise_days"),
        }


def reading_form_data(data) -> dict:
    """An item's reading settings as its edit form shows them."""

    def number(value) -> str:
        return format_number(value) if value is not None else ""

    return {
        "reading_kind": data.reading_kind.value if data.reading_kind else "",
        "reading_unit": data.reading_unit or "",
        "goal": str(data.goal_id or ""),
        "alert_above": number(data.alert_above),
        "alert_above2": number(data.alert_above2),
        "alert_below": number(data.alert_below),
        "alert_rise": number(data.alert_rise),
        "alert_rise_days": "" if data.alert_rise_days is None else str(data.alert_rise_days),
    }


def goal_choices(patient_id: int, hidden_categories: frozenset[str]) -> list[Goal]:
    """The patient's goals a task may feed (the ones the viewer may see)."""
    return list(
        db.session.scalars(
            sa.select(Goal)
            .where(Goal.patient_id == patient_id, visible(Goal.sensitivity, hidden_categories))
            .order_by(Goal.id)
            .limit(100)
        )
    )


# ------------------------------------------------------------------ views

#: Where "Save" leads back to: a fixed choice, never a posted address.
BACKS = {"home": "patients.home_page", "today": "careplan.items.today"}


def _reading_item_or_404(patient, item_id: int) -> PlanItem:
    item = queries.item(patient.id, item_id, hidden())
    if item is None or not is_reading_task(item) or item.status in CLOSED_STATUSES:
        abort(404)
    return item


def _back_url(patient, item: PlanItem, back: str | None) -> str:
    endpoint = BACKS.get(back or "")
    if endpoint is None:
        return url_for("careplan.items.detail", patient_id=patient.id, item_id=item.id)
    return url_for(endpoint, patient_id=patient.id) + f"#item-{item.id}"


def _entry_page(patient, item, form, status: int = 200):
    return (
        render_template(
            "items/reading_entry.html",
            patient=patient,
            item=item,
            form=form,
            entry=entry_context(patient, item, form),
        ),
        status,
    )


def entry_context(patient, item: PlanItem, form: ReadingForm) -> dict:
    kind = item.reading_kind
    low, high = range_for(kind, item.reading_unit)
    return {
        "form": form,
        "kind": kind.value,
        "label": READING_LABELS[kind],
        "unit": unit_label(item.reading_unit),
        "low": format_number(low),
        "high": format_number(high),
        "whole": kind in WHOLE_KINDS,
        "bottom": tuple(format_number(n) for n in BOTTOM_RANGE),
        "moods": list(MOOD_WORDS.items()),
        "action": url_for("careplan.items.reading", patient_id=patient.id, item_id=item.id),
    }


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/reading", methods=["GET", "POST"])
@patient_route(Permission.COMPLETE_TASKS, "careplan.item")
def reading(patient, item_id: int):
    item = _reading_item_or_404(patient, item_id)
    if request.method == "GET":
        back = request.args.get("back")
        day = request.args.get("day") or patient.today().isoformat()
        form = ReadingForm(item, patient, data={"day": day, "back": back if back in BACKS else ""})
        return _entry_page(patient, item, form)
    form = ReadingForm(item, patient)
    if not form.validate_on_submit() or form.checked is None:
        return _entry_page(patient, item, form, 422)
    back = _back_url(patient, item, form.back.data)
    if (again := idempotency.replay(form, already=_("That was already saved."))) is not None:
        return again
    on_rule_error(back=back)
    alerts = enter_reading(patient, item, form.checked)
    idempotency.remember(form, back)
    flash(_("Saved: %(reading)s.", reading=_reading_words(item, form.checked)), "success")
    if alerts:
        flash(_("Your care team will look at this reading."), "info")
    return redirect(back)


def _reading_words(item: PlanItem, data: ReadingInput) -> str:
    return format_reading(item.reading_kind, data.value, data.value2, item.reading_unit)


@bp.route("/patients/<int:patient_id>/reading-alerts/<int:alert_id>/seen", methods=["POST"])
@patient_route(Permission.TRIAGE_MESSAGES, "careplan.item")
def reading_alert_seen(patient, alert_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    found = db.session.scalar(
        sa.select(ReadingAlert.id)
        .join(PlanItem, PlanItem.id == ReadingAlert.item_id)
        .where(
            ReadingAlert.id == alert_id,
            ReadingAlert.patient_id == patient.id,
            visible(PlanItem.sensitivity, hidden()),
        )
    )
    if found is None:
        abort(404)
    if mark_seen(patient.id, alert_id):
        flash(_("Marked as seen."), "success")
    else:
        flash(_("Someone on the team already saw this."), "info")
    if request.form.get("back") == "summary":
        return redirect(url_for("patients.summary", patient_id=patient.id))
    return redirect(url_for("messaging.inbox"))


# ------------------------------------------------------------------ the task's page


@item_panel
def reading_panel(patient, item: PlanItem) -> dict:
    """The task's readings: the entry form, the latest readings and their flags."""
    if item.kind is not ItemKind.TASK or item.reading_kind is None:
        return {}
    readings = latest_readings(item.id)
    team_side = can(current_user, Permission.TRIAGE_MESSAGES, patient)
    alerts = alerts_for_readings([r.id for r in readings])
    can_enter = (
        is_reading_task(item)
        and item.is_open
        and can(current_user, Permission.COMPLETE_TASKS, patient)
    )
    form = ReadingForm(item, patient, data={"day": patient.today().isoformat()})
    kind = item.reading_kind
    return {
        "reading_panel": {
            "label": READING_LABELS[kind],
            "unit": unit_label(item.reading_unit),
            "rows": [
                (
                    r,
                    format_reading(kind, r.value, r.value2, r.unit),
                    [alert_text(a, kind) for a in alerts.get(r.id, [])] if team_side else [],
                    bool(alerts.get(r.id)),
                )
                for r in readings
            ],
            "chart": _spark(readings),
            "entry": entry_context(patient, item, form) if can_enter else None,
            "today_done": bool(readings) and readings[0].for_date == patient.today(),
            "rules": _rules_text(item) if team_side else [],
            "goal": _linked_goal(patient, item),
        }
    }


def _linked_goal(patient, item: PlanItem) -> Goal | None:
    """The goal the readings feed, if the viewer may see it."""
    if item.goal_id is None or not can(current_user, Permission.VIEW_GOALS, patient):
        return None
    return db.session.scalar(
        sa.select(Goal).where(
            Goal.id == item.goal_id,
            Goal.patient_id == patient.id,
            visible(Goal.sensitivity, hidden()),
        )
    )


def _spark(readings: list[Reading]) -> dict | None:
    """A small line of the readings (oldest to newest), in viewBox units."""
    points = [r for r in reversed(readings)]
    if len(points) < 2:
        return None
    values = [r.value for r in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    width, height, pad = 280, 60, 6
    first = points[0].for_date
    days = (points[-1].for_date - first).days or 1
    coords = [
        (
            round(pad + (r.for_date - first).days / days * (width - 2 * pad), 1),
            round(height - pad - (r.value - low) / span * (height - 2 * pad), 1),
        )
        for r in points
    ]
    return {
        "width": width,
        "height": height,
        "line": " ".join(f"{x},{y}" for x, y in coords),
        "dots": coords,
    }


def _rules_text(item: PlanItem) -> list[str]:
    unit = item.reading_unit
    out = []

    def amount(number: float) -> str:
        if not unit:
            return format_number(number)
        return _("%(number)s %(unit)s", number=format_number(number), unit=unit_label(unit))

    if item.alert_above is not None:
        out.append(_("Flag above %(limit)s", limit=amount(item.alert_above)))
    if item.alert_above2 is not None:
        out.append(
            _("Flag a bottom number above %(limit)s", limit=format_number(item.alert_above2))
        )
    if item.alert_below is not None:
        out.append(_("Flag below %(limit)s", limit=amount(item.alert_below)))
    if item.alert_rise is not None and item.alert_rise_days:
        out.append(
            _(
                "Flag a rise of %(change)s within %(days)s days",
                change=amount(item.alert_rise),
                days=item.alert_rise_days,
            )
        )
    return out
