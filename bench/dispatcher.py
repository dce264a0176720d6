"""`make bench-sms`: dispatcher throughput against a fast fake Twilio, on PostgreSQL and SQLite.

    .venv/bin/python bench/dispatcher.py                         # the whole table
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mydb BENCH_TEXTS=5000 \\
        .venv/bin/python bench/dispatcher.py

Queues BENCH_TEXTS texts (default 20,000), starts the fast fake Twilio (bench/fake_twilio.py:
several processes, keep-alive), then 1 and 2 dispatcher workers on PostgreSQL and 1 on SQLite,
each its own process (its own interpreter and database connections, as on separate hosts),
sending through the real `twilio` library. Then again with 50 ms of latency on every API call.
The per-sender rate limit is off, so the figures show the dispatcher's own ceiling.

Every run checks, from what the fake received over all its processes, that every text went
out exactly once, and that every row is "accepted" with its SID. The last column is the CPU
time the workers used per text (their own process time, whatever else runs on the host): on
a host shared with other work it says more than texts per second does.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from app import create_app  # noqa: E402
from app.core.db import utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from app.texting.models import OutboundSms  # noqa: E402
from bench.fake_twilio import FastFakeTwilio  # noqa: E402

TEXTS = int(os.environ.get("BENCH_TEXTS", 20_000))
PG_URL = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
THREADS = int(os.environ.get("SMS_SEND_THREADS", 32))
BATCH = int(os.environ.get("BENCH_BATCH", 200))


def make_app(db_url: str, schema: str | None, fake_url: str):
    from config import normalise_database_url

    overrides = {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(db_url),
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
        "TWILIO_AUTH_TOKEN": "test-token-0123456789abcdef",
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0123456789abcdef" * 2,
        "TWILIO_API_BASE_URL": fake_url,
        "SMS_RATE_PER_SECOND": 0,
        "SMS_SEND_THREADS": THREADS,
        "LOG_LEVEL": "WARNING",
    }
    if schema:
        overrides["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"options": f"-csearch_path={schema}"}
        }
    return create_app("testing", overrides)


def worker(db_url: str, schema: str | None, fake_url: str, ready, go, cpu) -> None:
    from app.texting import dispatcher

    app = make_app(db_url, schema, fake_url)
    with app.app_context():
        db.session.execute(sa.select(1))  # connect before the clock starts
        db.session.commit()
        ready.release()
        go.wait()
        start = time.process_time()
        dispatcher.dispatch_once(batch=BATCH)
        cpu.put(time.process_time() - start)


def queue_texts() -> None:
    db.create_all()
    now = utcnow()
    rows = [
        {
            "to_number": f"+1503555{i % 10000:04d}",
            "purpose": "bench",
            "locale": "en",
            "body": f"CareCircle: reminder {i}",
            "send_after": now - timedelta(1),
            "status": "queued",
            "attempts": 0,
            "created_at": now,
        }
        for i in range(TEXTS)
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(sa.insert(OutboundSms), rows[start : start + 5000])
    db.session.commit()


def run(kind: str, workers: int, latency_ms: float) -> dict:
    schema = None
    workdir = Path(tempfile.mkdtemp(prefix="cc-bench-sms-"))
    if kind == "PostgreSQL":
        from config import normalise_database_url

        schema = f"cc_bench_sms_{uuid.uuid4().hex[:8]}"
        db_url = PG_URL
        admin = sa.create_engine(normalise_database_url(PG_URL))
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    else:
        db_url = f"sqlite:///{workdir / 'bench.db'}"
    fake = FastFakeTwilio(workdir / "fake", processes=2, latency_ms=latency_ms).start()
    try:
        app = make_app(db_url, schema, fake.url)
        with app.app_context():
            queue_texts()
            db.engine.dispose()
        ctx = mp.get_context("spawn")
        ready, go, cpu = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
        procs = [
            ctx.Process(target=worker, args=(db_url, schema, fake.url, ready, go, cpu))
            for _ in range(workers)
        ]
        for proc in procs:
            proc.start()
        for _ in procs:
            ready.acquire()
        start = time.perf_counter()
        go.set()
        for proc in procs:
            proc.join()
        elapsed = time.perf_counter() - start
        cpu_seconds = sum(cpu.get(timeout=10) for _ in procs)
        with app.app_context():
            statuses = dict(
                db.session.execute(
                    sa.select(OutboundSms.status, sa.func.count()).group_by(OutboundSms.status)
                ).all()
            )
            with_sid = db.session.scalar(
                sa.select(sa.func.count(sa.distinct(OutboundSms.provider_sid)))
            )
            db.session.remove()
            db.engine.dispose()
        received = fake.received()
        twice = sum(1 for count in received.values() if count > 1)
        assert all(proc.exitcode == 0 for proc in procs), "a worker failed"
        assert twice == 0, f"{twice} texts sent more than once"
        assert len(received) == TEXTS, f"{TEXTS - len(received)} texts never sent"
        assert statuses == {"accepted": TEXTS} and with_sid == TEXTS, statuses
        return {"elapsed": elapsed, "sent": len(received), "cpu": cpu_seconds}
    finally:
        fake.stop()
        if schema:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def main() -> None:
    plan = [
        ("PostgreSQL", 1, 0),
        ("PostgreSQL", 2, 0),
        ("SQLite", 1, 0),
        ("PostgreSQL", 1, 50),
        ("PostgreSQL", 2, 50),
        ("SQLite", 1, 50),
    ]
    only = os.environ.get("BENCH_ONLY")  # e.g. "PostgreSQL:1:0"
    print(f"{TEXTS} texts, {THREADS} send threads per worker, batches of {BATCH}")
    print(
        "| database | workers | API latency | seconds | texts/s | sent once | worker CPU per text |"
    )
    print("|---|---|---|---|---|---|---|")
    for kind, workers, latency in plan:
        if only and only != f"{kind}:{workers}:{latency}":
            continue
        result = run(kind, workers, latency)
        print(
            f"| {kind} | {workers} | {latency} ms | {result['elapsed']:.1f} | "
            f"{result['sent'] / result['elapsed']:.0f} | {result['sent']} of {TEXTS} | "
            f"{result['cpu'] * 1000 / result['sent']:.2f} ms |",
            flush=True,
        )


if __name__ == "__main__":
    main()
