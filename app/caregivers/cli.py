"""`flask caregivers sweep`: apply the time rules to caregiver access (run it daily from cron)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.caregivers import lifecycle
from app.core.mail import deliver
from app.extensions import db

caregivers = AppGroup("caregivers", help="Caregiver access jobs.")


@caregivers.command("sweep")
def sweep_command() -> None:
    """End expired and age-ended access and send the notices due (each once)."""
    result = lifecycle.sweep()
    db.session.commit()
    if result.email_ids:
        deliver(result.email_ids)
    click.echo(
        f"expired={result.expired} age_of_majority={result.came_of_age} "
        f"adolescent_notices={result.adolescent_notices} "
        f"expiry_notices={result.expiry_notices} emails={len(result.email_ids)} "
        f"texts={len(result.sms_ids)}"
    )
