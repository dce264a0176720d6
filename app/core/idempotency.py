"""Writes happen once: an idempotency key on every form that creates something.

A double-click on "Send" posts the same form twice, sometimes at the same instant. Each creating
form carries a random key in a hidden field (`IdempotentForm`), made when the form is rendered
and kept when the form is shown again with its errors. The view claims the key in the request's
own transaction, just before it creates anything:

    if (again := idempotency.replay(form)) is not None:
        return again  # this key already made something: go there, create nothing
    thread = services.start_thread(...)
    url = url_for(...)
    idempotency.remember(form, url)

The claim is one INSERT that tolerates the race (`ON CONFLICT DO NOTHING` on the unique key):
of two submits at once, the second waits for the first to commit (PostgreSQL's unique index,
SQLite's single writer), inserts nothing, and is sent where the first one led, with "That was
already sent.". A request that fails (a 4xx, a 500) rolls the claim back with everything else,
so the same form can be sent again. A missing or malformed key is a form error (the form comes
back with a fresh key): a submit without one could not be told from its double.

Keys are kept a day; every `PURGE_EVERY`-th claim deletes the older ones (an indexed range
delete, never a scan per request).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import flash, redirect, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.wrappers import Response
from wtforms import HiddenField, ValidationError
from wtforms.widgets import HiddenInput

from app.core.db import insert, utcnow
from app.core.errors import RuleError
from app.extensions import db

FIELD = "idempotency_key"
#: What `new_key` makes (32 URL-safe characters); anything else is refused.
KEY_RE = re.compile(r"[A-Za-z0-9_-]{32,64}")
#: How long a key stops a repeat. A form sent again a day later creates again.
KEEP = timedelta(days=1)
#: One claim in this many also deletes the keys older than KEEP.
PURGE_EVERY = 100


class IdempotencyKey(db.Model):
    """One key a creating form was sent with, and what that submit made."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The random key from the form's hidden field: unique, so a second claim inserts nothing.
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Who sent it: a key found under someone else's name is refused, never followed.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    #: The endpoint it was sent to (a key is good for one form).
    endpoint: Mapped[str] = mapped_column(sa.String(96))
    #: Where the first submit led (the thread, the message, the goal...): a repeat goes there.
    result_url: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def new_key() -> str:
    return secrets.token_urlsafe(24)


class KeyInput(HiddenInput):
    """The hidden input, and the reason when the key was refused (a hidden field has no place
    of its own to show an error)."""

    def __call__(self, field, **kwargs):
        html = super().__call__(field, **kwargs)
        if field.errors:
            html += Markup('<p class="error" role="alert">%s</p>') % field.errors[0]
        return html


def _well_formed(form, field) -> None:
    # A missing field would keep the default (a fresh key) and pass: read what was sent.
    sent = field.raw_data[0] if field.raw_data else ""
    if not KEY_RE.fullmatch(sent):
        field.data = new_key()  # shown again with a good one: sending again works
        raise ValidationError(_l("This form was out of date. Please check it and send it again."))


class IdempotencyKeyField(HiddenField):
    widget = KeyInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("default", new_key)
        super().__init__(label, [_well_formed, *(validators or [])], **kwargs)


class IdempotentForm(FlaskForm):
    """A form that creates something. `once=False` (the same form used to edit) drops the key."""

    idempotency_key = IdempotencyKeyField()

    def __init__(self, *args, once: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not once:
            del self.idempotency_key


def _insert(values: dict) -> int | None:
    """Insert the key unless it exists: its id, or None when it was there already (after
    waiting for the transaction that put it there to commit)."""
    table = IdempotencyKey.__table__
    statement = (
        insert(db.session, table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[table.c.key])
        .returning(table.c.id)
    )
    return db.session.execute(statement).scalar()


def purge(now: datetime | None = None) -> int:
    """Delete the keys older than KEEP: their forms may create again."""
    cutoff = (now or utcnow()) - KEEP
    return db.session.execute(
        sa.delete(IdempotencyKey)
        .where(IdempotencyKey.created_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount


def replay(form: IdempotentForm, *, already: str | None = None) -> Response | None:
    """Claim the form's key for this submit. None: it is new, go on and create (then call
    `remember`). A redirect: this key already made something, which is where the user goes,
    told `already` ("That was already sent." unless said otherwise); nothing is created."""
    key = form.idempotency_key.data
    now = utcnow()
    claimed = _insert(
        {
            "key": key,
            "user_id": current_user.id,
            "endpoint": request.endpoint,
            "created_at": now,
        }
    )
    if claimed is not None:
        if claimed % PURGE_EVERY == 0:
            purge(now)
        return None
    first = db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.key == key))
    if (
        first is None
        or first.user_id != current_user.id
        or first.endpoint != request.endpoint
        or not first.result_url
    ):
        # Not this person's submit of this form (or one that made nothing to show).
        form.idempotency_key.data = new_key()  # the form shown again can be sent
        raise RuleError(_("That form was already used. Please open it again."))
    flash(already or _("That was already sent."), "info")
    return redirect(first.result_url)


def remember(form: IdempotentForm, url: str) -> None:
    """What the submit made: where a repeat of it is sent. Same transaction as the creation."""
    db.session.execute(
        sa.update(IdempotencyKey)
        .where(IdempotencyKey.key == form.idempotency_key.data)
        .values(result_url=url)
        .execution_options(synchronize_session=False)
    )
