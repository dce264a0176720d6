"""Message threads between a patient (and their caregivers) and the whole care team.

This is the core the messaging issue builds routing, the team inbox and notifications on.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from app.auth.models import User
from app.careplan.items.models import PlanItem
from app.core.db import enum_column, utcnow
from app.core.privacy import Sensitivity
from app.extensions import db
from app.patients.models import Patient
from app.team.models import CareTeamMember


class Topic(enum.StrEnum):
    MEDICATION = "medication"
    APPOINTMENT = "appointment"
    SYMPTOMS = "symptoms"
    CARE_PLAN = "care_plan"
    SOCIAL_NEEDS = "social_needs"
    BILLING = "billing"
    OTHER = "other"
    #: "I'm not sure": the care coordinator (nursing) reads it and sends it on.
    NOT_SURE = "not_sure"


class ThreadStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Thread(db.Model):
    __tablename__ = "message_threads"
    __table_args__ = (
        sa.Index("ix_message_threads_patient_last", "patient_id", "last_message_at"),
        sa.Index("ix_message_threads_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    topic: Mapped[Topic] = mapped_column(enum_column(Topic))
    subject: Mapped[str] = mapped_column(sa.String(160))
    #: The plan item the thread asks about ("Ask about this").
    plan_item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("plan_items.id", ondelete="SET NULL"), index=True
    )
    #: Set only on a private thread (CONFIDENTIAL: between the patient and the team). What a
    #: thread about a plan item may show is its item's sensitivity, read each time:
    #: `effective_sensitivity`.
    sensitivity: Mapped[Sensitivity | None] = mapped_column(enum_column(Sensitivity))
    status: Mapped[ThreadStatus] = mapped_column(
        enum_column(ThreadStatus), default=ThreadStatus.OPEN
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The team member who took the thread (claimed, or assigned by a colleague).
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("care_team_members.id", ondelete="SET NULL"), index=True
    )
    #: Since when the patient side has been waiting for the team (NULL: the team answered).
    awaiting_since: Mapped[datetime | None] = mapped_column()
    #: When the answer is due, from the topic's response-time target.
    due_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    plan_item: Mapped[PlanItem | None] = relationship(lazy="raise")
    assignee: Mapped[CareTeamMember | None] = relationship(lazy="raise")
    patient: Mapped[Patient] = relationship(lazy="raise")


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (sa.Index("ix_messages_thread_time", "thread_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("message_threads.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: patient, caregiver or care_team: a caregiver writes as themselves ("Ana, for James").
    capacity: Mapped[str] = mapped_column(sa.String(16))
    body: Mapped[str] = mapped_column(sa.Text)
    #: An internal note between team members; the patient side never sees it.
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Pictures the patient sent by MMS: [{"url", "content_type"}], Twilio media links shown to
    #: the care team only (texting.webhooks); NULL for a message without any.
    attachments: Mapped[list[dict] | None] = mapped_column(sa.JSON)

    author: Mapped[User | None] = relationship(lazy="raise")


class ThreadRead(db.Model):
    """How far each user has read each thread: unread counts are computed from it."""

    __tablename__ = "thread_reads"
    __table_args__ = (
        sa.UniqueConstraint("thread_id", "user_id", name="uq_thread_reads_thread_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("message_threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_read_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResponseTime(db.Model):
    """One answer by the team to a waiting patient: how long it took, against which target.

    The metrics work reports on these.
    """

    __tablename__ = "message_response_times"
    __table_args__ = (sa.Index("ix_message_response_times_answered", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(
        sa.ForeignKey("message_threads.id", ondelete="CASCADE"), index=True
    )
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    topic: Mapped[Topic] = mapped_column(enum_column(Topic))
    waiting_since: Mapped[datetime] = mapped_column()
    answered_at: Mapped[datetime] = mapped_column()
    seconds: Mapped[int] = mapped_column()
    target_seconds: Mapped[int] = mapped_column()
    responder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


#: What the thread may show, decided when it is read: private, or as sensitive as the plan item
#: it asks about (reclassify the item and its threads follow).
Thread.effective_sensitivity = column_property(
    sa.func.coalesce(
        Thread.sensitivity,
        sa.select(PlanItem.sensitivity).where(PlanItem.id == Thread.plan_item_id).scalar_subquery(),
    )
)


class InboxLane(enum.StrEnum):
    """Where an open thread stands for one care team member (closed: resolved)."""

    UNASSIGNED = "unassigned"  # nobody has taken it, and it is routed to this member
    MINE = "mine"  # this member has taken it
    TEAM = "team"  # a colleague has taken it, and it is routed to this member
    OTHER = "other"  # on this member's patient, not routed to them
    CLOSED = "closed"  # resolved


#: due_sort for a thread with no answer due: after every real due time.
NOT_DUE = datetime(9999, 1, 1, tzinfo=UTC)


class InboxEntry(db.Model):
    """One thread in one care team member's inbox: the work queue each member reads, kept by
    app.messaging.workqueue whenever a thread or a care team changes.

    The inbox pages and the navigation badge read only their member's rows through an index
    whose order is the page's order, so they cost the same for a member on 50 care teams or
    5,000, in a CCO of 10,000 patients or a million (a query from the threads side has to
    start from every open thread of the member's patients, or of the whole CCO).
    """

    __tablename__ = "inbox_entries"
    __table_args__ = (
        sa.Index("ix_inbox_entries_lane_due", "member_id", "lane", "due_sort", "thread_id"),
        sa.Index(
            "ix_inbox_entries_lane_recent", "member_id", "lane", "last_message_at", "thread_id"
        ),
        sa.Index("ix_inbox_entries_recent", "member_id", "last_message_at", "thread_id"),
        sa.Index("ix_inbox_entries_patient", "member_id", "patient_id"),
        sa.Index("ix_inbox_entries_thread", "thread_id"),
    )

    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("care_team_members.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        sa.ForeignKey("message_threads.id", ondelete="CASCADE"), primary_key=True
    )
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    topic: Mapped[Topic] = mapped_column(enum_column(Topic))
    lane: Mapped[InboxLane] = mapped_column(enum_column(InboxLane, length=12))
    #: Waiting for the team's answer (the badge counts these in "unassigned" and "mine").
    awaiting: Mapped[bool] = mapped_column(default=False)
    #: When the answer is due, NOT_DUE when none is: one sortable, indexable column.
    due_sort: Mapped[datetime] = mapped_column()
    last_message_at: Mapped[datetime] = mapped_column()
