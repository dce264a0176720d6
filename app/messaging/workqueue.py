"""The team inbox as a work queue per care team member (`InboxEntry` rows).

A member's inbox shows the threads of the patients whose care team they are on. Asked from the
threads' side, every page had to start from all open threads of the member's patients (or of
the whole CCO, when the planner chose the status index) and sort them: 83 to 525 ms a page at
100,000 patients. Here each member has their own rows, with the thread's lane for them
(unassigned, mine, a colleague's, not routed to them, closed) and its sort keys, so a page is
one index range read in page order and the badge a bounded count of one range.

The rows are derived data, rebuilt from the source of truth (threads, care team assignments,
members' disciplines, the routing in config) by one SELECT used three ways: for some threads
after they change (`sync_threads`, called by the messaging services after every change to a
thread), for some patients after their care team changes (`sync_patients`), and for everyone
after a bulk load (`rebuild`, `flask inbox rebuild`). Each call deletes and inserts the rows
it covers in the caller's transaction, so a thread and its inbox rows commit together.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.messaging.models import NOT_DUE, InboxEntry, InboxLane, Thread, ThreadStatus, Topic
from app.team.models import CareTeamAssignment, CareTeamMember

COLUMNS = (
    "member_id",
    "thread_id",
    "patient_id",
    "topic",
    "lane",
    "awaiting",
    "due_sort",
    "last_message_at",
)


def _routed():
    """SQL: the thread's topic routes to the member's discipline, or they coordinate."""
    routing = current_app.config["MESSAGE_ROUTING"]
    by_topic = [
        sa.and_(Thread.topic == topic, CareTeamMember.discipline.in_(routing[topic.value]))
        for topic in Topic
        if routing.get(topic.value)
    ]
    return sa.or_(CareTeamAssignment.is_coordinator.is_(True), *by_topic)


def _entries(*conditions) -> sa.Select:
    routed = _routed()
    lane = sa.case(
        (Thread.status != ThreadStatus.OPEN, InboxLane.CLOSED.value),
        (Thread.assignee_id == CareTeamAssignment.member_id, InboxLane.MINE.value),
        (sa.and_(Thread.assignee_id.is_(None), routed), InboxLane.UNASSIGNED.value),
        (routed, InboxLane.TEAM.value),
        else_=InboxLane.OTHER.value,
    )
    return (
        sa.select(
            CareTeamAssignment.member_id,
            Thread.id,
            Thread.patient_id,
            Thread.topic,
            lane,
            sa.case((Thread.awaiting_since.is_(None), False), else_=True),
            sa.func.coalesce(Thread.due_at, sa.literal(NOT_DUE, InboxEntry.due_sort.type)),
            Thread.last_message_at,
        )
        .join(CareTeamAssignment, CareTeamAssignment.patient_id == Thread.patient_id)
        .join(CareTeamMember, CareTeamMember.id == CareTeamAssignment.member_id)
        .where(*conditions)
    )


def _fill(session, *conditions) -> None:
    session.execute(sa.insert(InboxEntry).from_select(COLUMNS, _entries(*conditions)))


def sync_threads(thread_ids: Iterable[int], session=None) -> None:
    """These threads changed: their rows in every member's queue, again."""
    ids = sorted(set(thread_ids))
    if not ids:
        return
    session = session or db.session
    session.flush()
    # Hold the threads (they are normally locked already by the change being made): two
    # transactions re-deriving the same thread's rows take turns, and the second sees the
    # first's rows to delete (PostgreSQL; SQLite has one writer at a time anyway).
    session.execute(
        sa.select(Thread.id).where(Thread.id.in_(ids)).order_by(Thread.id).with_for_update()
    )
    session.execute(sa.delete(InboxEntry).where(InboxEntry.thread_id.in_(ids)))
    _fill(session, Thread.id.in_(ids))


def sync_patients(patient_ids: Iterable[int], session=None) -> None:
    """These patients' care teams changed: every thread of theirs, in every queue, again."""
    ids = sorted(set(patient_ids))
    if not ids:
        return
    session = session or db.session
    session.flush()
    threads = sa.select(Thread.id).where(Thread.patient_id.in_(ids))
    session.execute(sa.delete(InboxEntry).where(InboxEntry.thread_id.in_(threads)))
    _fill(session, Thread.patient_id.in_(ids))


def rebuild_with_connection(connection) -> None:
    """`rebuild` on a bare connection (the migration that creates the queue)."""
    from sqlalchemy.orm import Session

    with Session(bind=connection) as session:
        rebuild(session)
        session.flush()


def rebuild(session=None, *, refresh_sort: bool = True) -> int:
    """Every member's queue from scratch (after a bulk load, or to repair). Returns the rows.
    `refresh_sort=False` when the loader wrote the assignments' patient_sort keys itself."""
    from app.team.sorting import refresh_patient_sort

    session = session or db.session
    session.flush()
    if refresh_sort:
        refresh_patient_sort(session)
    session.execute(sa.delete(InboxEntry))
    _fill(session)
    return session.scalar(sa.select(sa.func.count()).select_from(InboxEntry)) or 0
