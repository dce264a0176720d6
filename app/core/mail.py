"""Email through a transactional outbox.

`queue_email` adds a row in the request's transaction; once that commits, the configured backend
delivers it. `outbox` (the default, development only) keeps the message, so the demo works with no
mail server (`flask outbox show` prints it; admins see only whether it went out); `smtp` sends it
and then clears the body, which may hold a sign-in link. Every email is a template with a
`subject` and a `body` block, rendered by `send_template` in the recipient's language.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import utcnow
from app.core.i18n import Recipient, for_recipient
from app.core.uow import can_defer, on_commit
from app.extensions import db

log = logging.getLogger(__name__)


class OutboundEmail(db.Model):
    __tablename__ = "outbound_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    to_address: Mapped[str] = mapped_column(sa.String(254))
    #: The user it was for, if any (for the admin outbox page).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    #: queued, stored (outbox backend), sent, failed
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    sent_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.String(200))


def _deliver_outbox(message: OutboundEmail) -> None:
    message.status = "stored"


def _deliver_smtp(message: OutboundEmail) -> None:
    cfg = current_app.config
    email = EmailMessage()
    email["From"] = cfg["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body)
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=10) as smtp:
        if cfg["SMTP_STARTTLS"]:
            smtp.starttls()
        if cfg["SMTP_USERNAME"]:
            smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
        smtp.send_message(email)
    message.status = "sent"
    message.body = ""  # it may hold a sign-in link; it has left the building


BACKENDS = {"outbox": _deliver_outbox, "smtp": _deliver_smtp}


def deliver(message_ids: list[int]) -> None:
    backend = BACKENDS[current_app.config["MAIL_BACKEND"]]
    for message in db.session.scalars(
        sa.select(OutboundEmail).where(OutboundEmail.id.in_(message_ids))
    ):
        try:
            backend(message)
            message.sent_at = utcnow()
        except (OSError, smtplib.SMTPException) as exc:
            message.status = "failed"
            message.error = type(exc).__name__
            log.warning("email %s failed: %s", message.id, type(exc).__name__)
    db.session.commit()


def queue_email(*, to: str, subject: str, body: str, user_id: int | None = None) -> OutboundEmail:
    message = OutboundEmail(to_address=to, subject=subject, body=body, user_id=user_id)
    db.session.add(message)
    db.session.flush()
    message_id = message.id
    if can_defer():
        on_commit(lambda: deliver([message_id]))
    return message


def render_email(template: str, **context) -> tuple[str, str]:
    """The subject and body blocks of an email template, in the current language.

    Rendered with the bare Jinja environment (no request context processors), so jobs outside
    a request render exactly what a web request would.
    """
    found = current_app.jinja_env.get_template(template)
    ctx = found.new_context(context)
    subject = " ".join("".join(found.blocks["subject"](ctx)).split())
    body = "".join(found.blocks["body"](ctx)).strip() + "\n"
    return subject, body


def send_template(
    template: str,
    recipient: Recipient,
    *,
    email: str | None = None,
    user_id: int | None = None,
    **context,
) -> OutboundEmail:
    """Queue `template` to `recipient` (a User, or a Patient with `email` given), written in
    the recipient's language."""
    with for_recipient(recipient):
        subject, body = render_email(template, **context)
    address = email or recipient.email
    if user_id is None and email is None:
        user_id = recipient.id
    return queue_email(to=address, subject=subject, body=body, user_id=user_id)
