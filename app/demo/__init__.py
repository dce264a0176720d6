"""`flask demo seed`: the demo CCO, its care team, three patients, two caregivers, an admin,
and their plans, goals, decisions, messages and reminders.

One module per domain; each adds and flushes, the command commits. Idempotent: running it twice
changes nothing. Refuses to run when APP_ENV=production. The demo imports the domains and
calls their services; no domain imports the demo.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from app.auth import mfa
from app.auth.models import User
from app.auth.passwords import hash_password
from app.demo import (
    accounts,
    attachments,
    caregivers,
    decisions,
    goals,
    history,
    languages,
    messaging,
    plan,
    plan_appointments,
    plan_medicines,
    plan_readings,
    reminders,
    screening,
    translations,
)
from app.demo.accounts import DEMO_PASSWORD, DOMAIN
from app.extensions import db

__all__ = ["DEMO_PASSWORD", "DOMAIN", "demo", "seed"]

demo = AppGroup("demo", help="Demo data for trying CareCircle locally.")


def seed() -> bool:
    """Create the demo data if it is not there. Returns True when anything was created."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("The demo data must never be loaded in production.")
    already = (
        db.session.scalar(sa.select(User.id).where(User.email == f"admin@{DOMAIN}")) is not None
    )
    password_hash = hash_password(DEMO_PASSWORD)
    people = accounts.seed(password_hash)
    caregivers.seed(people)
    plan.seed(people)
    reminders.seed(people)
    messaging.seed(people)
    goals.seed(people)
    decisions.seed(people)
    plan_appointments.seed(people)
    plan_medicines.seed(people)
    plan_readings.seed(people)
    attachments.seed(people)
    languages.seed(people, password_hash)  # Lan reads Vietnamese, her son Minh English
    translations.seed(people)  # María's and Lan's plans in their language; Leo's for Rosa
    screening.seed(people)  # María worries about the rent: a referral for Lupe (CHW)
    reminders.plan_next_day(people)
    if current_app.config["DEMO_HISTORY"]:
        history.seed(people, password_hash)  # twelve weeks of the CCO's past (issue 18), last
    db.session.flush()
    return not already


@demo.command("seed")
def seed_command() -> None:
    """Load the demo data (safe to run again)."""
    created = seed()
    db.session.commit()
    if created:
        click.echo(f"Demo data loaded. Every demo login uses the password {DEMO_PASSWORD!r}.")
        key = mfa.DEMO_MFA_SECRET
        click.echo(
            f"Care team and admin accounts also ask for a code: add the key {key} to an "
            "authenticator app, or run\n"
            f"  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{key}').now())\""
        )
    else:
        click.echo("Demo data already present; nothing to do.")


@demo.command("generate")
@click.option("--patients", type=click.IntRange(min=1), required=True, help="How many to add.")
@click.option("--seed", "random_seed", type=int, default=None, help="Same seed, same data.")
@click.option(
    "--batch",
    type=click.IntRange(min=100),
    default=2000,
    show_default=True,
    help="Patients per transaction.",
)
def generate_command(patients: int, random_seed: int | None, batch: int) -> None:
    """Add N generated patients, with their teams, plans, messages and audit trail (on top
    of the demo; see docs/generating-data.md)."""
    from app.demo.generate import generate

    generate(patients, seed=random_seed, batch=batch)
