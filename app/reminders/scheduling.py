"""Planning reminder texts: when, to whom, in which words; and appointment reminders.

Every planned reminder goes through `plan_text`: it is planned once per recipient and
occurrence (a unique reminder key), moved out of the recipient's quiet hours or dropped when
that would be too late, counted against the frequency caps (reminders.caps; a capped one is
kept as "skipped" so the patient sees why), and queued for the dispatcher.

Appointment reminders go out at the patient's lead times (e.g. 48 and 2 hours before),
computed on absolute instants, so DST never shifts them. Re-planning (an appointment moved,
cancelled or closed) drops the reminders not yet claimed by the dispatcher and plans new ones.
Medicine, task and goal reminders come from the patient's chosen times (reminders.recurring);
`reminders.replan` decides which of the two an item needs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.careplan.items.models import CLOSED_STATUSES, PlanItem
from app.careplan.translations.reading import text_in
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import Patient
from app.patients.queries import preferences
from app.reminders.caps import make_room
from app.reminders.recipients import Recipient, recipients_for
from app.texting import bodies
from app.texting.links import short_link
from app.texting.models import OutboundSms
from app.texting.outbox import next_allowed, queue_sms


def plan_text(
    *,
    patient: Patient,
    recipient: Recipient,
    purpose: str,
    body: str | Callable[[], str],
    ideal: datetime,
    key: str,
    now: datetime,
    latest: datetime | None = None,
    **links,
) -> OutboundSms | None:
    """Plan one reminder for `ideal`, or later if that is in the recipient's quiet hours (but
    before `latest`). Returns the row, or None if it was planned before or would be too late.
    `body` may be a callable (see `with_link`), called only when the text is queued."""
    if db.session.scalar(sa.select(OutboundSms.id).where(OutboundSms.reminder_key == key)):
        return None  # planned (or sent) already: never twice
    send_at = next_allowed(ideal, recipient.timezone, recipient.quiet_start, recipient.quiet_end)
    if latest is not None and send_at >= latest:
        return None  # after the quiet hours it would be too late to matter
    over = make_room(patient.id, recipient, purpose, send_at)
    row = queue_sms(
        patient=patient,
        to=recipient.phone,
        user_id=recipient.user_id,
        purpose=purpose,
        locale=recipient.locale,
        body=body() if callable(body) else body,
        now=now,
        send_after=send_at,
        reminder_key=key,
        **links,
    )
    if over is not None:
        row.status, row.error_code = "skipped", over
    return row


def with_link(render: Callable[..., str], path: str, *args) -> Callable[[], str]:
    """The words of one text, `render(*args, link)`, with a short link made for that text alone
    (texting.links), made only if the text is queued."""
    return lambda: render(*args, short_link(path))


def appointment_body(item: PlanItem, patient: Patient, recipient: Recipient, link: str) -> str:
    if not recipient.is_patient:
        return bodies.for_caregiver(
            locale=recipient.locale,
            link=link,
            name=patient.display_name,
            when_at=item.starts_at,
            zone=patient.timezone,
        )
    return bodies.appointment(
        locale=recipient.locale,
        link=link,
        when_at=item.starts_at,
        zone=patient.timezone,
        detailed=recipient.detailed,
        # In the patient's language where the team translated it (issue 16).
        title=text_in(item, "title", recipient.locale) if recipient.detailed else item.title,
    )


def drop_waiting(*conditions) -> None:
    """Forget planned reminders that have not gone out yet (queued, or skipped by a cap)."""
    db.session.execute(
        sa.delete(OutboundSms).where(*conditions, OutboundSms.status.in_(("queued", "skipped")))
    )


def replan_appointment(item: PlanItem, now: datetime | None = None) -> int:
    """Drop this appointment's unsent reminders and plan them again. Returns how many."""
    now = now or utcnow()
    drop_waiting(OutboundSms.plan_item_id == item.id)
    if item.starts_at is None or item.status in CLOSED_STATUSES or item.starts_at <= now:
        return 0
    patient = db.session.get(Patient, item.patient_id)
    prefs = preferences(patient.id)
    sensitivity = item.sensitivity.value if item.sensitivity else None
    path = f"/patients/{patient.id}/plan/items/{item.id}"
    planned = 0
    for recipient in recipients_for(patient, "appointment", sensitivity, prefs):
        for lead in sorted(set(prefs.reminder_lead_hours or []), reverse=True):
            ideal = item.starts_at - timedelta(hours=lead)
            if ideal <= now:
                continue
            row = plan_text(
                patient=patient,
                recipient=recipient,
                purpose="appointment",
                body=with_link(appointment_body, path, item, patient, recipient),
                ideal=ideal,
                latest=item.starts_at,
                key=f"appt:{item.id}:{lead}:{recipient.phone}",
                now=now,
                plan_item_id=item.id,
            )
            planned += row is not None and row.status == "queued"
    db.session.flush()
    return planned
