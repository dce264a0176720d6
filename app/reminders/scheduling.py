"""Planning reminder texts: when, to whom, in which words.

Appointment reminders go out at the patient's lead times (e.g. 48 and 2 hours before). Times
are computed on absolute instants, so DST never shifts them. A reminder that would fall in
the patient's quiet hours moves to the end of them, or is dropped if that is too late to
matter (at or after the appointment). Bodies never name the clinic, doctor or reason unless
the patient chose detailed texts. Re-planning (an appointment moved, cancelled or closed)
drops the reminders not yet claimed by the dispatcher and plans new ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _

from app.careplan.models import CLOSED_STATUSES, ItemKind, PlanItem
from app.core.db import utcnow
from app.extensions import db
from app.notifications.models import OutboundSms
from app.notifications.services import next_allowed, public_link, queue_sms
from app.patients.models import Patient
from app.patients.queries import preferences
from app.reminders.optout import is_opted_out


def _locale(patient: Patient) -> str:
    if patient.language in current_app.config["LANGUAGES"]:
        return patient.language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def appointment_body(item: PlanItem, patient: Patient, locale: str, detailed: bool) -> str:
    link = public_link(f"/patients/{patient.id}/plan/items/{item.id}")
    with force_locale(locale):
        when = format_datetime(
            item.starts_at.astimezone(ZoneInfo(patient.timezone)),
            "EEE d MMM, HH:mm" if locale != "en" else "EEE MMM d, h:mm a",
        )
        if detailed:
            return _(
                "CareCircle: %(title)s, %(when)s. Reply C to confirm, R to change. %(link)s",
                title=item.title,
                when=when,
                link=link,
            )
        return _(
            "CareCircle: you have an appointment %(when)s. Reply C to confirm, R to "
            "change. %(link)s",
            when=when,
            link=link,
        )


def replan_item(item: PlanItem, now: datetime | None = None) -> int:
    """Drop this item's unsent reminders and plan them again. Returns how many are planned."""
    now = now or utcnow()
    db.session.execute(
        sa.delete(OutboundSms)
        .where(OutboundSms.plan_item_id == item.id, OutboundSms.status == "queued")
        .execution_options(synchronize_session=False)
    )
    if item.kind is not ItemKind.APPOINTMENT or item.starts_at is None:
        return 0
    if item.status in CLOSED_STATUSES or item.starts_at <= now:
        return 0
    patient = db.session.get(Patient, item.patient_id)
    prefs = preferences(patient.id)
    phone = patient.mobile_phone
    if not phone or "sms" not in (prefs.contact_channels or []) or is_opted_out(phone):
        return 0
    locale = _locale(patient)
    body = appointment_body(item, patient, locale, prefs.detailed_texts)
    planned = 0
    for lead in sorted(set(prefs.reminder_lead_hours or []), reverse=True):
        ideal = item.starts_at - timedelta(hours=lead)
        if ideal <= now:
            continue
        send_at = next_allowed(ideal, patient.timezone, prefs.quiet_start, prefs.quiet_end)
        if send_at >= item.starts_at:
            continue  # after the quiet hours it would be too late to matter
        key = f"appt:{item.id}:{lead}:{phone}"
        already = db.session.scalar(
            sa.select(OutboundSms.id).where(OutboundSms.reminder_key == key)
        )
        if already is not None:
            continue  # claimed or sent already: never twice
        queue_sms(
            patient=patient,
            to=phone,
            user_id=patient.user_id,
            purpose="appointment",
            locale=locale,
            body=body,
            now=now,
            send_after=send_at,
            plan_item_id=item.id,
            reminder_key=key,
        )
        planned += 1
    db.session.flush()
    return planned
