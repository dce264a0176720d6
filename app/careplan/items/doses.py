"""Medicines taken, dose by dose: a medicine's times of day (`PlanItem.dose_times`), the dose
log, and what Today, Home and the medicine's page show of it.

A dose is (medicine, day of the patient's calendar, slot): slot i is the medicine's i-th time
of day; a medicine without times has one dose a day at no fixed time (slot 0). "Taken" is one
INSERT that skips a dose already logged (ON CONFLICT DO NOTHING on the unique key), so a double
tap or two phones at once log it once; "undo" deletes it. Only today's doses are marked: the
strip of the last 7 days is a record, not a form.

Reads here take what the caller already loaded (the medicine, the patient); the routes are in
`medicine_views`, so that `queries` (Today) can use this module without an import circle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from babel.dates import format_time
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import ValidationError

from app.careplan.items.models import (
    CLOSED_STATUSES,
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanItem,
)
from app.careplan.items.panels import item_panel
from app.core import audit
from app.core.access import Permission, can
from app.core.db import insert, utcnow
from app.core.errors import RuleError
from app.core.forms import parse_clock
from app.core.privacy import current_actor
from app.extensions import db

#: Owners whose medicines the patient side marks taken (the patient's own, a caregiver's).
SELF_OWNERS = (OwnerKind.PATIENT, OwnerKind.CAREGIVER)
#: At most this many times of day for one medicine.
MAX_TIMES = 6
TIME_RE = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
#: The strip on a medicine's page: today and the 6 days before.
STRIP_DAYS = 7


class MedicationDose(db.Model):
    """One dose of a medicine taken, for one day of the patient's calendar."""

    __tablename__ = "medication_doses"
    __table_args__ = (
        sa.UniqueConstraint(
            "item_id", "for_date", "slot", name="uq_medication_doses_item_day_slot"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_items.id", ondelete="CASCADE"))
    for_date: Mapped[date] = mapped_column()
    #: Which of the day's doses: the index of its time in `PlanItem.dose_times` (0 if none).
    slot: Mapped[int] = mapped_column()
    taken_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)


# ------------------------------------------------------------------ times of day

_MARKER = re.compile(r"(\d)\s*([aApP])\.?\s*[mM]\b\.?")


def parse_times(raw: str) -> list[str]:
    """ "8:00, 20:30" -> ["08:00", "20:30"] (sorted, no repeats); "8:00 AM, 8:00 PM" too (the
    one clock parser, core.forms.parse_clock). ValueError if any part is not a time of day,
    or there are more than MAX_TIMES."""
    found = set()
    # "8:00 p. m." is one time: its marker joins it before the times are split apart.
    joined = _MARKER.sub(lambda m: f"{m[1]}{m[2]}m", (raw or "").strip())
    for part in re.split(r"[,;\s]+", joined):
        if not part:
            continue
        at = parse_clock(part)  # ValueError when it is not a time of day
        found.add(at.strftime("%H:%M"))
    if len(found) > MAX_TIMES:
        raise ValueError("too many times")
    return sorted(found)


def check_times(form, field) -> None:
    """WTForms validator for the "Times of day" field."""
    try:
        parse_times(field.data or "")
    except ValueError:
        raise ValidationError(
            _l(
                "Write times like 08:00 or 20:30, separated by commas (at most %(max)d).",
                max=MAX_TIMES,
            )
        ) from None


def times_of(item: PlanItem) -> list[time | None]:
    """A medicine's doses in a day: its times, or one dose at no fixed time."""
    return [time.fromisoformat(t) for t in item.dose_times] if item.dose_times else [None]


@dataclass(frozen=True)
class Dose:
    """One of today's doses of a medicine, as a row shows it."""

    item: PlanItem
    slot: int
    at: time | None
    taken: bool

    @property
    def label(self) -> str:
        """ "8:00 AM" in the viewer's language (a time of the patient's day: no zone)."""
        return format_time(self.at, "short", locale=get_locale()) if self.at else ""


def doses_on(medicines: list[PlanItem], taken: set[tuple[int, int]]) -> list[Dose]:
    """Every dose of these medicines in a day, in order of time (doses without a time last);
    `taken`: the (item id, slot) pairs logged for that day."""
    found = [
        Dose(item, slot, at, (item.id, slot) in taken)
        for item in medicines
        for slot, at in enumerate(times_of(item))
    ]
    found.sort(key=lambda d: (d.at is None, d.at or time.min, d.item.title, d.item.id))
    return found


def taken_statement(item_ids: list[int], first: date, last: date) -> sa.Select:
    """(item_id, for_date, slot) of the doses logged for these medicines between two days."""
    return sa.select(MedicationDose.item_id, MedicationDose.for_date, MedicationDose.slot).where(
        MedicationDose.item_id.in_(item_ids), MedicationDose.for_date.between(first, last)
    )


def markable(item: PlanItem) -> bool:
    """The patient side marks taken the open medicines that are theirs to take."""
    return (
        item.kind is ItemKind.MEDICATION
        and item.owner_kind in SELF_OWNERS
        and item.status not in CLOSED_STATUSES
        and item.status is not ItemStatus.ON_HOLD
    )


# ------------------------------------------------------------------ writes


def _check(item: PlanItem, slot: int) -> None:
    if not markable(item):
        raise RuleError(_l("Only open medicines that are yours to take can be marked taken."))
    if not 0 <= slot < len(times_of(item)):
        raise RuleError(_l("This medicine has no such dose today."), status=400)


def take(item: PlanItem, day: date, slot: int) -> bool:
    """Log one dose as taken. False when it already was (a double tap, another phone)."""
    _check(item, slot)
    inserted = db.session.scalar(
        insert(db.session, MedicationDose)
        .values(
            item_id=item.id,
            for_date=day,
            slot=slot,
            taken_by_id=current_actor().user_id,
            taken_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["item_id", "for_date", "slot"])
        .returning(MedicationDose.id)
    )
    if inserted is not None:
        _audit(item)
    return inserted is not None


def undo(item: PlanItem, day: date, slot: int) -> bool:
    """Take back a dose marked by mistake. False when it was not logged."""
    _check(item, slot)
    deleted = db.session.execute(
        sa.delete(MedicationDose)
        .where(
            MedicationDose.item_id == item.id,
            MedicationDose.for_date == day,
            MedicationDose.slot == slot,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if deleted:
        _audit(item)
    return bool(deleted)


def _audit(item: PlanItem) -> None:
    audit.record(
        action="update", resource="careplan.item", resource_id=item.id, patient_id=item.patient_id
    )


# ------------------------------------------------------------------ the medicine's page


@dataclass(frozen=True)
class StripDay:
    day: date
    #: "all", "some", "none", "not_yet" (today, not all taken yet) or "before" (not in the
    #: plan yet that day).
    state: str
    taken: int
    due: int


def week_strip(item: PlanItem, today: date, added_on: date, logged: list) -> list[StripDay]:
    """The last STRIP_DAYS days, oldest first: how many of each day's doses were taken."""
    due = len(times_of(item))
    per_day: dict[date, int] = {}
    for row in logged:
        if row.slot < due:
            per_day[row.for_date] = per_day.get(row.for_date, 0) + 1
    days = []
    for back in range(STRIP_DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        taken = per_day.get(day, 0)
        if taken >= due:
            state = "all"
        elif day == today:
            state = "not_yet"
        elif day < added_on:
            state = "before"
        else:
            state = "some" if taken else "none"
        days.append(StripDay(day, state, min(taken, due), due))
    return days


@item_panel
def dose_panel(patient, item) -> dict:
    """A medicine's page: today's doses (to mark taken) and the 7-day strip (one query)."""
    if item.kind is not ItemKind.MEDICATION:
        return {}
    today = patient.today()
    logged = list(
        db.session.execute(
            taken_statement([item.id], today - timedelta(days=STRIP_DAYS - 1), today)
        )
    )
    taken_today = {(row.item_id, row.slot) for row in logged if row.for_date == today}
    added_on = patient.local(item.created_at).date() if item.created_at else today
    return {
        "doses_today": doses_on([item], taken_today),
        "dose_strip": week_strip(item, today, added_on, logged),
        "may_take": markable(item) and can(current_user, Permission.COMPLETE_TASKS, patient),
    }
