"""Reads for thread lists and the team inbox: a fixed number of queries per page."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import joinedload

from app.core.db import utcnow
from app.core.pagination import Page, capped_count, keyset_page
from app.core.privacy import visible
from app.extensions import db
from app.messaging.models import InboxEntry, InboxLane, Message, Thread, ThreadRead, Topic
from app.team.models import CareTeamAssignment, CareTeamMember
from app.team.sorting import prefix_range

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


#: A thread page shows its latest messages; "Earlier messages" pages back from there.
MESSAGES_SHOWN = 30


def thread_messages(
    thread_id: int, *, include_internal: bool, before: int | None = None
) -> tuple[list[Message], int | None]:
    """The thread's latest MESSAGES_SHOWN messages (or those just before message `before`),
    oldest first, with their authors; internal notes only for the team. Also the id to page
    back from, None when these are the first. One index range read, however long the thread
    (a message id that is not in this thread is a 404)."""
    conditions = [Message.thread_id == thread_id]
    if not include_internal:
        conditions.append(Message.internal.is_(False))
    if before is not None:
        edge = db.session.execute(
            sa.select(Message.created_at, Message.id).where(Message.id == before, *conditions)
        ).first()
        if edge is None:
            abort(404)
        conditions.append(
            sa.tuple_(Message.created_at, Message.id) < sa.tuple_(edge.created_at, edge.id)
        )
    rows = list(
        db.session.scalars(
            sa.select(Message)
            .where(*conditions)
            .options(joinedload(Message.author))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(MESSAGES_SHOWN + 1)
        )
    )
    earlier = rows[MESSAGES_SHOWN - 1].id if len(rows) > MESSAGES_SHOWN else None
    return list(reversed(rows[:MESSAGES_SHOWN])), earlier


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


#: "99+ unread messages": a heavy user's count stops here.
UNREAD_CAP = 99


def unread_statement(patient_id: int, hidden: frozenset[str], user_id: int) -> sa.Select:
    """The unread messages (ids) across this patient's threads the user may see."""
    read = sa.orm.aliased(ThreadRead)
    return (
        sa.select(Message.id)
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


def unread_total(patient_id: int, hidden: frozenset[str], user_id: int) -> int:
    """Unread messages across all of this patient's threads the user may see (at most
    UNREAD_CAP + 1 are counted)."""
    return capped_count(unread_statement(patient_id, hidden, user_id), UNREAD_CAP)


# ------------------------------------------------------------------ the team inbox

VIEWS = ("unassigned", "mine", "overdue", "all")
#: Lanes per view; "all" is every lane.
VIEW_LANES = {
    "unassigned": (InboxLane.UNASSIGNED,),
    "mine": (InboxLane.MINE,),
    "overdue": (InboxLane.UNASSIGNED, InboxLane.MINE, InboxLane.TEAM),
}
#: The badge stops counting here ("99+").
BADGE_CAP = 99
#: At most this many patients match a name search in the inbox filter.
SEARCH_LIMIT = 50


def _by_due(view: str) -> bool:
    return view in ("unassigned", "overdue")


def _inbox_conditions(
    member: CareTeamMember,
    view: str,
    *,
    topic: Topic | None = None,
    patient_id: int | None = None,
    patient_ids: list[int] | None = None,
    now: datetime | None = None,
) -> list:
    """The member's rows in one inbox view (app.messaging.workqueue keeps them): the threads
    of the patients whose care team they are on, with their lane for this member.

    Routed to me: the topic routes to my discipline, or I coordinate that patient's care
    (the coordinator sees everything), or the thread is assigned to me.
    """
    conditions = [InboxEntry.member_id == member.id]
    if view in VIEW_LANES:
        lanes = VIEW_LANES[view]
        conditions.append(
            InboxEntry.lane == lanes[0] if len(lanes) == 1 else InboxEntry.lane.in_(lanes)
        )
    if view == "overdue":
        conditions.append(InboxEntry.due_sort < (now or utcnow()))
    if topic is not None:
        conditions.append(InboxEntry.topic == topic)
    if patient_id is not None:
        conditions.append(InboxEntry.patient_id == patient_id)
    if patient_ids is not None:
        conditions.append(InboxEntry.patient_id.in_(patient_ids))
    return conditions


def _inbox_keys(view: str) -> tuple:
    if _by_due(view):
        return (InboxEntry.due_sort, InboxEntry.thread_id)
    return (InboxEntry.last_message_at, InboxEntry.thread_id)


def inbox(
    member: CareTeamMember,
    view: str,
    *,
    after: int | None = None,
    before: int | None = None,
    **filters,
) -> tuple[list[Thread], Page, int]:
    """One page of a member's inbox view (due soonest first for unassigned and overdue, latest
    message first otherwise), where the pages around it start, and how many there are
    (capped at COUNT_CAP). Four queries whatever the size of the panel or the CCO."""
    conditions = _inbox_conditions(member, view, **filters)
    keys = _inbox_keys(view)

    def keys_of(thread_id: int | None) -> tuple | None:
        if thread_id is None:
            return None
        found = db.session.execute(
            sa.select(*keys).where(
                InboxEntry.member_id == member.id, InboxEntry.thread_id == thread_id
            )
        ).first()
        if found is None:
            abort(404)
        return tuple(found)

    page = keyset_page(
        sa.select(InboxEntry.thread_id).where(*conditions),
        keys,
        per_page=PER_PAGE,
        descending=not _by_due(view),
        after=keys_of(after),
        before=keys_of(before),
        row_id=lambda row: row.thread_id,
    )
    ids = [row.thread_id for row in page.rows]
    found = (
        {
            t.id: t
            for t in db.session.scalars(
                sa.select(Thread)
                .where(Thread.id.in_(ids))
                .options(
                    joinedload(Thread.patient),
                    joinedload(Thread.assignee).joinedload(CareTeamMember.user),
                )
            )
        }
        if ids
        else {}
    )
    total = inbox_count(member, view, **filters)
    return [found[i] for i in ids if i in found], page, total


def inbox_count(member: CareTeamMember, view: str, **filters) -> int:
    """How many threads one inbox view has (capped at COUNT_CAP + 1)."""
    return capped_count(
        sa.select(InboxEntry.thread_id).where(*_inbox_conditions(member, view, **filters))
    )


def search_panel(member: CareTeamMember, typed: str) -> list[int]:
    """Ids of the member's patients whose name starts with what was typed (family or given
    name first), at most SEARCH_LIMIT: one index range of the member's panel."""
    return list(
        db.session.scalars(
            sa.select(CareTeamAssignment.patient_id)
            .where(
                CareTeamAssignment.member_id == member.id,
                prefix_range(CareTeamAssignment.patient_sort, typed),
            )
            .order_by(CareTeamAssignment.patient_sort, CareTeamAssignment.patient_id)
            .limit(SEARCH_LIMIT)
        )
    )


def needs_me_count(member: CareTeamMember) -> int:
    """The navigation badge: open threads waiting for an answer that are mine, or unclaimed
    and routed to me. Counts at most BADGE_CAP + 1 rows of one index range."""
    query = sa.select(InboxEntry.thread_id).where(
        InboxEntry.member_id == member.id,
        InboxEntry.lane.in_((InboxLane.UNASSIGNED, InboxLane.MINE)),
        InboxEntry.awaiting.is_(True),
    )
    return capped_count(query, BADGE_CAP)
