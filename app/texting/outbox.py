"""The SMS outbox: every text, whatever it is for, is queued here with `queue_sms`.

A row is written in the caller's transaction, so a text about something that was rolled back
never exists. By default a text waits for the end of the patient's quiet hours. The `outbox`
backend stores due texts after the commit (`deliver_due`, or `flask notifications send`); with
Twilio, the dispatcher (`texting.dispatcher`, run by `flask reminders run`) sends them.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_request_context

from app.core.db import utcnow
from app.core.uow import on_commit
from app.extensions import db
from app.patients.models import Patient
from app.patients.queries import preferences
from app.texting.models import OutboundSms


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window crosses midnight


def next_allowed(now: datetime, zone: str, start: time, end: time) -> datetime:
    """`now`, or the end of the quiet hours it falls in, in the recipient's time zone."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    if not in_quiet_hours(local.time(), start, end):
        return now
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tz).astimezone(now.tzinfo)


def queue_sms(
    *,
    patient: Patient,
    to: str,
    user_id: int | None,
    purpose: str,
    locale: str,
    body: str,
    now: datetime | None = None,
    send_after: datetime | None = None,
    **links,
) -> OutboundSms:
    """Put a text in the outbox. By default it waits for the end of the patient's quiet
    hours; callers that planned their own time (reminders, codes asked for right now) pass
    `send_after`. `links` are extra columns such as plan_item_id and reminder_key."""
    now = now or utcnow()
    if send_after is None:
        prefs = preferences(patient.id)
        send_after = next_allowed(now, patient.timezone, prefs.quiet_start, prefs.quiet_end)
    row = OutboundSms(
        to_number=to,
        user_id=user_id,
        patient_id=patient.id,
        purpose=purpose,
        locale=locale,
        body=body,
        created_at=now,
        send_after=send_after,
        **links,
    )
    db.session.add(row)
    db.session.flush()
    if has_request_context() and current_app.config["SMS_BACKEND"] == "outbox":
        # Nothing leaves the building: store it now. Real backends are sent by the
        # dispatcher (flask reminders run), never on a web request's path.
        on_commit(deliver_due)
    return row


def deliver_due(now: datetime | None = None) -> int:
    """Store queued texts whose time has come, with the `outbox` backend (nothing leaves the
    building). Returns how many. With a real backend it does nothing: the dispatcher sends
    them, and marking them here would lose every one."""
    if current_app.config["SMS_BACKEND"] != "outbox":
        return 0
    now = now or utcnow()
    rows = list(
        db.session.scalars(
            sa.select(OutboundSms).where(
                OutboundSms.status == "queued", OutboundSms.send_after <= now
            )
        )
    )
    for row in rows:
        # The outbox backend keeps texts for admins; the reminders work adds Twilio.
        row.status = "stored"
        row.sent_at = now
    db.session.commit()
    return len(rows)
