"""The patient-facing change log of the whole plan ("What changed"), for items, goals and
decisions alike."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.db import enum_column, utcnow
from app.core.privacy import Sensitivity
from app.extensions import db


class ChangeSubject(enum.StrEnum):
    ITEM = "item"
    GOAL = "goal"
    DECISION = "decision"


class ChangeKind(enum.StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    STOPPED = "stopped"
    COMPLETED = "completed"


class PlanChange(db.Model):
    """What changed in the plan, in the words the patient reads on "What changed"."""

    __tablename__ = "plan_changes"
    __table_args__ = (sa.Index("ix_plan_changes_patient_time", "patient_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    subject: Mapped[ChangeSubject] = mapped_column(enum_column(ChangeSubject))
    subject_id: Mapped[int] = mapped_column()
    change: Mapped[ChangeKind] = mapped_column(enum_column(ChangeKind))
    #: The item's or goal's title at the time of the change.
    title: Mapped[str] = mapped_column(sa.String(200))
    #: Names of the fields that changed (for "changed").
    fields: Mapped[list[str] | None] = mapped_column(sa.JSON)
    #: Copied from the subject so hidden categories stay hidden here too.
    sensitivity: Mapped[Sensitivity | None] = mapped_column(enum_column(Sensitivity))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: patient, caregiver, care_team, admin or system.
    capacity: Mapped[str] = mapped_column(sa.String(16))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="raise")


class PlanVisit(db.Model):
    """When each user last opened "What changed" for a patient."""

    __tablename__ = "plan_visits"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "patient_id", name="uq_plan_visits_user_patient"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
