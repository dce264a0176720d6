"""Texts and emails that say something is waiting, never what it is about.

Each is rendered in the recipient's language. Texts respect the patient's quiet hours (they
wait in the outbox until the next allowed time). Rows are written in the request's
transaction; delivery happens after commit (`deliver_due`) or from `flask notifications send`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_request_context, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.auth.models import User
from app.caregivers.models import Scope
from app.caregivers.policy import hidden_for
from app.core.db import utcnow
from app.core.mail import queue_email
from app.core.uow import on_commit
from app.extensions import db
from app.notifications.models import OutboundSms
from app.patients.models import Patient
from app.patients.queries import current_caregivers, preferences


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


def public_link(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


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


def team_replied(thread) -> None:
    """Tell the patient and caregivers with the messages scope that the team answered."""
    from app.reminders import bodies
    from app.reminders.links import short_link
    from app.reminders.recipients import recipients_for

    patient = db.session.get(Patient, thread.patient_id)
    prefs = preferences(patient.id)
    path = f"/patients/{patient.id}/messages/{thread.id}"
    link = public_link(path)
    channels = set(prefs.contact_channels or [])
    patient_user = db.session.get(User, patient.user_id) if patient.user_id else None
    locale = patient_user.locale if patient_user and patient_user.locale else patient.language
    if locale not in current_app.config["LANGUAGES"]:
        locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    for recipient in recipients_for(patient, "team_replied", None, prefs):
        queue_sms(
            patient=patient,
            to=recipient.phone,
            user_id=recipient.user_id,
            purpose="team_replied",
            locale=recipient.locale,
            body=bodies.team_replied(locale=recipient.locale, link=short_link(path)),
        )
    if "email" in channels and patient_user is not None and patient_user.active:
        _email(patient_user, locale, link)
    for grant in current_caregivers(patient.id):
        if (
            Scope.MESSAGES.value in (grant.scopes or [])
            and grant.caregiver.active
            and (
                thread.sensitivity is None
                or thread.sensitivity.value not in hidden_for(grant, patient)
            )
        ):
            caregiver = grant.caregiver
            _email(caregiver, caregiver.locale or current_app.config["BABEL_DEFAULT_LOCALE"], link)


def _email(user: User, locale: str, link: str) -> None:
    with force_locale(locale):
        subject = _("You have a new message in CareCircle")
        body = render_template("notifications/new_message.txt", user=user, link=link)
    queue_email(to=user.email, subject=subject, body=body, user_id=user.id)


def deliver_due(now: datetime | None = None) -> int:
    """Hand queued texts whose time has come to the SMS backend. Returns how many."""
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
