"""Where a page's time goes: pyinstrument over N requests of one page, in-process.

    .venv/bin/python bench/profile.py --db sqlite --patients 10000 --page inbox summary
    make bench-profile PROFILE_ARGS="--db postgresql --patients 10000 --page inbox"

Uses the database `make bench` built (bench/web.py builds it when missing), the same
configuration as the benchmark's server, and real sessions (signed in through the sign-in
form, staff with their code). Requests go through Flask's test client, so the profile holds
the app and the database driver and nothing of gunicorn or the network. Writes the text
profile to bench/profiles/<db>-<size>-<page>.txt.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import web  # bench/web.py

PROFILES = web.ROOT / "bench" / "profiles"


class TestClientHttp:
    """The calls `web.sign_in` makes, on a Flask test client (which keeps the cookies)."""

    def __init__(self, client):
        self.client = client

    def get(self, path: str):
        return self.client.get(path)

    def post(self, path: str, data: dict):
        return self.client.post(path, data=data)


def request(client, row: web.Row):
    if row.method == "POST":
        data = dict(urllib.parse.parse_qsl(row.body))
        data["idempotency_key"] = secrets.token_urlsafe(24)
        response = client.post(row.path, data=data)
        ok = 300 <= response.status_code < 400
    else:
        response = client.get(row.path)
        ok = response.status_code == 200
    if not ok:
        raise RuntimeError(f"{row.method} {row.path} answered {response.status_code}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--page", nargs="+", choices=list(web.PAGES_BY_NAME), default=["inbox"])
    parser.add_argument("--requests", type=int, default=40, help="requests profiled per page")
    parser.add_argument("--sessions", type=int, default=10, help="patients signed in")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "carecircle-bench"
    )
    parser.add_argument(
        "--pg-url", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
    )
    parser.add_argument(
        "--app-dir", type=Path, default=web.ROOT, help="profile the app in this directory"
    )
    args = parser.parse_args(argv)
    web.APP_DIR = args.app_dir.resolve()
    sys.path.insert(0, str(web.APP_DIR))  # its `app` and `config`, before any import of them

    ds = web.dataset_for(args.db, args.patients, args.data_dir, args.pg_url)
    # Before anything imports config.py, which reads the environment once.
    os.environ.update(web.server_env(ds, 5000))
    web.prepare(ds, args.data_dir, args.pg_url, fresh=False)

    from pyinstrument import Profiler

    from app.demo.accounts import DEMO_PASSWORD
    from bench.floor_wsgi import app  # the app make bench serves (with its floor page)

    people = web.choose_people(ds.url, args.sessions)
    clients = {}
    for person in people:
        client = app.test_client()
        web.sign_in(
            TestClientHttp(client),
            person,
            os.environ.get("BENCH_PASSWORD", DEMO_PASSWORD),
            lambda uid: web.mfa_last_step(ds.url, uid),
        )
        if person.role == "patient":
            page = client.get(f"/patients/{person.patient_id}/messages/{person.thread_id}")
            person.csrf = web.csrf_token(page.text)
        person.cookie = f"client-{len(clients)}"  # rows name their session by this
        clients[person.cookie] = client
    PROFILES.mkdir(parents=True, exist_ok=True)
    state = web.git_state()
    for name in args.page:
        page = web.PAGES_BY_NAME[name]
        rows = web.page_rows(page, people)
        if not rows:
            print(f"{name}: nobody to sign in for it")
            continue
        anonymous = app.test_client()
        for row in rows[:3]:  # warm: templates compiled, caches filled
            request(clients.get(row.cookie, anonymous), row)
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        profiler.start()
        for i in range(args.requests):
            row = rows[i % len(rows)]
            request(clients.get(row.cookie, anonymous), row)
        profiler.stop()
        elapsed = time.perf_counter() - started
        path = PROFILES / f"{web.run_key(args.db, args.patients)}-{name}.txt"
        header = (
            f"# {page.label}: {args.requests} requests over {len(rows)} (session, URL) pairs, "
            f"{elapsed / args.requests * 1000:.1f} ms each (profiled, in-process)\n"
            f"# {web.DB_NAMES[args.db]}, {web.size_label(args.patients)} patients; "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {state['commit']}"
            f"{' with uncommitted changes' if state['dirty'] else ''}\n\n"
        )
        path.write_text(header + profiler.output_text(unicode=True, color=False))
        print(f"{name}: {elapsed / args.requests * 1000:.1f} ms a request -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
