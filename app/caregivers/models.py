"""Delegated access: which caregiver may do what for which patient, and until when."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import TimestampMixin, utcnow
from app.extensions import db
from app.patients.models import Patient


class Scope(enum.StrEnum):
    """What a patient can let a caregiver do. Seeing the basic summary comes with any grant."""

    PLAN = "plan"  # see the care plan
    MESSAGES = "messages"  # see and send messages
    REMINDERS = "reminders"  # get reminders
    APPOINTMENTS = "appointments"  # manage appointments
    GOALS = "goals"  # edit goals and preferences
    DECISIONS = "decisions"  # take part in decisions


class SensitiveCategory(enum.StrEnum):
    BEHAVIORAL_HEALTH = "behavioral_health"
    SUBSTANCE_USE = "substance_use"
    SEXUAL_REPRODUCTIVE = "sexual_reproductive"


class CaregiverGrant(TimestampMixin, db.Model):
    __tablename__ = "caregiver_grants"
    __table_args__ = (
        sa.Index("ix_caregiver_grants_caregiver_patient", "caregiver_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    caregiver_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    #: In the patient's words: "daughter", "mother", "neighbor".
    relationship_label: Mapped[str] = mapped_column(sa.String(60))
    #: List of Scope values.
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Sensitive categories the patient chose to include (excluded by default).
    sensitive_categories: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Legal authority when the care team set the grant up (guardian, POA...).
    legal_authority: Mapped[str | None] = mapped_column(sa.String(120))
    document_reference: Mapped[str | None] = mapped_column(sa.String(120))
    granted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    caregiver: Mapped[User] = relationship(foreign_keys=[caregiver_id], lazy="raise")
    patient: Mapped[Patient] = relationship(lazy="raise")

    @classmethod
    def current_at(cls, now: datetime):
        """SQL twin of `is_current`: not revoked, started, not ended."""
        return sa.and_(
            cls.revoked_at.is_(None),
            cls.starts_at <= now,
            sa.or_(cls.ends_at.is_(None), cls.ends_at > now),
        )

    def is_current(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if self.revoked_at is not None or self.starts_at > now:
            return False
        return self.ends_at is None or self.ends_at > now

    def allows(self, scope: Scope) -> bool:
        return scope.value in (self.scopes or [])
