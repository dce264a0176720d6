"""`flask outbox show`: what the outbox backends kept, for a developer with a shell.

With MAIL_BACKEND=outbox and SMS_BACKEND=outbox (development and the demo) nothing leaves the
server: emails and texts are kept. Their words can hold a sign-in link, a code or a health
detail meant for one person, so no web page shows them (administrators see delivery status
only); whoever runs this command already holds the database.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from app.core.mail import OutboundEmail
from app.extensions import db
from app.texting.models import OutboundSms

outbox = AppGroup("outbox", help="What the development outboxes kept (never in production).")


@outbox.command("show")
@click.option("--to", "to", default=None, help="Only what went to this email or phone.")
@click.option("--last", default=5, show_default=True, help="How many of each, newest first.")
def show_command(to: str | None, last: int) -> None:
    """Print the newest emails and texts, with their words (links included)."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("There is no outbox in production.")
    emails = sa.select(OutboundEmail).order_by(OutboundEmail.id.desc()).limit(last)
    texts = sa.select(OutboundSms).order_by(OutboundSms.id.desc()).limit(last)
    if to:
        emails = emails.where(OutboundEmail.to_address == to.strip().lower())
        texts = texts.where(OutboundSms.to_number == to.strip())
    shown = 0
    for email in db.session.scalars(emails):
        click.echo(f"--- email to {email.to_address} ({email.status}): {email.subject}")
        click.echo(email.body)
        shown += 1
    for text in db.session.scalars(texts):
        click.echo(f"--- text to {text.to_number} ({text.status}, {text.purpose})")
        click.echo(text.body)
        shown += 1
    if not shown:
        click.echo("The outbox is empty.")
