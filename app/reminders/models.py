"""SMS state that belongs to a phone number, and what came in from Twilio."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import utcnow
from app.extensions import db


class PhoneOptOut(db.Model):
    """A number that texted STOP (or was reported unsubscribed). START clears it."""

    __tablename__ = "phone_opt_outs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: E.164.
    phone: Mapped[str] = mapped_column(sa.String(16), unique=True)
    opted_out: Mapped[bool] = mapped_column(default=True)
    #: The keyword or error that changed it (STOP, START, 21610...).
    reason: Mapped[str] = mapped_column(sa.String(16))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InboundSms(db.Model):
    """One text received, by Twilio message SID (a retried webhook is handled once)."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    from_number: Mapped[str] = mapped_column(sa.String(16), index=True)
    patient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="SET NULL"), index=True
    )
    #: What we did with it: opt_out, opt_in, help, confirm, reschedule, message, unknown.
    handled_as: Mapped[str] = mapped_column(sa.String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class PhoneVerification(db.Model):
    """A code texted to a new number; the number is saved only once the code comes back."""

    __tablename__ = "phone_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    phone: Mapped[str] = mapped_column(sa.String(16))
    #: sha256 of the 6-digit code.
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    verified_at: Mapped[datetime | None] = mapped_column()
