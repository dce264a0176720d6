"""`flask notifications send`: hand due texts to the outbox backend (run it from cron)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.texting.outbox import deliver_due

notifications = AppGroup("notifications", help="Texts and emails waiting to go out.")


@notifications.command("send")
def send_command() -> None:
    """Send the texts whose quiet hours are over."""
    click.echo(f"{deliver_due()} text(s) handed to the SMS backend.")
