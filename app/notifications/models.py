from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import utcnow
from app.extensions import db


class OutboundSms(db.Model):
    """A text to one phone number. Bodies never carry health details (see notifications.sms)."""

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
    #: error_code). Statuses only move forward (see reminders.webhooks).
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    sent_at: Mapped[datetime | None] = mapped_column()
    #: Twilio's message SID once the API accepted it.
    provider_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(sa.String(16))
    #: Attempts so far; the attempt is recorded before the network call.
    attempts: Mapped[int] = mapped_column(default=0)
    #: A dispatcher holds the row until then; an expired lease is reconciled before a resend.
    lease_until: Mapped[datetime | None] = mapped_column()
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
