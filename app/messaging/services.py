"""Threads and messages. Writes audit events; the request commits."""

from __future__ import annotations

from app.core import audit
from app.core.db import utcnow
from app.extensions import db
from app.messaging.models import Message, Thread, Topic


def start_thread(
    *,
    patient_id: int,
    topic: Topic,
    subject: str,
    body: str,
    author_id: int,
    capacity: str,
    plan_item=None,
) -> Thread:
    now = utcnow()
    thread = Thread(
        patient_id=patient_id,
        topic=topic,
        subject=subject.strip(),
        plan_item_id=plan_item.id if plan_item else None,
        sensitivity=plan_item.sensitivity if plan_item else None,
        created_by_id=author_id,
        created_at=now,
        last_message_at=now,
    )
    db.session.add(thread)
    db.session.flush()
    add_message(thread, body=body, author_id=author_id, capacity=capacity, audit_action="create")
    return thread


def add_message(
    thread: Thread, *, body: str, author_id: int, capacity: str, audit_action: str = "update"
) -> Message:
    message = Message(
        thread_id=thread.id,
        author_id=author_id,
        capacity=capacity,
        body=body.strip(),
        created_at=utcnow(),
    )
    db.session.add(message)
    thread.last_message_at = message.created_at
    db.session.flush()
    audit.record(
        action=audit_action,
        resource="messaging.thread",
        resource_id=thread.id,
        patient_id=thread.patient_id,
    )
    return message
