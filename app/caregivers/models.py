"""Delegated access: which caregiver may do what for which patient, and until when."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.auth.models import User
from app.core.db import TimestampMixin, enum_column, utcnow
from app.core.text import plain_name
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


class GrantKind(enum.StrEnum):
    """Who set the grant up, and on what footing."""

    DELEGATE = "delegate"  # the patient invited the caregiver
    GUARDIAN = "guardian"  # the care team: parent or legal guardian of a minor
    LEGAL_REPRESENTATIVE = "legal_representative"  # the care team: for an adult (POA, guardian)


class EndedReason(enum.StrEnum):
    """Why the rules (not a person) ended a grant; written by `lifecycle.sweep`."""

    EXPIRED = "expired"  # ends_at passed
    AGE_OF_MAJORITY = "age_of_majority"  # the patient turned ADULT_AGE


class Relation(enum.StrEnum):
    """Who the caregiver is to the patient, shown translated and phrased so it cannot be
    misread ("Rosa Martínez, Leo's mother"). OTHER keeps the patient's own words in
    `relationship_label`. (Named `relation` on the models: `relationship` is SQLAlchemy's.)"""

    PARENT = "parent"
    MOTHER = "mother"
    FATHER = "father"
    CHILD = "child"
    DAUGHTER = "daughter"
    SON = "son"
    SPOUSE = "spouse"
    PARTNER = "partner"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    OTHER_FAMILY = "other_family"
    FRIEND = "friend"
    NEIGHBOR = "neighbor"
    LEGAL_GUARDIAN = "legal_guardian"
    OTHER = "other"


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
    #: Who the caregiver is to the patient; shown translated (caregivers.labels.RELATIONS).
    relation: Mapped[Relation] = mapped_column(
        enum_column(Relation), default=Relation.OTHER, server_default="other"
    )
    #: In the patient's words: "daughter", "mother", "neighbor"; shown when `relationship`
    #: is OTHER ("Other (say who)").
    relationship_label: Mapped[str] = mapped_column(sa.String(60), default="")
    #: List of Scope values.
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Sensitive categories the patient chose to include (core.privacy.GRANTABLE names;
    #: excluded by default).
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
    #: delegate (the patient's own invitation), guardian (a minor's parent or legal guardian)
    #: or legal_representative (an adult's), the last two set up by the care team.
    kind: Mapped[GrantKind] = mapped_column(
        enum_column(GrantKind, length=24),
        default=GrantKind.DELEGATE,
        server_default=GrantKind.DELEGATE.value,
    )
    #: For a guardian grant: the legal authority that lets it go on past the patient's
    #: ADULT_AGE birthday (e.g. a court-appointed guardianship); NULL means it ends then.
    continuing_authority: Mapped[str | None] = mapped_column(sa.String(200))
    continuing_authority_recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    continuing_authority_recorded_at: Mapped[datetime | None] = mapped_column()
    #: An EndedReason value once the scheduled sweep ended the grant (NULL otherwise).
    ended_reason: Mapped[str | None] = mapped_column(sa.String(24))
    #: When the patient was reminded that ends_at is near (sent once).
    expiry_notice_sent_at: Mapped[datetime | None] = mapped_column()
    #: When the guardian was told the patient reached ADOLESCENT_AGE (sent once).
    adolescent_notice_sent_at: Mapped[datetime | None] = mapped_column()
    #: When the patient first saw the notice that the care team set this grant up.
    patient_notice_seen_at: Mapped[datetime | None] = mapped_column()

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


class CaregiverInvitation(db.Model):
    """A patient's invitation to someone to help with their care, sent by email or by text.

    The link carries this row's id and a random secret (signed with itsdangerous); only the
    secret's hash is kept. Accepting it creates a CaregiverGrant with exactly what the patient
    chose here. The link works once, until `expires_at`, and the patient can cancel it.
    """

    __tablename__ = "caregiver_invitations"
    __table_args__ = (sa.CheckConstraint("(email IS NULL) <> (phone IS NULL)", name="one_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: The invitee's name as the patient typed it.
    name: Mapped[str] = mapped_column(sa.String(120))

    @validates("name")
    def _plain_name(self, key: str, value: str) -> str:
        return plain_name(value)

    #: Where the link went: an email address (lower-cased) or an E.164 mobile, never both.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(16))
    #: As on the grant: the choice, and the patient's own words for "Other".
    relation: Mapped[Relation] = mapped_column(
        enum_column(Relation), default=Relation.OTHER, server_default="other"
    )
    relationship_label: Mapped[str] = mapped_column(sa.String(60), default="")
    #: Scope values and included sensitive categories, copied onto the grant on acceptance.
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    sensitive_categories: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: When the access will end (NULL: until the patient ends it).
    ends_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The link stops working then (CAREGIVER_INVITE_HOURS after it was sent).
    expires_at: Mapped[datetime] = mapped_column()
    #: sha256 of the random secret in the link.
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    accepted_at: Mapped[datetime | None] = mapped_column()
    accepted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None] = mapped_column()
    #: Proof that whoever accepts holds the email or phone the link went to: sha256 of a
    #: 6-digit code sent there, until when it works, the tries on it and the codes sent.
    proof_code_hash: Mapped[str | None] = mapped_column(sa.String(64))
    proof_expires_at: Mapped[datetime | None] = mapped_column()
    proof_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    proof_sends: Mapped[int] = mapped_column(default=0, server_default="0")

    patient: Mapped[Patient] = relationship(lazy="raise")
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id], lazy="raise")

    @property
    def channel(self) -> str:
        return "sms" if self.phone else "email"

    @classmethod
    def pending_at(cls, now: datetime):
        """SQL twin of `problem(now) is None`: not accepted, cancelled or expired."""
        return sa.and_(
            cls.accepted_at.is_(None),
            cls.cancelled_at.is_(None),
            cls.expires_at > now,
            sa.or_(cls.ends_at.is_(None), cls.ends_at > now),
        )

    def problem(self, now: datetime | None = None) -> str | None:
        """Why the link no longer works ("used", "cancelled", "expired"), or None."""
        if self.accepted_at is not None:
            return "used"
        if self.cancelled_at is not None:
            return "cancelled"
        now = now or utcnow()
        if self.expires_at <= now or (self.ends_at is not None and self.ends_at <= now):
            return "expired"  # the link, or the access it offered, has run out
        return None
