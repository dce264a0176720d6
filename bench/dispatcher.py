"""Dispatcher throughput against the fake Twilio server, with 1 and 2 workers on PostgreSQL.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/dispatcher.py

Each worker is its own process (its own interpreter and database connection), as on separate
hosts. The real `twilio` library sends every text over HTTP to a fake Messages API on
127.0.0.1; the per-sender rate limit is off so the numbers show the dispatcher's own ceiling.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
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
from tests.fakes.twilio_server import FakeTwilioServer  # noqa: E402

TEXTS = int(os.environ.get("BENCH_TEXTS", 1000))


def make_app(url: str, schema: str, fake_url: str):
    from config import normalise_database_url

    return create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
            "TWILIO_AUTH_TOKEN": "test-token-0123456789abcdef",
            "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0123456789abcdef" * 2,
            "TWILIO_API_BASE_URL": fake_url,
            "SMS_RATE_PER_SECOND": 0,
            "LOG_LEVEL": "WARNING",
        },
    )


def worker(url: str, schema: str, fake_url: str) -> None:
    from app.texting import dispatcher

    app = make_app(url, schema, fake_url)
    with app.app_context():
        dispatcher.dispatch_once(batch=20)


def run(url: str, workers: int) -> tuple[float, int]:
    schema = f"cc_bench_sms_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    server = FakeTwilioServer().start()
    try:
        app = make_app(url, schema, server.url)
        with app.app_context():
            db.create_all()
            db.session.execute(
                sa.insert(OutboundSms),
                [
                    {
                        "to_number": f"+1503555{i % 10000:04d}",
                        "purpose": "bench",
                        "locale": "en",
                        "body": f"CareCircle: reminder {i}",
                        "send_after": utcnow() - timedelta(1),
                        "status": "queued",
                        "attempts": 0,
                        "created_at": utcnow(),
                    }
                    for i in range(TEXTS)
                ],
            )
            db.session.commit()
            db.engine.dispose()
        ctx = mp.get_context("spawn")
        procs = [ctx.Process(target=worker, args=(url, schema, server.url)) for _ in range(workers)]
        start = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        elapsed = time.perf_counter() - start
        with app.app_context():
            sent = db.session.scalar(
                sa.select(sa.func.count()).where(OutboundSms.status == "accepted")
            )
            db.engine.dispose()
        duplicates = len(server.messages) - len({m["Body"] for m in server.messages})
        assert duplicates == 0, f"{duplicates} duplicate texts"
        return elapsed, sent
    finally:
        server.stop()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (several workers need it).")
    print("| workers | texts | seconds | texts per second |\n|---|---|---|---|")
    for workers in (1, 2):
        elapsed, sent = run(url, workers)
        print(f"| {workers} | {sent} | {elapsed:.1f} | {sent / elapsed:.0f} |")


if __name__ == "__main__":
    main()
