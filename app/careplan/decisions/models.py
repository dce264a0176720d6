"""Shared decisions: a question, its options, and the history of who said what."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import TimestampMixin, enum_column, utcnow
from app.core.privacy import Sensitivity
from app.extensions import db


class DecisionStatus(enum.StrEnum):
    OPEN = "open"
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"


class Decision(TimestampMixin, db.Model):
    __tablename__ = "decisions"
    __table_args__ = (sa.Index("ix_decisions_patient_status", "patient_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    #: The question, in plain words: "How do you want to treat your knee pain?"
    question: Mapped[str] = mapped_column(sa.String(300))
    background: Mapped[str | None] = mapped_column(sa.Text)
    #: The language it was written in (a LANGUAGES code); translations into the readers'
    #: languages: careplan.translations.
    content_language: Mapped[str] = mapped_column(sa.String(8), default="en", server_default="en")
    status: Mapped[DecisionStatus] = mapped_column(
        enum_column(DecisionStatus), default=DecisionStatus.OPEN
    )
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: What the patient (or their caregiver) said they prefer, if anything yet.
    preferred_option_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("decision_options.id", ondelete="SET NULL", use_alter=True)
    )
    final_option_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("decision_options.id", ondelete="SET NULL", use_alter=True)
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column()
    sensitivity: Mapped[Sensitivity | None] = mapped_column(enum_column(Sensitivity))

    options: Mapped[list[DecisionOption]] = relationship(
        back_populates="decision",
        foreign_keys="DecisionOption.decision_id",
        order_by="DecisionOption.position",
        lazy="raise",
        cascade="all, delete-orphan",
    )
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id], lazy="raise")


class DecisionOption(db.Model):
    __tablename__ = "decision_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        sa.ForeignKey("decisions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(160))
    benefits: Mapped[str] = mapped_column(sa.Text)
    risks: Mapped[str] = mapped_column(sa.Text)
    #: What it means day to day.
    day_to_day: Mapped[str] = mapped_column(sa.Text)

    decision: Mapped[Decision] = relationship(
        back_populates="options", foreign_keys=[decision_id], lazy="raise"
    )


class DecisionEntryKind(enum.StrEnum):
    OPENED = "opened"
    WHAT_MATTERS = "what_matters"  # the patient says what matters to them
    QUESTION = "question"
    ANSWER = "answer"
    PREFERENCE = "preference"  # the patient records a preferred option
    FINAL = "final"  # the team records the decision
    WITHDRAWN = "withdrawn"


class DecisionEntry(db.Model):
    """The decision's history: who said what, when. Never edited."""

    __tablename__ = "decision_entries"
    __table_args__ = (sa.Index("ix_decision_entries_decision_time", "decision_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(sa.ForeignKey("decisions.id", ondelete="CASCADE"))
    kind: Mapped[DecisionEntryKind] = mapped_column(enum_column(DecisionEntryKind))
    text: Mapped[str | None] = mapped_column(sa.Text)
    option_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("decision_options.id", ondelete="SET NULL")
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: patient, caregiver or care_team.
    capacity: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="raise")
    option: Mapped[DecisionOption | None] = relationship(lazy="raise")
