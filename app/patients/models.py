"""Patients: the people whose record this portal is about."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.auth.models import User
from app.core.db import TimestampMixin, utcnow
from app.core.text import plain_name
from app.extensions import db


class Patient(TimestampMixin, db.Model):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The patient's own login; NULL while they have none (e.g. a young child).
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    given_name: Mapped[str] = mapped_column(sa.String(80))
    family_name: Mapped[str] = mapped_column(sa.String(80))
    #: What the patient wants to be called; shown everywhere instead of the legal name.
    preferred_name: Mapped[str | None] = mapped_column(sa.String(80))
    pronouns: Mapped[str | None] = mapped_column(sa.String(40))
    date_of_birth: Mapped[date] = mapped_column()
    #: Preferred language for care and for texts (a BCP 47 tag such as "es").
    language: Mapped[str] = mapped_column(sa.String(8), default="en")
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    #: IANA time zone, used for reminders and for showing times.
    timezone: Mapped[str] = mapped_column(sa.String(64), default="America/Los_Angeles")
    #: Mobile phone in E.164 (validated with phonenumbers).
    mobile_phone: Mapped[str | None] = mapped_column(sa.String(16))
    #: When the patient proved the number is theirs with a texted code (NULL: not verified).
    mobile_phone_verified_at: Mapped[datetime | None] = mapped_column()
    #: The CCO's member id.
    member_number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    #: When the patient last opened their record (used by "What changed").
    last_viewed_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User | None] = relationship(lazy="raise")

    @validates("given_name", "family_name", "preferred_name", "pronouns")
    def _plain_name(self, key: str, value: str | None) -> str | None:
        value = plain_name(value)
        return None if not value and key in ("preferred_name", "pronouns") else value

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.given_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def zone(self) -> ZoneInfo:
        """The patient's time zone (the default one if what is stored is unknown)."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])

    def today(self, now: datetime | None = None) -> date:
        """The patient's calendar day at `now`: days (and birthdays) start at their midnight."""
        return self.local(now or utcnow()).date()

    def local(self, instant: datetime) -> datetime:
        """An instant as the patient's clock shows it."""
        return instant.astimezone(self.zone)

    def locale_choices(self) -> tuple[str | None, ...]:
        """The languages to write to the patient in: the interface language of their own
        account, then the language of care the team recorded (`core.i18n.recipient_locale`)."""
        user = db.session.get(User, self.user_id) if self.user_id is not None else None
        return (user.locale if user is not None else None, self.language)

    def age_on(self, day: date) -> int:
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years


#: The kinds of text reminder a patient can turn on or off, one per purpose of a text.
REMINDER_KINDS = ("appointment", "medication", "task", "goal", "team_replied")


class PatientPreferences(TimestampMixin, db.Model):
    """How the patient wants to be cared for and contacted. The team sees it on the summary."""

    __tablename__ = "patient_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    #: Any of "sms", "email", "portal"; ["portal"] means portal only.
    contact_channels: Mapped[list[str]] = mapped_column(sa.JSON, default=lambda: ["sms", "portal"])
    #: No texts between these local times (default 20:00-09:00, in the patient's time zone).
    quiet_start: Mapped[time] = mapped_column(default=time(20, 0))
    quiet_end: Mapped[time] = mapped_column(default=time(9, 0))
    #: Hours before an appointment to remind, e.g. [48, 2].
    reminder_lead_hours: Mapped[list[int]] = mapped_column(sa.JSON, default=lambda: [48, 2])
    #: Texts may name the medicine, clinic or test (otherwise they only say something is due).
    detailed_texts: Mapped[bool] = mapped_column(default=False)
    #: Which text reminders the patient wants (a subset of REMINDER_KINDS).
    reminder_kinds: Mapped[list[str]] = mapped_column(
        sa.JSON,
        default=lambda: list(REMINDER_KINDS),
        server_default='["appointment", "medication", "task", "goal", "team_replied"]',
    )
    large_text: Mapped[bool] = mapped_column(default=False)
    high_contrast: Mapped[bool] = mapped_column(default=False)
    screen_reader: Mapped[bool] = mapped_column(default=False)
    #: "What matters most to me", in the patient's words.
    what_matters_most: Mapped[str | None] = mapped_column(sa.Text)
    preferred_pharmacy: Mapped[str | None] = mapped_column(sa.String(160))
    #: Who to involve in decisions, in the patient's words.
    decision_involvement: Mapped[str | None] = mapped_column(sa.Text)
