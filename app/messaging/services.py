"""Threads and messages: routing, waiting time, assignment, read state, response times.

Services add and flush; the request commits. A team reply sends `thread_answered`;
notifications then queue texts and emails (that only say a message is waiting) in the same
transaction. A refused action raises `RuleError`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.core import audit
from app.core.db import utcnow
from app.core.errors import RuleError
from app.core.privacy import Sensitivity
from app.core.signals import thread_answered
from app.extensions import db
from app.messaging import workqueue
from app.messaging.models import (
    Message,
    ResponseTime,
    Thread,
    ThreadRead,
    ThreadStatus,
    Topic,
)
from app.team.models import CareTeamMember, Discipline
from app.team.queries import member_for_user, on_care_team

PATIENT_SIDE = ("patient", "caregiver")


def target(topic: Topic) -> timedelta:
    return timedelta(hours=current_app.config["MESSAGE_RESPONSE_HOURS"][topic.value])


def routed_disciplines(topic: Topic) -> list[Discipline]:
    return [Discipline(d) for d in current_app.config["MESSAGE_ROUTING"][topic.value]]


def start_thread(
    *,
    patient_id: int,
    topic: Topic,
    subject: str,
    body: str,
    author_id: int,
    capacity: str,
    plan_item=None,
    private: bool = False,
    now: datetime | None = None,
) -> Thread:
    """Open a thread. A private one is CONFIDENTIAL: hidden from every caregiver by the same
    category filter as any sensitive plan item. A thread about a plan item is as sensitive as
    that item is when it is read (`Thread.effective_sensitivity`), so nothing is copied."""
    now = now or utcnow()
    sensitivity = Sensitivity.CONFIDENTIAL if private else None
    thread = Thread(
        patient_id=patient_id,
        topic=topic,
        subject=subject.strip(),
        plan_item_id=plan_item.id if plan_item else None,
        sensitivity=sensitivity,
        created_by_id=author_id,
        created_at=now,
        last_message_at=now,
    )
    db.session.add(thread)
    db.session.flush()
    add_message(
        thread, body=body, author_id=author_id, capacity=capacity, now=now, audit_action="create"
    )
    return thread


def add_message(
    thread: Thread,
    *,
    body: str,
    author_id: int,
    capacity: str,
    internal: bool = False,
    now: datetime | None = None,
    audit_action: str = "update",
) -> Message:
    """Post to a thread and keep its waiting time, owner and response times right."""
    now = now or utcnow()
    if internal and capacity != "care_team":
        raise RuleError(_l("Only the care team can write internal notes."))
    message = Message(
        thread_id=thread.id,
        author_id=author_id,
        capacity=capacity,
        body=body.strip(),
        internal=internal,
        created_at=now,
    )
    db.session.add(message)
    if not internal:
        thread.last_message_at = now
        if capacity in PATIENT_SIDE:
            if thread.status is ThreadStatus.RESOLVED:
                thread.status, thread.resolved_at, thread.resolved_by_id = (
                    ThreadStatus.OPEN,
                    None,
                    None,
                )
            if thread.awaiting_since is None:
                thread.awaiting_since = now
            thread.due_at = thread.awaiting_since + target(thread.topic)
        elif capacity == "care_team":
            if thread.awaiting_since is not None:
                db.session.add(
                    ResponseTime(
                        thread_id=thread.id,
                        patient_id=thread.patient_id,
                        topic=thread.topic,
                        waiting_since=thread.awaiting_since,
                        answered_at=now,
                        seconds=int((now - thread.awaiting_since).total_seconds()),
                        target_seconds=int(target(thread.topic).total_seconds()),
                        responder_id=author_id,
                    )
                )
            thread.awaiting_since = None
            thread.due_at = None
            if thread.assignee_id is None:
                member = member_for_user(author_id)
                if member is not None:
                    db.session.flush()
                    # The same conditional move as "Take it": a colleague who took the thread
                    # at this moment keeps it.
                    _move(thread, member.id, from_member_id=None)
    db.session.flush()
    if not internal:
        workqueue.sync_threads([thread.id])
    if author_id is not None:
        mark_read(thread.id, author_id, now)
    audit.record(
        action=audit_action,
        resource="messaging.thread",
        resource_id=thread.id,
        patient_id=thread.patient_id,
    )
    if capacity == "care_team" and not internal:
        thread_answered.send(thread)
    return message


def assign(thread: Thread, member_id: int) -> None:
    """Hand the thread to a colleague on this patient's care team ("Give it to")."""
    if not on_care_team(thread.patient_id, member_id=member_id):
        raise RuleError(_l("That person is not on this patient's care team."))
    thread.assignee_id = member_id
    db.session.flush()
    workqueue.sync_threads([thread.id])
    _audit_assignment(thread)


def _audit_assignment(thread: Thread) -> None:
    audit.record(
        action="update",
        resource="messaging.thread",
        resource_id=thread.id,
        patient_id=thread.patient_id,
    )


def _move(thread: Thread, member_id: int, *, from_member_id: int | None) -> bool:
    """Give the thread to `member_id` only if `from_member_id` (None: nobody) still has it:
    one conditional UPDATE, so of two people pressing at once exactly one moves it (the
    other's UPDATE waits for the first to commit, then finds the condition false)."""
    holder = (
        Thread.assignee_id.is_(None)
        if from_member_id is None
        else Thread.assignee_id == from_member_id
    )
    moved = db.session.execute(
        sa.update(Thread)
        .where(Thread.id == thread.id, holder)
        .values(assignee_id=member_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(thread, ["assignee_id"])
    if moved:
        workqueue.sync_threads([thread.id])
    return bool(moved)


def member_name(member_id: int | None) -> str | None:
    if member_id is None:
        return None
    return db.session.scalar(
        sa.select(User.full_name)
        .join(CareTeamMember, CareTeamMember.user_id == User.id)
        .where(CareTeamMember.id == member_id)
    )


def take(thread: Thread, member_id: int) -> bool:
    """ "Take it": the thread becomes `member_id`'s if nobody has it. False when it was
    theirs already (a double-click); a RuleError naming the colleague who has it otherwise.
    Taking a thread from a colleague is `take_over`, a separate and explicit action."""
    if not on_care_team(thread.patient_id, member_id=member_id):
        raise RuleError(_l("That person is not on this patient's care team."))
    if _move(thread, member_id, from_member_id=None):
        _audit_assignment(thread)
        return True
    if thread.assignee_id == member_id:
        return False
    raise RuleError(
        _l(
            "%(name)s has already taken this conversation.",
            name=member_name(thread.assignee_id),
        )
    )


def take_over(thread: Thread, member_id: int, *, holder_id: int) -> None:
    """ "Take over from <name>": the thread moves to `member_id` only if `holder_id`, whom
    the page showed holding it, still does; if it changed hands since, nothing moves and the
    RuleError says who has it now."""
    if not on_care_team(thread.patient_id, member_id=member_id):
        raise RuleError(_l("That person is not on this patient's care team."))
    if holder_id == member_id:
        raise RuleError(_l("This conversation is already yours."))
    if _move(thread, member_id, from_member_id=holder_id):
        _audit_assignment(thread)
        return
    if thread.assignee_id == member_id:
        raise RuleError(_l("This conversation is already yours."))
    if thread.assignee_id is None:
        raise RuleError(_l('Nobody has this conversation now: use "Take it".'))
    raise RuleError(
        _l(
            "This conversation changed hands: %(name)s has it now.",
            name=member_name(thread.assignee_id),
        )
    )


def resolve(thread: Thread, user_id: int) -> None:
    if thread.status is ThreadStatus.RESOLVED:
        raise RuleError(_l("This conversation is already marked resolved."))
    thread.status = ThreadStatus.RESOLVED
    thread.resolved_at = utcnow()
    thread.resolved_by_id = user_id
    thread.awaiting_since = None
    thread.due_at = None
    db.session.flush()
    workqueue.sync_threads([thread.id])


def reopen(thread: Thread) -> None:
    if thread.status is ThreadStatus.OPEN:
        raise RuleError(_l("This conversation is already open."))
    thread.status = ThreadStatus.OPEN
    thread.resolved_at = thread.resolved_by_id = None
    db.session.flush()
    workqueue.sync_threads([thread.id])


def mark_read(thread_id: int, user_id: int, when: datetime | None = None) -> None:
    """Remember that this user has read the thread up to now (insert or move forward)."""
    when = when or utcnow()
    updated = db.session.execute(
        sa.update(ThreadRead)
        .where(
            ThreadRead.thread_id == thread_id,
            ThreadRead.user_id == user_id,
            ThreadRead.last_read_at < when,
        )
        .values(last_read_at=when)
        .execution_options(synchronize_session=False)
    ).rowcount
    if updated:
        return
    exists = db.session.scalar(
        sa.select(ThreadRead.id).where(
            ThreadRead.thread_id == thread_id, ThreadRead.user_id == user_id
        )
    )
    if exists is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(ThreadRead(thread_id=thread_id, user_id=user_id, last_read_at=when))
    except IntegrityError:  # another request of the same user got there first
        pass


def is_overdue(thread: Thread, now: datetime | None = None) -> bool:
    return (
        thread.status is ThreadStatus.OPEN
        and thread.due_at is not None
        and thread.due_at < (now or utcnow())
    )
