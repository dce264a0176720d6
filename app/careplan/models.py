"""The patient-facing change log of the whole plan ("What changed"), for items, goals and
decisions alike."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from app.auth.models import User
from app.careplan.decisions.models import Decision
from app.careplan.goals.models import Goal
from app.careplan.items.models import PlanItem
from app.core.db import enum_column, utcnow
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
    __table_args__ = (
        sa.Index("ix_plan_changes_patient_time", "patient_id", "occurred_at"),
        # The "care plan reviewed" measure: the care team's changes of a period.
        sa.Index(
            "ix_plan_changes_team_time",
            "occurred_at",
            "patient_id",
            sqlite_where=sa.text("capacity = 'care_team'"),
            postgresql_where=sa.text("capacity = 'care_team'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    subject: Mapped[ChangeSubject] = mapped_column(enum_column(ChangeSubject))
    subject_id: Mapped[int] = mapped_column()
    change: Mapped[ChangeKind] = mapped_column(enum_column(ChangeKind))
    #: The item's or goal's title at the time of the change.
    title: Mapped[str] = mapped_column(sa.String(200))
    #: Names of the fields that changed (for "changed").
    fields: Mapped[list[str] | None] = mapped_column(sa.JSON)
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


#: The sensitivity of what a change is about, read from the item, goal or decision itself each
#: time (never copied onto the change row): reclassify the thing and its history follows.
PlanChange.sensitivity = column_property(
    sa.case(
        (
            PlanChange.subject == ChangeSubject.ITEM,
            sa.select(PlanItem.sensitivity)
            .where(PlanItem.id == PlanChange.subject_id)
            .scalar_subquery(),
        ),
        (
            PlanChange.subject == ChangeSubject.GOAL,
            sa.select(Goal.sensitivity).where(Goal.id == PlanChange.subject_id).scalar_subquery(),
        ),
        else_=sa.select(Decision.sensitivity)
        .where(Decision.id == PlanChange.subject_id)
        .scalar_subquery(),
    )
)
