"""`flask reminders dispatch --once` (cron) and `flask reminders run` (a worker)."""

from __future__ import annotations

import signal
import time

import click
from flask.cli import AppGroup

from app.reminders.worker import plan_and_send

reminders = AppGroup("reminders", help="Plan reminder texts and send due texts.")


@reminders.command("dispatch")
@click.option("--once", is_flag=True, required=True, help="Send what is due, then exit.")
@click.option("--batch", default=50, show_default=True)
def dispatch_command(once: bool, batch: int) -> None:
    outcome = plan_and_send(batch)
    click.echo(" ".join(f"{k}={v}" for k, v in outcome.items()))


@reminders.command("run")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
@click.option("--batch", default=50, show_default=True)
@click.option(
    "--plan-every", default=60.0, show_default=True, help="Seconds between planning rounds."
)
def run_command(interval: float, batch: int, plan_every: float) -> None:
    """Keep sending due texts until stopped (SIGTERM or Ctrl-C finish the current text).
    Recurring reminders (medicines, tasks, goals) are planned every --plan-every seconds."""
    stopping = {"now": False}

    def stop(signum, frame):
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    planned_at = float("-inf")
    while not stopping["now"]:
        plan = time.monotonic() - planned_at >= plan_every
        if plan:
            planned_at = time.monotonic()
        outcome = plan_and_send(batch, plan=plan)
        if any(outcome.values()):
            click.echo(" ".join(f"{k}={v}" for k, v in outcome.items()))
        time.sleep(interval)
