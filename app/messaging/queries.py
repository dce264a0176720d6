"""Reads for thread lists and the team inbox: a fixed number of queries per page."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.core.db import utcnow
from app.core.privacy import visible
from app.extensions import db
from app.messaging.models import Message, Thread, ThreadRead, ThreadStatus, Topic
from app.messaging.services import routed_disciplines
from app.team.models import CareTeamAssignment, CareTeamMember

PER_PAGE = 20
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def thread_for(patient_id: int, thread_id: int, hidden: frozenset[str]) -> Thread | None:
    """One thread of this patient the viewer may see (None otherwise: the caller 404s)."""
    return db.session.scalars(
        sa.select(Thread)
        .where(
            Thread.id == thread_id,
            Thread.patient_id == patient_id,
            visible(Thread.effective_sensitivity, hidden),
        )
        .options(
            joinedload(Thread.plan_item),
            joinedload(Thread.assignee).joinedload(CareTeamMember.user),
        )
    ).first()


def thread_messages(thread_id: int, *, include_internal: bool) -> list[Message]:
    """The thread's messages, oldest first, with their authors; internal notes only for the
    team."""
    conditions = [Message.thread_id == thread_id]
    if not include_internal:
        conditions.append(Message.internal.is_(False))
    return list(
        db.session.scalars(
            sa.select(Message)
            .where(*conditions)
            .options(joinedload(Message.author))
            .order_by(Message.created_at, Message.id)
        )
    )


def unread_counts(thread_ids: list[int], user_id: int, *, include_internal: bool) -> dict:
    """{thread_id: messages by others this user has not read yet}, in one query."""
    if not thread_ids:
        return {}
    read = sa.orm.aliased(ThreadRead)
    conditions = [
        Message.thread_id.in_(thread_ids),
        sa.or_(Message.author_id.is_(None), Message.author_id != user_id),
        Message.created_at > sa.func.coalesce(read.last_read_at, EPOCH),
    ]
    if not include_internal:
        conditions.append(Message.internal.is_(False))
    rows = db.session.execute(
        sa.select(Message.thread_id, sa.func.count(Message.id))
        .outerjoin(read, sa.and_(read.thread_id == Message.thread_id, read.user_id == user_id))
        .where(*conditions)
        .group_by(Message.thread_id)
    ).all()
    return dict(rows)


def patient_threads(patient_id: int, hidden: frozenset[str], page: int):
    conditions = [Thread.patient_id == patient_id, visible(Thread.effective_sensitivity, hidden)]
    total = db.session.scalar(sa.select(sa.func.count(Thread.id)).where(*conditions))
    threads = list(
        db.session.scalars(
            sa.select(Thread)
            .where(*conditions)
            .order_by(Thread.last_message_at.desc(), Thread.id.desc())
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
    )
    return threads, total


def unread_total(patient_id: int, hidden: frozenset[str], user_id: int) -> int:
    """Unread messages across all of this patient's threads the user may see."""
    read = sa.orm.aliased(ThreadRead)
    return (
        db.session.scalar(
            sa.select(sa.func.count(Message.id))
            .join(Thread, Thread.id == Message.thread_id)
            .outerjoin(read, sa.and_(read.thread_id == Message.thread_id, read.user_id == user_id))
            .where(
                Thread.patient_id == patient_id,
                visible(Thread.effective_sensitivity, hidden),
                Message.internal.is_(False),
                sa.or_(Message.author_id.is_(None), Message.author_id != user_id),
                Message.created_at > sa.func.coalesce(read.last_read_at, EPOCH),
            )
        )
        or 0
    )


# ------------------------------------------------------------------ the team inbox

VIEWS = ("unassigned", "mine", "overdue", "all")


def _routed_topics(member: CareTeamMember) -> list[Topic]:
    return [t for t in Topic if member.discipline in routed_disciplines(t)]


def inbox_query(
    member: CareTeamMember,
    view: str,
    *,
    topic: Topic | None = None,
    patient_id: int | None = None,
    now: datetime | None = None,
):
    """Threads of this member's patients, for one inbox view.

    Routed to me: the topic routes to my discipline, or I coordinate that patient's care
    (the coordinator sees everything), or the thread is assigned to me.
    """
    now = now or utcnow()
    mine = (
        sa.select(CareTeamAssignment.patient_id, CareTeamAssignment.is_coordinator)
        .where(CareTeamAssignment.member_id == member.id)
        .subquery()
    )
    routed = sa.or_(
        mine.c.is_coordinator.is_(True),
        Thread.topic.in_(_routed_topics(member)),
        Thread.assignee_id == member.id,
    )
    query = sa.select(Thread).join(mine, mine.c.patient_id == Thread.patient_id)
    open_ = Thread.status == ThreadStatus.OPEN
    if view == "unassigned":
        query = query.where(open_, Thread.assignee_id.is_(None), routed)
    elif view == "mine":
        query = query.where(open_, Thread.assignee_id == member.id)
    elif view == "overdue":
        query = query.where(open_, Thread.due_at.is_not(None), Thread.due_at < now, routed)
    if topic is not None:
        query = query.where(Thread.topic == topic)
    if patient_id is not None:
        query = query.where(Thread.patient_id == patient_id)
    return query


def inbox(member: CareTeamMember, view: str, page: int, **filters):
    query = inbox_query(member, view, **filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    if view in ("unassigned", "overdue"):
        order = (Thread.due_at.is_(None), Thread.due_at, Thread.id)
    else:
        order = (Thread.last_message_at.desc(), Thread.id.desc())
    threads = list(
        db.session.scalars(
            query.options(
                joinedload(Thread.patient),
                joinedload(Thread.assignee).joinedload(CareTeamMember.user),
            )
            .order_by(*order)
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
    )
    return threads, total


def needs_me_count(member: CareTeamMember, now: datetime | None = None) -> int:
    """The navigation badge: open threads waiting for an answer that are mine or unclaimed
    and routed to me."""
    query = inbox_query(member, "all", now=now).where(
        Thread.status == ThreadStatus.OPEN,
        Thread.awaiting_since.is_not(None),
    )
    mine_or_unclaimed = sa.or_(Thread.assignee_id == member.id, Thread.assignee_id.is_(None))
    query = query.where(mine_or_unclaimed)
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
