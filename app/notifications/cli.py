"""`flask notifications send`: hand due texts to the outbox backend (run it from cron)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.texting.outbox import deliver_due

notifications = AppGroup("notifications", help="Texts and emails waiting to go out.")


@notifications.command("send")
def send_command() -> None:
    """Store the texts whose quiet hours are over (the outbox backend; with Twilio the
    dispatcher, `flask reminders run`, sends them and this does nothing)."""
    if current_app.config["SMS_BACKEND"] != "outbox":
        click.echo("Texts go through the dispatcher (flask reminders run): nothing to do here.")
        return
    click.echo(f"{deliver_due()} text(s) handed to the SMS backend.")
