"""Reminder settings the patient chose: times for medicines, tasks and goals; consent to more
texts; the texted code that proves a new mobile number."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import utcnow
from app.extensions import db


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


class ReminderSchedule(db.Model):
    """When the patient wants a text about a medicine, a task or a goal check-in.

    Times are wall-clock times in the patient's time zone ("08:00"), so a reminder stays at
    08:00 across DST changes. `weekdays` (0 = Monday) limits the days; None means every day.
    The planner turns the next day's occurrences into outbox rows (reminders.recurring).
    """

    __tablename__ = "reminder_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    plan_item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("plan_items.id", ondelete="CASCADE"), unique=True
    )
    goal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("goals.id", ondelete="CASCADE"), unique=True
    )
    times: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    weekdays: Mapped[list[int] | None] = mapped_column(sa.JSON)
    active: Mapped[bool] = mapped_column(default=True)
    #: Every occurrence before this instant is planned; it is the first one that is not (or a
    #: week past the horizon when none comes sooner). The planner looks at the schedule again
    #: only once it comes within REMINDER_PLAN_HOURS; NULL: plan it on the next round.
    planned_until: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )


class TextConsent(db.Model):
    """The patient's agreement to more texts than the caps allow, with the exact words shown.

    Append-only history: the latest row for a patient is the one in force.
    """

    __tablename__ = "text_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    given: Mapped[bool] = mapped_column()
    #: The sentence the person agreed to (or withdrew), in the language it was shown in.
    wording: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.String(8))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
