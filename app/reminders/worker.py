"""The SMS worker: plan reminders, then send what is due; and `run`, its loop. `plan_loop`
(behind `flask reminders plan`) runs the planner alone, so planning never holds up sending:
run it once, next to any number of `flask reminders run --no-plan` senders.

`run` (behind `flask reminders run`) keeps going through outages: a database that goes away
(restart, failover, "terminating connection due to administrator command", a locked SQLite
file) rolls the session back, drops the connection pool and waits with exponential backoff,
then carries on; Twilio outages are the dispatcher's business (retries, reconciliation). Stop
requests (SIGTERM, Ctrl-C: `Stop.request`) are looked at between texts, so the text in flight
is finished and recorded, claimed texts not yet started are handed back, and the loop ends.

On SQLite only one worker may send (no SKIP LOCKED there): `single_worker` holds an exclusive
lock on a file next to the database for as long as a worker runs, and a second one is refused.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.reminders.recurring import plan_due
from app.texting import dispatcher

log = logging.getLogger(__name__)

#: Waits after a failed pass: 1 s, 2 s, 4 s... up to this.
MAX_PAUSE_SECONDS = 60.0
#: The longest single sleep, so a stop request is seen quickly.
SLICE_SECONDS = 0.2


class Stop:
    """A stop request: set from a signal handler, looked at between texts."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def request(self, *_signal) -> None:
        self.requested = True


class AnotherWorker(RuntimeError):
    """A worker already runs on this SQLite database."""


def plan_and_send(
    batch: int = 200, plan: bool = True, stop: dispatcher.Stop = dispatcher.never
) -> dict[str, int]:
    """Plan the next hours of chosen-time reminders (unless `plan` is False), then settle
    expired sends and send everything due (`texting.dispatcher`)."""
    planned = plan_due() if plan else 0
    return {"planned": planned, **dispatcher.dispatch_once(batch, stop=stop)}


def pause(seconds: float, stop: Callable[[], bool], sleep=time.sleep) -> None:
    """Sleep `seconds`, in slices, or less if a stop is requested."""
    deadline = time.monotonic() + seconds
    while not stop():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        sleep(min(left, SLICE_SECONDS))


def _forget_connections() -> None:
    """After a database error: roll back what can be, and drop every pooled connection, so
    the next pass opens fresh ones (the old ones may point at a server that is gone)."""
    try:
        db.session.rollback()
    except Exception as exc:  # the connection is dead: nothing to roll back
        log.debug("rollback after a database error failed: %s", type(exc).__name__)
    db.session.remove()
    db.engine.dispose()


def run(
    *,
    interval: float = 5.0,
    batch: int = 200,
    plan_every: float | None = 60.0,
    stop: Callable[[], bool],
    sleep=time.sleep,
    report: Callable[[dict[str, int]], None] = lambda outcome: None,
) -> None:
    """Send (and plan every `plan_every` seconds; None: never, a planner runs apart) until
    `stop()`. Never dies of a database outage or of one bad pass: it logs (error types only,
    no numbers or bodies), waits 1, 2, 4... seconds and tries again."""
    cfg = current_app.config
    if cfg["SMS_LEASE_SECONDS"] < 2 * float(cfg.get("SMS_TIMEOUT_SECONDS") or 10):
        log.warning(
            "SMS_LEASE_SECONDS should be well above SMS_TIMEOUT_SECONDS: a slow answer from "
            "Twilio could outlive the lease, and be looked up before Twilio has stored it"
        )
    last = {"plan": float("-inf")}

    def step() -> dict[str, int]:
        plan = plan_every is not None and time.monotonic() - last["plan"] >= plan_every
        outcome = plan_and_send(batch, plan=plan, stop=stop)
        if plan:
            last["plan"] = time.monotonic()
        return outcome

    _loop(step, interval=interval, stop=stop, sleep=sleep, report=report)


def plan_loop(
    *,
    interval: float = 60.0,
    full_every: float = 3600.0,
    stop: Callable[[], bool],
    sleep=time.sleep,
    report: Callable[[dict[str, int]], None] = lambda outcome: None,
) -> None:
    """The planner alone: a round every `interval` seconds (only the schedules that have
    something new to plan), and a full round every `full_every` seconds. Same outage rules
    as `run`; one planner plans at a time (reminders.recurring.plan_due)."""
    last = {"full": float("-inf")}

    def step() -> dict[str, int]:
        full = time.monotonic() - last["full"] >= full_every
        planned = plan_due(full=full)
        if full:
            last["full"] = time.monotonic()
        return {"planned": planned}

    _loop(step, interval=interval, stop=stop, sleep=sleep, report=report)


def _loop(
    step: Callable[[], dict[str, int]],
    *,
    interval: float,
    stop: Callable[[], bool],
    sleep,
    report: Callable[[dict[str, int]], None],
) -> None:
    failures = 0
    while not stop():
        try:
            outcome = step()
        except DBAPIError as exc:
            failures += 1
            wait = min(MAX_PAUSE_SECONDS, 2.0 ** (failures - 1))
            log.warning(
                "database unavailable (%s); trying again in %.0f s",
                type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__,
                wait,
            )
            _forget_connections()
            pause(wait, stop, sleep)
            continue
        except Exception as exc:  # a bug in one pass must not end the worker
            failures += 1
            wait = min(MAX_PAUSE_SECONDS, 2.0 ** (failures - 1))
            frame = exc.__traceback__
            while frame is not None and frame.tb_next is not None:
                frame = frame.tb_next
            where = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame else "?"
            log.error(
                "worker pass failed (%s at %s); trying again in %.0f s",
                type(exc).__name__,
                where,
                wait,
            )
            _forget_connections()
            pause(wait, stop, sleep)
            continue
        failures = 0
        report(outcome)
        pause(interval, stop, sleep)
    db.session.remove()


def lock_path() -> Path | None:
    """The lock file of a SQLite database file (None for PostgreSQL or an in-memory one)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve().with_name(Path(url.database).name + ".worker.lock")


@contextmanager
def single_worker() -> Iterator[None]:
    """Hold the SQLite database's worker lock while the block runs; AnotherWorker if taken.
    The lock goes with the process, so a worker killed with -9 does not leave it behind."""
    path = lock_path()
    if path is None:
        yield
        return
    handle = path.open("a")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AnotherWorker(
                f"Another SMS worker is already running on this SQLite database ({path.name} "
                "is locked). SQLite allows one worker; use PostgreSQL for several."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()
