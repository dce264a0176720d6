"""Storing a message's files, from the form or from Twilio (inbound MMS)."""

from __future__ import annotations

import logging

import requests
import sqlalchemy as sa
from flask import current_app

from app.core import audit
from app.core.db import insert, utcnow
from app.extensions import db
from app.messaging.attachments import storage
from app.messaging.attachments.models import Attachment, AttachmentKind, MediaFetch
from app.messaging.attachments.processing import Processed, Refused, process
from app.messaging.models import Message, Thread

log = logging.getLogger(__name__)

#: An MMS picture is retried this many times by `flask messaging fetch-media`, then dropped.
MAX_FETCH_ATTEMPTS = 5


def store(message: Message, files: list[Processed], *, first_position: int = 1) -> list[Attachment]:
    """Write each clean file to the store and its row next to the message (flushed)."""
    session = db.session()
    thread_id = message.thread_id
    patient_id = session.scalar(sa.select(Thread.patient_id).where(Thread.id == thread_id))
    rows = []
    for position, item in enumerate(files, start=first_position):
        key = storage.put(session, item.data, item.content_type)
        thumb = storage.put(session, item.thumb, item.thumb_type) if item.thumb else None
        row = Attachment(
            message_id=message.id,
            thread_id=thread_id,
            patient_id=patient_id,
            position=position,
            kind=AttachmentKind(item.kind),
            content_type=item.content_type,
            bytes=len(item.data),
            width=item.width,
            height=item.height,
            storage_key=key,
            thumb_key=thumb,
            sha256=item.sha256,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    for row in rows:
        audit.record(
            action="create",
            resource="messaging.attachment",
            patient_id=patient_id,
            resource_id=row.id,
        )
    return rows


def attach(message: Message, form) -> None:
    """Store the files `form` carries (checked and cleaned when it was validated)."""
    files = getattr(form, "cleaned_files", None) or []
    if files:
        db.session.flush()
        store(message, files)


def attach_to_first(thread, form) -> None:
    """Store the files `form` carries with the first message of the new `thread`."""
    files = getattr(form, "cleaned_files", None) or []
    if not files:
        return
    db.session.flush()
    message = db.session.scalars(
        sa.select(Message).where(Message.thread_id == thread.id).order_by(Message.id).limit(1)
    ).one()
    store(message, files)


# ------------------------------------------------------------------ inbound MMS


def _media_url(url: str) -> str:
    """Twilio's link, on the API host this app talks to (TWILIO_API_BASE_URL, which tests point
    at the fake server): the path is Twilio's, the host ours to choose."""
    path = url.split("://", 1)[1].split("/", 1)[1]
    return current_app.config["TWILIO_API_BASE_URL"].rstrip("/") + "/" + path


def download(url: str) -> bytes:
    """Twilio's media bytes, with the account's credentials and a short timeout; at most the
    attachment limit is read. Raises on any failure."""
    config = current_app.config
    limit = config["ATTACHMENT_MAX_BYTES"]
    timeout = config["ATTACHMENT_FETCH_TIMEOUT_SECONDS"]
    with requests.get(
        _media_url(url),
        auth=(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"]),
        timeout=timeout,
        stream=True,
    ) as response:
        response.raise_for_status()
        data = response.raw.read(limit + 1, decode_content=True)
    if len(data) > limit:
        raise Refused("too large")
    return data


def take_media(message: Message, media: list[dict]) -> int:
    """Inbound MMS: fetch each picture now and store it like an upload; one that cannot be
    fetched is kept to retry (`fetch-media`), one that is not a photo or PDF is dropped (the
    team still sees that a picture was sent: the message says so). Returns how many wait."""
    db.session.flush()
    waiting = 0
    for position, item in enumerate(media, start=1):
        # After one failure the rest wait too: Twilio waits 15 s for the webhook's answer.
        if waiting or not _fetch_one(message, position, item["url"]):
            db.session.execute(
                insert(db.session, MediaFetch)
                .values(
                    message_id=message.id,
                    position=position,
                    url=item["url"],
                    attempts=1,
                    last_tried_at=utcnow(),
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["message_id", "position"])
            )
            waiting += 1
    return waiting


def _fetch_one(message: Message, position: int, url: str) -> bool:
    """True when the picture is settled (stored, or refused for what it is)."""
    try:
        data = download(url)
    except Exception as exc:  # whatever happened, the text is kept and the picture waits
        log.warning("MMS media fetch failed for message %s: %s", message.id, type(exc).__name__)
        return False
    try:
        cleaned = process(data)
    except Refused:
        log.info("MMS media of message %s is not a photo or PDF; dropped", message.id)
        return True
    store(message, [cleaned], first_position=position)
    return True


def retry_fetches(limit: int = 200) -> tuple[int, int]:
    """`flask messaging fetch-media`: try the waiting pictures again. Returns (stored or
    settled, still waiting). Each is committed alone: one bad picture stops nothing."""
    done = waiting = 0
    ids = db.session.scalars(sa.select(MediaFetch.id).order_by(MediaFetch.id).limit(limit)).all()
    for fetch_id in ids:
        fetch = db.session.get(MediaFetch, fetch_id)
        if fetch is None:
            continue
        message = db.session.get(Message, fetch.message_id)
        if message is not None and _fetch_one(message, fetch.position, fetch.url):
            db.session.delete(fetch)
            done += 1
        elif message is None or fetch.attempts + 1 >= MAX_FETCH_ATTEMPTS:
            log.warning("MMS media fetch %s given up after %s attempts", fetch.id, fetch.attempts)
            db.session.delete(fetch)
        else:
            fetch.attempts += 1
            fetch.last_tried_at = utcnow()
            waiting += 1
        db.session.commit()
    return done, waiting


def known_keys(keys: list[str]) -> set[str]:
    """Which of these storage keys a row points at (for the sweep)."""
    found = db.session.execute(
        sa.select(Attachment.storage_key, Attachment.thumb_key).where(
            sa.or_(Attachment.storage_key.in_(keys), Attachment.thumb_key.in_(keys))
        )
    ).all()
    return {k for row in found for k in row if k}
