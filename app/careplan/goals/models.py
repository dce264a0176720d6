"""Goals in the patient's own words (FHIR Goal) and check-ins on them."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import TimestampMixin, enum_column, utcnow
from app.core.privacy import Sensitivity
from app.extensions import db


class GoalLifecycle(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"  # declined by the patient, with a reason


class GoalAchievement(enum.StrEnum):
    IN_PROGRESS = "in-progress"
    IMPROVING = "improving"
    WORSENING = "worsening"
    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not-achieved"


class Goal(TimestampMixin, db.Model):
    __tablename__ = "goals"
    __table_args__ = (sa.Index("ix_goals_patient_status", "patient_id", "lifecycle_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    #: What, in the patient's own words.
    description: Mapped[str] = mapped_column(sa.String(300))
    why_it_matters: Mapped[str | None] = mapped_column(sa.Text)
    #: The language it was written in (a LANGUAGES code); translations into the readers'
    #: languages: careplan.translations.
    content_language: Mapped[str] = mapped_column(sa.String(8), default="en", server_default="en")
    #: The target in words ("walk to the mailbox and back").
    target_text: Mapped[str | None] = mapped_column(sa.String(200))
    #: An optional number to track (steps, A1c...), with its unit.
    target_value: Mapped[float | None] = mapped_column()
    target_unit: Mapped[str | None] = mapped_column(sa.String(24))
    #: Whether a higher number is better (steps) or a lower one (A1c); NULL when no number.
    higher_is_better: Mapped[bool | None] = mapped_column()
    due_date: Mapped[date | None] = mapped_column()
    start_date: Mapped[date | None] = mapped_column()
    lifecycle_status: Mapped[GoalLifecycle] = mapped_column(enum_column(GoalLifecycle))
    achievement_status: Mapped[GoalAchievement | None] = mapped_column(enum_column(GoalAchievement))
    #: Who expressed the goal (FHIR Goal.expressedBy), and in which capacity.
    expressed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    expressed_by_capacity: Mapped[str] = mapped_column(sa.String(16))
    #: Why the patient declined a proposed goal, or why it was cancelled.
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    sensitivity: Mapped[Sensitivity | None] = mapped_column(enum_column(Sensitivity))

    expressed_by: Mapped[User | None] = relationship(lazy="raise")


class GoalCheckIn(db.Model):
    __tablename__ = "goal_check_ins"
    __table_args__ = (sa.Index("ix_goal_check_ins_goal_time", "goal_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals.id", ondelete="CASCADE"))
    value: Mapped[float | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(sa.Text)
    achievement_status: Mapped[GoalAchievement | None] = mapped_column(enum_column(GoalAchievement))
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    capacity: Mapped[str] = mapped_column(sa.String(16))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    recorded_by: Mapped[User | None] = relationship(lazy="raise")
