"""Patients: the people whose record this portal is about."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import TimestampMixin
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
    #: The CCO's member id.
    member_number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    #: When the patient last opened their record (used by "What changed").
    last_viewed_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User | None] = relationship(lazy="raise")

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.given_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years
