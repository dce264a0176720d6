"""Telling people something is waiting for them, by text or email, never what it is about.

Listens to `thread_answered` (see core.signals): when the care team writes to the patient
side, the patient gets a text (if they chose texts) and an email (if they chose email), and
each caregiver who may read that thread gets an email. Everything is written in the
recipient's language and queued in the request's transaction; texts wait for quiet hours.
"""

from __future__ import annotations

from app.auth.models import User
from app.caregivers.models import Scope
from app.caregivers.policy import hidden_for
from app.caregivers.queries import grants_in_force
from app.core.mail import send_template
from app.core.privacy import is_visible
from app.core.urls import public_url
from app.extensions import db
from app.patients.models import Patient
from app.patients.queries import preferences
from app.reminders.recipients import recipients_for
from app.texting import bodies
from app.texting.links import short_link
from app.texting.outbox import queue_sms

EMAIL = "notifications/email/new_message.txt"


def team_replied(thread, **_signal) -> None:
    """Tell the patient side that the team answered in `thread`."""
    patient = db.session.get(Patient, thread.patient_id)
    prefs = preferences(patient.id)
    path = f"/patients/{patient.id}/messages/{thread.id}"
    db.session.refresh(thread, ["effective_sensitivity"])  # as the thread reads now
    sensitivity = thread.effective_sensitivity.value if thread.effective_sensitivity else None
    for recipient in recipients_for(patient, "team_replied", sensitivity, prefs):
        queue_sms(
            patient=patient,
            to=recipient.phone,
            user_id=recipient.user_id,
            purpose="team_replied",
            locale=recipient.locale,
            body=bodies.team_replied(
                locale=recipient.locale,
                link=short_link(path),
            ),
        )
    link = public_url(path)
    patient_user = db.session.get(User, patient.user_id) if patient.user_id else None
    wants_email = "email" in (prefs.contact_channels or [])
    if wants_email and patient_user is not None and patient_user.active:
        send_template(
            EMAIL,
            patient,
            email=patient_user.email,
            user_id=patient_user.id,
            user=patient_user,
            link=link,
        )
    for grant in grants_in_force(patient_id=patient.id):
        caregiver = grant.caregiver
        if (
            Scope.MESSAGES.value in (grant.scopes or [])
            and caregiver.active
            and is_visible(sensitivity, hidden_for(grant, patient))
        ):
            send_template(EMAIL, caregiver, user=caregiver, link=link)
