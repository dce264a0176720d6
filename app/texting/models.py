"""Texts in and out: the SMS outbox, what came in from Twilio, opted-out numbers, short links."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import utcnow
from app.extensions import db


class OutboundSms(db.Model):
    """A text to one phone number (the SMS outbox). Bodies carry no health details unless the
    patient chose detailed texts (see texting.bodies)."""

    __tablename__ = "outbound_sms"
    __table_args__ = (sa.Index("ix_outbound_sms_status_send_after", "status", "send_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    to_number: Mapped[str] = mapped_column(sa.String(16))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    patient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="SET NULL"), index=True
    )
    #: What it is for, e.g. "team_replied" (never a diagnosis or medicine).
    purpose: Mapped[str] = mapped_column(sa.String(32))
    locale: Mapped[str] = mapped_column(sa.String(8))
    body: Mapped[str] = mapped_column(sa.String(320))
    #: Not before this time (quiet hours push it to the next allowed time).
    send_after: Mapped[datetime] = mapped_column(default=utcnow)
    #: queued, sending, stored (outbox backend), then Twilio's: accepted, sent, delivered,
    #: undelivered, failed; or skipped (never sent: a frequency cap or a changed setting, see
    #: error_code). Statuses only move forward (see texting.webhooks).
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    sent_at: Mapped[datetime | None] = mapped_column()
    #: Twilio's message SID once the API accepted it.
    provider_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(sa.String(16))
    #: Sends whose outcome a dispatcher saw (accepted, refused, or no answer); a worker that
    #: died mid-way does not count (see docs/texting.md).
    attempts: Mapped[int] = mapped_column(default=0)
    #: A dispatcher holds the row until then; an expired lease is reconciled before a resend.
    lease_until: Mapped[datetime | None] = mapped_column()
    #: Who holds the row ("sending"): a random token written at claim. A worker renews its
    #: lease and records a result only WHERE the token is still its own (fencing).
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    #: Set just before the request to the provider; with no SID yet, the text may have gone,
    #: so it is looked up at the provider (from a minute before this) before any resend.
    send_started_at: Mapped[datetime | None] = mapped_column()
    #: The plan item a reminder is about (re-planned when the item moves or closes).
    plan_item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("plan_items.id", ondelete="SET NULL"), index=True
    )
    #: The patient-chosen schedule a medicine/task/goal reminder came from.
    schedule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reminder_schedules.id", ondelete="SET NULL"), index=True
    )
    #: Identifies one planned reminder ("appt:<item>:<lead>:<number>"): never planned twice.
    reminder_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)


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
    #: What we did with it: opt_out, opt_in, help, confirm, reschedule, message, picture
    #: (an MMS without words), empty (nothing to post), unknown.
    handled_as: Mapped[str] = mapped_column(sa.String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: MMS pictures (and other media) as Twilio sent them: [{"url", "content_type"}], the URLs
    #: on api.twilio.com; NULL for a plain text.
    media: Mapped[list[dict] | None] = mapped_column(sa.JSON)


class SmsStatusEarly(db.Model):
    """A delivery status callback for a SID not stored yet: Twilio can call back before the
    dispatcher has written the SID it was just given. Applied when the SID lands
    (`texting.status.apply_early`); rows older than a day are dropped."""

    __tablename__ = "sms_status_early"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The furthest status heard so far (statuses only move forward, see texting.status).
    status: Mapped[str] = mapped_column(sa.String(16))
    error_code: Mapped[str | None] = mapped_column(sa.String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShortLink(db.Model):
    """A short code for a portal path, so a text stays one segment and carries no ids."""

    __tablename__ = "short_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    path: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
