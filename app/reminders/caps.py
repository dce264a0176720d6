"""Frequency caps: by default at most 1 reminder a day and 3 a week to one phone.

Counted per recipient phone, over the recipient's local calendar day and week (Monday to
Sunday), across every planned reminder that was not skipped or failed. A patient may agree to
more (recorded with the words they saw, reminders.models.TextConsent); then only a daily
ceiling applies to their own phone. Caregivers keep the default caps.

Caps are applied when a reminder is planned, so the patient sees in their history which ones
were left out and why. An appointment reminder outranks medicine, task and goal reminders: if
the day is full, it takes the place of a waiting lower-ranked one. On PostgreSQL an advisory
lock on the phone number makes two planners (workers, web requests) count one after the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.reminders.models import TextConsent
from app.reminders.recipients import CAPPED_PURPOSES, Recipient
from app.texting.models import OutboundSms

RANK = {"appointment": 0, "medication": 1, "task": 2, "goal": 3}
NOT_COUNTED = ("skipped", "failed", "undelivered")


def more_texts_agreed(patient_id: int) -> bool:
    latest = db.session.scalars(
        sa.select(TextConsent.given)
        .where(TextConsent.patient_id == patient_id)
        .order_by(TextConsent.recorded_at.desc(), TextConsent.id.desc())
        .limit(1)
    ).first()
    return bool(latest)


def limits(patient_id: int, recipient: Recipient) -> tuple[int, int | None]:
    cfg = current_app.config
    if recipient.is_patient and more_texts_agreed(patient_id):
        return cfg["REMINDER_CAP_OPTED_IN_PER_DAY"], None
    return cfg["REMINDER_CAP_PER_DAY"], cfg["REMINDER_CAP_PER_WEEK"]


def _windows(send_at: datetime, zone: str) -> tuple[tuple[datetime, datetime], ...]:
    tz = ZoneInfo(zone)
    local = send_at.astimezone(tz)
    day = datetime.combine(local.date(), datetime.min.time(), tz)
    monday = day - timedelta(days=local.weekday())
    return (
        (day.astimezone(send_at.tzinfo), (day + timedelta(days=1)).astimezone(send_at.tzinfo)),
        (
            monday.astimezone(send_at.tzinfo),
            (monday + timedelta(days=7)).astimezone(send_at.tzinfo),
        ),
    )


def _lock(phone: str) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:p))"), {"p": phone})


def _in_window(phone: str, start: datetime, end: datetime):
    return (
        OutboundSms.to_number == phone,
        OutboundSms.purpose.in_(CAPPED_PURPOSES),
        OutboundSms.status.not_in(NOT_COUNTED),
        OutboundSms.send_after >= start,
        OutboundSms.send_after < end,
    )


def make_room(patient_id: int, recipient: Recipient, purpose: str, send_at: datetime) -> str | None:
    """None if a reminder for `recipient` at `send_at` fits under the caps (making room for an
    appointment by skipping a waiting lower-ranked reminder), else "daily_limit" or
    "weekly_limit"."""
    _lock(recipient.phone)
    per_day, per_week = limits(patient_id, recipient)
    for (start, end), cap, reason in zip(
        _windows(send_at, recipient.timezone),
        (per_day, per_week),
        ("daily_limit", "weekly_limit"),
        strict=True,
    ):
        if cap is None:
            continue
        used = db.session.scalar(
            sa.select(sa.func.count(OutboundSms.id)).where(*_in_window(recipient.phone, start, end))
        )
        if used < cap:
            continue
        bumped = _lower_ranked_waiting(recipient.phone, start, end, purpose)
        if bumped is None:
            return reason
        bumped.status, bumped.error_code = "skipped", reason
    return None


def _lower_ranked_waiting(phone: str, start: datetime, end: datetime, purpose: str):
    lower = [p for p, rank in RANK.items() if rank > RANK[purpose]]
    if not lower:
        return None
    return db.session.scalars(
        sa.select(OutboundSms)
        .where(
            *_in_window(phone, start, end),
            OutboundSms.status == "queued",
            OutboundSms.purpose.in_(lower),
        )
        .order_by(OutboundSms.send_after.desc())
        .limit(1)
    ).first()
