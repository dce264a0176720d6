"""`flask messaging fetch-media` and `flask messaging sweep-attachments` (run them from cron)."""

from __future__ import annotations

import click

from app.extensions import db
from app.messaging.attachments import services, storage
from app.messaging.cli import messaging


@messaging.command("fetch-media")
def fetch_media_command() -> None:
    """Fetch the MMS pictures that could not be fetched when their text came in."""
    done, waiting = services.retry_fetches()
    click.echo(f"{done} picture(s) fetched, {waiting} still waiting.")


@messaging.command("sweep-attachments")
@click.option("--hours", default=24, show_default=True, help="Only files older than this.")
def sweep_command(hours: int) -> None:
    """Delete stored files no message points at (left by a process killed mid-request)."""
    removed = storage.sweep(services.known_keys, older_than_seconds=hours * 3600)
    db.session.rollback()
    click.echo(f"{removed} unused file(s) deleted.")
