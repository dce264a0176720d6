"""Proving a mobile number is the patient's: a 6-digit code by text, 10 minutes, 5 tries."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.db import utcnow
from app.core.i18n import recipient_locale
from app.core.signals import patient_contact_changed
from app.extensions import db
from app.reminders.models import PhoneVerification
from app.texting import bodies
from app.texting.outbox import queue_sms

CODE_MINUTES = 10
MAX_TRIES = 5


class VerificationError(Exception):
    pass


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def start(patient, phone: str) -> PhoneVerification:
    """Text a fresh code to `phone`, in the patient's language; earlier codes stop working."""
    now = utcnow()
    locale = recipient_locale(patient)
    db.session.execute(
        sa.update(PhoneVerification)
        .where(PhoneVerification.patient_id == patient.id, PhoneVerification.verified_at.is_(None))
        .values(expires_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    row = PhoneVerification(
        patient_id=patient.id,
        phone=phone,
        code_hash=_hash(code),
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    db.session.add(row)
    body = bodies.code(locale=locale, code=code, minutes=CODE_MINUTES)
    # Asked for right now by the person holding the phone: quiet hours do not apply.
    queue_sms(
        patient=patient,
        to=phone,
        user_id=patient.user_id,
        purpose="verify",
        locale=locale,
        body=body,
        now=now,
        send_after=now,
    )
    return row


def pending(patient_id: int) -> PhoneVerification | None:
    return db.session.scalars(
        sa.select(PhoneVerification)
        .where(PhoneVerification.patient_id == patient_id, PhoneVerification.verified_at.is_(None))
        .order_by(PhoneVerification.id.desc())
        .limit(1)
    ).first()


def check(patient, code: str) -> None:
    """Save the number if the code is right. Wrong tries are counted (and committed)."""
    row = pending(patient.id)
    now = utcnow()
    if row is None or row.expires_at <= now:
        raise VerificationError(_l("This code has expired. Ask for a new one."))
    if row.attempts >= MAX_TRIES:
        raise VerificationError(_l("Too many wrong tries. Ask for a new code."))
    row.attempts += 1
    if not hmac.compare_digest(row.code_hash, _hash((code or "").strip())):
        raise VerificationError(_l("That code is not right. Check the text and try again."))
    row.verified_at = now
    old_phone = patient.mobile_phone
    patient.mobile_phone = row.phone
    patient.mobile_phone_verified_at = now
    db.session.flush()
    audit.record(action="update", resource="patient.profile", patient_id=patient.id)
    if old_phone != row.phone:
        patient_contact_changed.send(patient, old_phone=old_phone)
        if old_phone:
            _tell_the_old_number(patient, old_phone, now)


def _tell_the_old_number(patient, old_phone: str, now) -> None:
    """Whoever holds the old number learns it was replaced (never the new one), at once."""
    locale = recipient_locale(patient)
    queue_sms(
        patient=patient,
        to=old_phone,
        user_id=patient.user_id,
        purpose="number_changed",
        locale=locale,
        body=bodies.number_changed(
            locale=locale, help_phone=current_app.config["CCO_CONTACT_PHONE"]
        ),
        now=now,
        send_after=now,
    )
