"""Message threads between a patient (and their caregivers) and the whole care team.

This is the core the messaging issue builds routing, the team inbox and notifications on.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.careplan.models import PlanItem, Sensitivity
from app.core.db import enum_column, utcnow
from app.extensions import db


class Topic(enum.StrEnum):
    MEDICATION = "medication"
    APPOINTMENT = "appointment"
    SYMPTOMS = "symptoms"
    CARE_PLAN = "care_plan"
    SOCIAL_NEEDS = "social_needs"
    BILLING = "billing"
    OTHER = "other"


class ThreadStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Thread(db.Model):
    __tablename__ = "message_threads"
    __table_args__ = (sa.Index("ix_message_threads_patient_last", "patient_id", "last_message_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    topic: Mapped[Topic] = mapped_column(enum_column(Topic))
    subject: Mapped[str] = mapped_column(sa.String(160))
    #: The plan item the thread asks about ("Ask about this").
    plan_item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("plan_items.id", ondelete="SET NULL"), index=True
    )
    #: Copied from the plan item: hidden categories stay hidden in messages too.
    sensitivity: Mapped[Sensitivity | None] = mapped_column(enum_column(Sensitivity))
    status: Mapped[ThreadStatus] = mapped_column(
        enum_column(ThreadStatus), default=ThreadStatus.OPEN
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan_item: Mapped[PlanItem | None] = relationship(lazy="raise")


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (sa.Index("ix_messages_thread_time", "thread_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("message_threads.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: patient, caregiver or care_team: a caregiver writes as themselves ("Ana, for James").
    capacity: Mapped[str] = mapped_column(sa.String(16))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="raise")
