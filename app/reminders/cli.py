"""`flask reminders dispatch --once` (cron), `flask reminders run` (a sending worker) and
`flask reminders plan` (the planner in its own loop).

Both refuse to start while another worker runs on the same SQLite database (one worker only
there); on PostgreSQL any number of them share the work. See docs/texting.md.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask.cli import AppGroup

from app.reminders import worker
from app.reminders.recurring import plan_due

reminders = AppGroup("reminders", help="Plan reminder texts and send due texts.")


@contextmanager
def _stop_on_signals() -> Iterator[worker.Stop]:
    """SIGTERM and SIGINT ask the worker to stop between texts (the old handlers come back
    afterwards)."""
    stop = worker.Stop()
    before = {sig: signal.signal(sig, stop.request) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _show(outcome: dict[str, int]) -> None:
    if any(outcome.values()):
        click.echo(" ".join(f"{k}={v}" for k, v in outcome.items()))


@reminders.command("dispatch")
@click.option("--once", is_flag=True, required=True, help="Send what is due, then exit.")
@click.option("--batch", default=200, show_default=True)
def dispatch_command(once: bool, batch: int) -> None:
    try:
        with _stop_on_signals() as stop, worker.single_worker():
            outcome = worker.plan_and_send(batch, stop=stop)
    except worker.AnotherWorker as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(" ".join(f"{k}={v}" for k, v in outcome.items()))


@reminders.command("run")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
@click.option("--batch", default=200, show_default=True, help="Texts claimed at a time.")
@click.option(
    "--plan-every", default=60.0, show_default=True, help="Seconds between planning rounds."
)
@click.option(
    "--plan/--no-plan",
    default=True,
    show_default=True,
    help="Plan reminders here too (--no-plan: `flask reminders plan` runs apart).",
)
def run_command(interval: float, batch: int, plan_every: float, plan: bool) -> None:
    """Keep sending due texts until stopped: SIGTERM or Ctrl-C finish the texts in flight,
    hand back the rest and exit. Database and Twilio outages are waited out, not fatal.
    Recurring reminders (medicines, tasks, goals) are planned every --plan-every seconds,
    unless --no-plan."""
    try:
        with _stop_on_signals() as stop, worker.single_worker():
            worker.run(
                interval=interval,
                batch=batch,
                plan_every=plan_every if plan else None,
                stop=stop,
                report=_show,
            )
    except worker.AnotherWorker as exc:
        raise click.ClickException(str(exc)) from None


@reminders.command("plan")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between rounds.")
@click.option(
    "--full-every",
    default=3600.0,
    show_default=True,
    help="Seconds between rounds that look at every schedule.",
)
@click.option("--once", is_flag=True, help="One full round, then exit.")
def plan_command(interval: float, full_every: float, once: bool) -> None:
    """Plan reminder texts in a loop of its own (one planner at a time), so planning never
    holds up sending. SIGTERM or Ctrl-C stop it between rounds."""
    if once:
        click.echo(f"planned={plan_due(full=True)}")
        return
    with _stop_on_signals() as stop:
        worker.plan_loop(interval=interval, full_every=full_every, stop=stop, report=_show)
