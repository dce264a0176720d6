"""`make chaos`: the texting guarantees under crashes, faults and races, on PostgreSQL and SQLite.

    .venv/bin/python bench/chaos.py                 # every scenario, both databases (< 10 min)
    .venv/bin/python bench/chaos.py --quick         # a short version of each (in `make test`)
    .venv/bin/python bench/chaos.py --only kills    # scenarios whose name contains "kills"

Each scenario queues texts through the app's own outbox (`texting.outbox.queue_sms`), starts
real `flask reminders run` workers (separate processes, as on separate hosts) that send through
the real `twilio` library to the fake Twilio server of the tests on 127.0.0.1, and does to them
what the review did: kill -9 mid-batch, 10 % of sends answering 500 or 429, 10 % of lookups
failing, 5 % of connections dropped after Twilio accepted the text, answers slower than the
client's timeout, a lease shorter than a batch, identical bodies plus a crash, the database
cut from under the workers. Then it counts, from what the fake Twilio server received:

    queued      texts put in the outbox
    received    texts Twilio accepted (each counted once per outbox row)
    lost        rows Twilio never accepted although nothing refused them
    duplicated  texts Twilio accepted more than once for one row
    crashes     worker exits we did not cause (kills are ours; exit codes != 0 otherwise)

The web side (concurrent duplicate webhooks, double submits) runs in-process with real threads
and counts 5xx answers. No network beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from tests.fakes.twilio_server import (  # noqa: E402
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    Failure,
    FakeTwilioServer,
)

PG_URL = os.environ.get("CHAOS_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SERVICE_SID = "MG" + "0123456789abcdef" * 2
FLASK = str(Path(sys.executable).with_name("flask"))


# ------------------------------------------------------------------ a Twilio that misbehaves


class ChaosTwilio(FakeTwilioServer):
    """The tests' fake Twilio, misbehaving at random on a share of requests."""

    def __init__(self, *, seed: int, create: dict[str, float], lookup: dict[str, float]):
        super().__init__(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
        self.rng = random.Random(seed)
        self.odds = {"create": create, "list": lookup}
        self.slow_seconds = 0.0

    def _take_failure(self, on: str) -> Failure | None:
        queued = super()._take_failure(on)
        if queued is not None:
            return queued
        with self._lock:
            roll = self.rng.random()
        edge = 0.0
        for kind, share in self.odds[on].items():
            edge += share
            if roll < edge:
                return {
                    "500": Failure("error", status=500),
                    "429": Failure("error", status=429),
                    "drop": Failure("drop"),
                    "drop_after_accept": Failure("drop", accept=True),
                    "slow": Failure("delay", seconds=self.slow_seconds),
                }[kind]
        return None


# ------------------------------------------------------------------ scenarios


@dataclass
class Scenario:
    name: str
    texts: int = 200
    workers: int = 2
    kills: int = 0
    create: dict[str, float] = field(default_factory=dict)
    lookup: dict[str, float] = field(default_factory=dict)
    identical_bodies: bool = False
    #: Short, so a killed worker's rows are settled in seconds (production: 60).
    lease_seconds: int = 5
    #: Seconds a slow answer takes; the client gives up after SMS_TIMEOUT_SECONDS.
    slow_seconds: float = 0.0
    timeout_seconds: float = 2.0
    cut_database: int = 0
    batch: int = 20
    #: Texts per second across all workers: slow enough that kills land mid-batch.
    rate: int = 20
    deadline: float = 120.0


def scenarios(quick: bool) -> list[Scenario]:
    n = 40 if quick else 300
    kills = 3 if quick else 20
    r = 10 if quick else 25
    return [
        Scenario("healthy", texts=n, rate=r),
        Scenario("kills", texts=n, kills=kills, rate=r),
        Scenario(
            "kills + 10% errors", texts=n, kills=kills, create={"500": 0.05, "429": 0.05}, rate=r
        ),
        Scenario("10% lookup errors + kills", texts=n, kills=kills, lookup={"500": 0.1}, rate=r),
        Scenario("5% dropped after accept", texts=n, create={"drop_after_accept": 0.05}, rate=r),
        Scenario(
            "slow answers past the timeout",
            texts=max(20, n // 5),
            create={"slow": 0.1},
            slow_seconds=3.0,
            timeout_seconds=1.0,
        ),
        Scenario(
            "lease shorter than a batch",
            texts=max(20, n // 3),
            lease_seconds=1,
            create={"slow": 0.2},
            slow_seconds=0.4,
            timeout_seconds=2.0,
            batch=10,
        ),
        Scenario("identical bodies + kills", texts=n, kills=kills, identical_bodies=True, rate=r),
        Scenario("database cut", texts=n, cut_database=2 if quick else 5, rate=r),
    ]


# ------------------------------------------------------------------ databases


@dataclass
class Database:
    kind: str
    url: str  # what the workers get in DATABASE_URL
    app_options: dict[str, Any]
    cleanup: Any


@contextmanager
def database(kind: str):
    from config import normalise_database_url

    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/chaos.db"
            yield Database("sqlite", url, {}, None)
        return
    schema = f"cc_chaos_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(normalise_database_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    base = normalise_database_url(PG_URL)
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}&application_name=chaos-worker"
    try:
        yield Database(
            "postgresql",
            url,
            {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}}},
            admin,
        )
    finally:
        with admin.begin() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'chaos-worker'"
                )
            )
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def make_app(db: Database, server_url: str):
    from app import create_app
    from config import normalise_database_url

    return create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(db.url.split("?")[0])
            if db.kind == "postgresql"
            else db.url,
            **db.app_options,
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
            "TWILIO_API_BASE_URL": server_url,
            "LOG_LEVEL": "WARNING",
        },
    )


def queue_texts(app, scenario: Scenario) -> list[int]:
    """Texts through the app's one entry point, to 10 patients; the bodies are the app's own
    (one thread's "your team wrote" text for every row when `identical_bodies`)."""
    from app.auth.models import Role
    from app.auth.services import create_account
    from app.core.db import utcnow
    from app.extensions import db
    from app.patients.models import Patient
    from app.texting import bodies, links
    from app.texting.outbox import queue_sms

    with app.app_context():
        db.create_all()
        patients = []
        for i in range(10):
            user = create_account(
                email=f"chaos{i}@example.test", full_name=f"Chaos {i}", role=Role.PATIENT
            )
            patient = Patient(
                user_id=user.id,
                given_name="Chaos",
                family_name=str(i),
                date_of_birth=date(1970, 1, 1),
                mobile_phone=f"+1503555{i:04d}",
            )
            db.session.add(patient)
            patients.append(patient)
        db.session.flush()
        due = utcnow() - timedelta(minutes=1)
        ids = []
        for i in range(scenario.texts):
            patient = patients[i % len(patients)]
            path = "/patients/1/messages/1" if scenario.identical_bodies else f"/r-chaos/{i}"
            body = bodies.team_replied(locale="en", link=links.short_link(path))
            row = queue_sms(
                patient=patient,
                to=patient.mobile_phone,
                user_id=patient.user_id,
                purpose="team_replied",
                locale="en",
                body=body,
                send_after=due,
            )
            ids.append(row.id)
        db.session.commit()
        db.engine.dispose()
    return ids


# ------------------------------------------------------------------ workers


class Workers:
    def __init__(self, db: Database, server_url: str, scenario: Scenario, logs: Path):
        self.env = {
            **os.environ,
            "FLASK_APP": "wsgi.py",
            "APP_ENV": "development",
            "DATABASE_URL": db.url,
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
            "TWILIO_API_BASE_URL": server_url,
            "PUBLIC_BASE_URL": "http://carecircle.test",
            "SMS_LEASE_SECONDS": str(scenario.lease_seconds),
            "SMS_TIMEOUT_SECONDS": str(scenario.timeout_seconds),
            "SMS_RATE_PER_SECOND": str(scenario.rate),
            "SMS_RETRY_BASE_SECONDS": "1",
            "SMS_RETRY_MAX_SECONDS": "2",
            "SMS_MAX_ATTEMPTS": "50",
            "LOG_LEVEL": "WARNING",
        }
        self.scenario = scenario
        self.logs = logs
        self.procs: list[subprocess.Popen | None] = [None] * scenario.workers
        self.killed: set[int] = set()
        self.crashes = 0
        self.exits: Counter[int] = Counter()

    def start(self, slot: int) -> None:
        path = self.logs / f"worker-{slot}-{time.monotonic_ns()}.log"
        with open(path, "w") as log:  # the child keeps its own copy of the descriptor
            self.procs[slot] = subprocess.Popen(
                [
                    FLASK,
                    "reminders",
                    "run",
                    "--interval",
                    "0.2",
                    "--batch",
                    str(self.scenario.batch),
                    "--plan-every",
                    "3600",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start_all(self) -> None:
        for slot in range(len(self.procs)):
            self.start(slot)

    def check(self) -> None:
        """Restart any worker that stopped; count the stops we did not cause."""
        for slot, proc in enumerate(self.procs):
            if proc is None or proc.poll() is None:
                continue
            if proc.pid in self.killed:
                self.killed.discard(proc.pid)
            else:
                self.crashes += 1
                self.exits[proc.returncode] += 1
            self.start(slot)

    def kill_one(self, rng: random.Random) -> None:
        slot = rng.randrange(len(self.procs))
        proc = self.procs[slot]
        if proc is not None and proc.poll() is None:
            self.killed.add(proc.pid)
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is None:
                continue
            try:
                code = proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
                self.crashes += 1  # SIGTERM did not stop it
            if code not in (0, -signal.SIGKILL) and proc.pid not in self.killed:
                self.crashes += 1
                self.exits[code] += 1


def cut_database(db: Database) -> None:
    """Take the database away from the workers for a moment."""
    if db.kind == "postgresql":
        with db.cleanup.begin() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'chaos-worker'"
                )
            )
        return
    import sqlite3

    path = db.url.removeprefix("sqlite:///")
    hold = sqlite3.connect(path, timeout=1)
    hold.execute("BEGIN EXCLUSIVE")
    time.sleep(2.0)  # longer than the workers' busy timeout
    hold.rollback()
    hold.close()


# ------------------------------------------------------------------ one run


def settled(app, ids: list[int]) -> tuple[bool, Counter]:
    from app.extensions import db
    from app.texting.models import OutboundSms

    with app.app_context():
        statuses = Counter(
            db.session.scalars(sa.select(OutboundSms.status).where(OutboundSms.id.in_(ids)))
        )
        db.session.remove()
    open_states = {"queued", "sending", "unknown"}
    return not any(statuses[s] for s in open_states), statuses


def run(kind: str, scenario: Scenario, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    server = ChaosTwilio(seed=seed, create=scenario.create, lookup=scenario.lookup)
    server.slow_seconds = scenario.slow_seconds
    server.start()
    started = time.monotonic()
    try:
        with database(kind) as db, tempfile.TemporaryDirectory() as logs:
            app = make_app(db, server.url)
            ids = queue_texts(app, scenario)
            bodies = rows_by_body(app, ids)
            workers = Workers(db, server.url, scenario, Path(logs))
            if kind == "sqlite":
                workers.procs = workers.procs[:1]  # one worker on SQLite (enforced by the app)
            workers.start_all()
            kills, cuts = scenario.kills, scenario.cut_database
            done = False
            while time.monotonic() - started < scenario.deadline:
                time.sleep(0.25)
                if kills and rng.random() < 0.35:
                    workers.kill_one(rng)
                    kills -= 1
                if cuts and rng.random() < 0.15:
                    cut_database(db)
                    cuts -= 1
                workers.check()
                done, statuses = settled(app, ids)
                if done and not kills and not cuts:
                    break
            workers.stop_all()
            if workers.crashes and os.environ.get("CHAOS_KEEP_LOGS"):
                import shutil

                shutil.copytree(logs, Path(os.environ["CHAOS_KEEP_LOGS"]) / uuid.uuid4().hex[:8])
            done, statuses = settled(app, ids)
            dispose(app)
            received = Counter()
            unknown = 0
            for message in server.messages:
                row = bodies.get((message.get("To"), message.get("Body")))
                if row is None:
                    unknown += 1
                else:
                    received[row] += 1
            if scenario.identical_bodies:
                # Identical bodies cannot be told apart by Twilio's side: count per number.
                per_number = Counter(m.get("To") for m in server.messages)
                expected = Counter(to for (to, _b), _r in bodies.items_multi())
                lost = sum(max(0, expected[n] - per_number[n]) for n in expected)
                duplicated = sum(max(0, per_number[n] - expected[n]) for n in expected)
                got = sum(min(per_number[n], expected[n]) for n in expected)
            else:
                lost = sum(1 for i in ids if received[i] == 0)
                duplicated = sum(c - 1 for c in received.values() if c > 1) + unknown
                got = len(received)
            return {
                "database": kind,
                "scenario": scenario.name,
                "queued": len(ids),
                "received": got,
                "lost": lost,
                "duplicated": duplicated,
                "crashes": workers.crashes,
                "exits": dict(workers.exits),
                "unsettled": sum(statuses[s] for s in ("queued", "sending", "unknown")),
                "seconds": round(time.monotonic() - started, 1),
            }
    finally:
        server.stop()


def dispose(app) -> None:
    """Close the pool's connections now, not when the app is garbage-collected."""
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class _Bodies(dict):
    """(to, body) -> row id; with identical bodies, several rows share a key."""

    def __init__(self):
        super().__init__()
        self.multi: list[tuple[tuple[str, str], int]] = []

    def items_multi(self):
        return self.multi


def rows_by_body(app, ids: list[int]) -> _Bodies:
    from app.extensions import db
    from app.texting.models import OutboundSms

    found = _Bodies()
    with app.app_context():
        for row in db.session.scalars(sa.select(OutboundSms).where(OutboundSms.id.in_(ids))):
            found[(row.to_number, row.body)] = row.id
            found.multi.append(((row.to_number, row.body), row.id))
        db.session.remove()
    return found


# ------------------------------------------------------------------ the web side


def web_races(kind: str, rounds: int) -> list[dict[str, Any]]:
    """Duplicate webhooks at the same instant, in-process with real threads (one test client
    each, released by a barrier): the same inbound text, STOP from a new number, and "sent" and
    "delivered" for one text. Counts 5xx answers and wrong outcomes (not exactly one inbound
    row per SID, not one opt-out, a status left behind). Double submits of the forms are
    attacked the same way by tests/core/test_idempotency.py and tests/messaging/test_take_it.py.
    """
    import secrets

    from twilio.request_validator import RequestValidator

    from app.extensions import db as appdb
    from app.texting.models import InboundSms, OutboundSms, PhoneOptOut

    base = "http://carecircle.test"
    ours = "+15035550199"

    def signed(client, path, params):
        signature = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(base + path, params)
        return client.post(path, data=params, headers={"X-Twilio-Signature": signature})

    def at_once(app, calls) -> list[int]:
        barrier = threading.Barrier(len(calls))
        codes: list[int] = [0] * len(calls)

        def go(i, call):
            client = app.test_client()
            barrier.wait(timeout=20)
            codes[i] = call(client).status_code

        threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        return codes

    results = []
    server = FakeTwilioServer().start()
    try:
        with database(kind) as dbase:
            app = make_app(dbase, server.url)
            app.config.update(PROPAGATE_EXCEPTIONS=False, PUBLIC_BASE_URL=base)
            queue_texts(app, Scenario("web", texts=rounds))
            tally = {k: Counter() for k in ("inbound", "stop", "status")}
            for r in range(rounds):
                sid = "SM" + secrets.token_hex(16)
                inbound = {
                    "AccountSid": DEFAULT_ACCOUNT_SID,
                    "MessageSid": sid,
                    "From": "+15035550001",
                    "To": ours,
                    "Body": "Hello",
                    "NumMedia": "0",
                }
                codes = at_once(app, [lambda c, p=inbound: signed(c, "/sms/inbound", p)] * 6)
                with app.app_context():
                    rows = appdb.session.scalar(
                        sa.select(sa.func.count(InboundSms.id)).where(InboundSms.message_sid == sid)
                    )
                tally["inbound"].update(requests=6, e5xx=sum(c >= 500 for c in codes))
                tally["inbound"]["wrong"] += rows != 1

                stranger = f"+1971555{r:04d}"
                stop = {**inbound, "MessageSid": "SM" + secrets.token_hex(16)}
                stop.update(From=stranger, Body="STOP")
                codes = at_once(app, [lambda c, p=stop: signed(c, "/sms/inbound", p)] * 6)
                with app.app_context():
                    opted = appdb.session.scalar(
                        sa.select(sa.func.count(PhoneOptOut.id)).where(
                            PhoneOptOut.phone == stranger, PhoneOptOut.opted_out.is_(True)
                        )
                    )
                tally["stop"].update(requests=6, e5xx=sum(c >= 500 for c in codes))
                tally["stop"]["wrong"] += opted != 1

                out_sid = "SM" + secrets.token_hex(16)
                with app.app_context():
                    row = appdb.session.scalars(
                        sa.select(OutboundSms).order_by(OutboundSms.id).offset(r).limit(1)
                    ).one()
                    row.status, row.provider_sid = "accepted", out_sid
                    row_id = row.id
                    appdb.session.commit()
                calls = [
                    lambda c, st=st, out_sid=out_sid: signed(
                        c,
                        "/sms/status",
                        {
                            "AccountSid": DEFAULT_ACCOUNT_SID,
                            "MessageSid": out_sid,
                            "MessageStatus": st,
                            "To": "+15035550000",
                            "From": ours,
                        },
                    )
                    for st in ("sent", "delivered", "sent", "delivered")
                ]
                codes = at_once(app, calls)
                with app.app_context():
                    final = appdb.session.get(OutboundSms, row_id).status
                    appdb.session.remove()
                tally["status"].update(requests=4, e5xx=sum(c >= 500 for c in codes))
                tally["status"]["wrong"] += final != "delivered"
            dispose(app)
            for case, counts in tally.items():
                results.append(
                    {
                        "database": kind,
                        "case": case,
                        "rounds": rounds,
                        "requests": counts["requests"],
                        "5xx": counts["e5xx"],
                        "wrong": counts["wrong"],
                    }
                )
    finally:
        server.stop()
    return results


def table(rows: list[dict[str, Any]]) -> str:
    cols = [
        "database",
        "scenario",
        "queued",
        "received",
        "lost",
        "duplicated",
        "crashes",
        "unsettled",
        "seconds",
    ]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="")
    parser.add_argument("--databases", default="postgresql,sqlite")
    args = parser.parse_args()
    rows = []
    for kind in args.databases.split(","):
        for scenario in scenarios(args.quick):
            if args.only and args.only not in scenario.name:
                continue
            row = run(kind, scenario)
            print(row, flush=True)
            rows.append(row)
    web = []
    if not args.only or "web" in args.only:
        for kind in args.databases.split(","):
            web += web_races(kind, 5 if args.quick else 30)
    print()
    print(table(rows))
    print()
    print(web_table(web))
    bad = [r for r in rows if r["lost"] or r["duplicated"] or r["crashes"] or r["unsettled"]]
    bad += [r for r in web if r["5xx"] or r["wrong"]]
    return 1 if bad else 0


def web_table(rows: list[dict[str, Any]]) -> str:
    cols = ["database", "case", "rounds", "requests", "5xx", "wrong"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(out)


if __name__ == "__main__":
    threading.current_thread().name = "chaos"
    sys.exit(main())
