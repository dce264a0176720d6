"""Serving a message's files: only through the access policy and the thread's visibility,
audited, with headers that keep a browser from running or caching them."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, current_app, render_template, request
from flask_babel import lazy_gettext as _l

from app.core import audit
from app.core.access import Permission, patient_route
from app.core.privacy import Capacity, current_actor, hidden
from app.extensions import db
from app.messaging import bp, queries
from app.messaging.attachments import storage
from app.messaging.attachments.forms import MAX_FILES, size_label
from app.messaging.attachments.models import Attachment
from app.messaging.models import Message

RESOURCE = "messaging.attachment"
AUDIT_RESOURCES = {RESOURCE: _l("A photo or file in your messages")}
#: The forms that post a message with files take bigger bodies than the rest of the app.
UPLOAD_ENDPOINTS = frozenset({"messaging.thread", "messaging.new_thread"})


def upload_limit() -> int:
    config = current_app.config
    return MAX_FILES * config["ATTACHMENT_MAX_BYTES"] + config["MAX_CONTENT_LENGTH"]


@bp.url_value_preprocessor
def allow_uploads(endpoint: str | None, values: dict | None) -> None:
    """Before anything reads the form (the app's hooks do): the message forms may carry
    MAX_FILES files and the text; everything else keeps the app-wide MAX_CONTENT_LENGTH."""
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = upload_limit()


@bp.errorhandler(413)
def too_large(error):
    """Too big to send: what the limits are, in the user's words (the typed text is lost with
    the request, so the page says so)."""
    return render_template(
        "messaging/too_large.html",
        max_files=MAX_FILES,
        size=size_label(current_app.config["ATTACHMENT_MAX_BYTES"]),
        for_messages=request.endpoint in UPLOAD_ENDPOINTS,
    ), 413


def _attachment_or_404(patient, thread_id: int, attachment_id: int) -> Attachment:
    """The file, if the viewer may see its thread (the thread page's own rule) and its
    message (internal notes are the team's); 404 otherwise, as for a file that is not there."""
    thread = queries.thread_for(patient.id, thread_id, hidden())
    found = None
    if thread is not None:
        conditions = [
            Attachment.id == attachment_id,
            Attachment.thread_id == thread.id,
            Attachment.patient_id == patient.id,
        ]
        if current_actor().capacity is not Capacity.CARE_TEAM:
            conditions.append(Message.internal.is_(False))
        found = db.session.scalar(
            sa.select(Attachment)
            .join(Message, Message.id == Attachment.message_id)
            .where(*conditions)
        )
    # patient_route recorded a view of the record: say which file, or that nothing was seen.
    events = audit.pending_events()
    for event in reversed(events):
        if event["resource"] == RESOURCE and event["resource_id"] is None:
            if found is None:
                events.remove(event)
            else:
                event["resource_id"] = str(found.id)
            break
    if found is None:
        actor = current_actor()
        audit.record_denied(
            resource=RESOURCE,
            patient_id=patient.id,
            requested_id=attachment_id,
            actor_id=actor.user_id,
            capacity=actor.capacity.value,
        )
        abort(404)
    return found


def _send(data: bytes, content_type: str, *, inline: bool, name: str) -> Response:
    response = Response(data, content_type=content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"  # security.py makes it no-store
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    if not inline:
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _name(found: Attachment, suffix: str = "") -> str:
    ext = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}[found.content_type]
    return f"carecircle-{found.id}{suffix}.{ext}"


@bp.route("/patients/<int:patient_id>/messages/<int:thread_id>/attachments/<int:attachment_id>")
@patient_route(Permission.VIEW_MESSAGES, RESOURCE)
def attachment(patient, thread_id: int, attachment_id: int):
    found = _attachment_or_404(patient, thread_id, attachment_id)
    data = storage.storage().get(found.storage_key)
    return _send(data, found.content_type, inline=found.is_image, name=_name(found))


@bp.route(
    "/patients/<int:patient_id>/messages/<int:thread_id>/attachments/<int:attachment_id>/thumb"
)
@patient_route(Permission.VIEW_MESSAGES, RESOURCE)
def attachment_thumb(patient, thread_id: int, attachment_id: int):
    found = _attachment_or_404(patient, thread_id, attachment_id)
    if found.thumb_key is None:
        abort(404)
    data = storage.storage().get(found.thumb_key)
    return _send(data, found.content_type, inline=True, name=_name(found, "-small"))
