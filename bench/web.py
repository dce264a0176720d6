"""`make bench`: every page under gunicorn and wrk, as a ratio to /healthz measured in the
same run.

    .venv/bin/python bench/web.py                                   # the whole matrix
    .venv/bin/python bench/web.py --db postgresql --patients 10000  # one table
    .venv/bin/python bench/web.py --db sqlite --patients 10000 --pages inbox my_patients \\
        --compare bench/results/sqlite-10k.json                     # before/after of two pages

For each database (SQLite file, PostgreSQL database `bench_<size>`) and size it:
1. builds the data once (`flask db upgrade`, `flask demo seed`, `flask demo generate
   --patients N`) and reuses it while its recorded size matches (`--fresh` rebuilds);
2. starts gunicorn (2 sync workers, no access log) on a free loopback port with its own
   secrets, and signs in over HTTP as ~40 generated patients (among them the heaviest message
   writers and the patient with the most audit rows), the demo nurse, a coordinator and the
   admin (staff type their two-step code);
3. for each page: 2 repetitions of [a /healthz window, a page window] with wrk rotating over
   (session, URL) pairs, so many different patients are hit; the ratio is the page's req/s over
   the /healthz req/s of the same repetition, and the table gives the median of the
   repetitions. Server CPU per request is the workers' utime+stime over the window divided by
   the requests wrk completed (and, on PostgreSQL, the CPU of this database's backends);
4. writes bench/results/<db>-<size>.json and rewrites its table in docs/performance.md
   between the `bench:web` markers (the other tables there are kept).

Any response that is not the expected one (200 for a page, a redirect after posting) fails
the page's row and the run's exit status. No timing here is a test: see docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
#: Where the app that is measured lives (`--app-dir`: e.g. an export of an earlier commit,
#: `git archive <commit> | tar -x -C DIR`, for before/after figures on the same data).
APP_DIR = ROOT
LUA = ROOT / "bench" / "wrk" / "pairs.lua"
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:web:start -->", "<!-- bench:web:end -->"
DEMO_DOMAIN = "demo.carecircle.test"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

#: How many generated patients get a session (the heavy ones come on top).
PATIENT_SESSIONS = 40
HEAVY_THREAD_MESSAGES = 300
POST_BODY = "Benchmark message: please ignore."


# ------------------------------------------------------------------ pages and targets


@dataclass(frozen=True)
class Page:
    name: str
    label: str
    #: Whose sessions: "anon", "patients", "heavy" (heaviest message writers), "staff", "admin"
    who: str
    #: The ratio to /healthz to reach (None: only the flat-cost target applies).
    target: float | None = None
    method: str = "GET"
    #: Also measured at 4 connections, for p99 (target P99_TARGET_MS).
    p99_at_4: bool = False


PAGES = (
    Page("signin", "sign-in (form)", "anon"),
    Page("floor", "the floor: a patient page with nothing on it", "patients"),
    Page("summary", "patient home", "patients", 0.25),
    Page("today", "Today", "patients", 0.25),
    Page("plan", "My plan", "patients", 0.25),
    Page("item", "a plan item", "patients", 0.25),
    Page("threads", "thread list", "patients", 0.20),
    Page("heavy_thread", "heavy user's thread", "heavy", 0.20),
    Page("inbox", "team inbox", "staff", 0.20, p99_at_4=True),
    Page("my_patients", "My patients", "staff", 0.20, p99_at_4=True),
    Page("accounts", "admin: accounts list", "admin"),
    #: The demo nurse (their own panel and the whole CCO) and the admin (the whole CCO): all
    #: eleven measures over the default 12 weeks; a second or less is the target (issue 18).
    Page("measures", "measures dashboard (nurse, admin)", "staff"),
    Page("access_log", '"Who has seen my record"', "patients"),
    Page("post", "posting a message", "patients", 0.20, method="POST"),
)
PAGES_BY_NAME = {p.name: p for p in PAGES}
P99_TARGET_MS = 100.0
#: Server CPU per request at a bigger size may be at most this much above 10k's.
FLAT_COST = 0.15
MEMORY_TARGET_MB = 200
INBOX_VIEWS = ("unassigned", "mine", "overdue", "all")


def size_label(patients: int) -> str:
    if patients >= 1_000_000 and patients % 1_000_000 == 0:
        return f"{patients // 1_000_000}M"
    if patients >= 1000 and patients % 1000 == 0:
        return f"{patients // 1000}k"
    return str(patients)


def run_key(db: str, patients: int) -> str:
    return f"{db}-{size_label(patients)}"


# ------------------------------------------------------------------ the database


@dataclass
class Dataset:
    db: str
    patients: int
    url: str
    #: For PostgreSQL: the database's name (its backends' CPU is measured).
    pg_name: str | None = None


def dataset_for(db: str, patients: int, data_dir: Path, pg_url: str) -> Dataset:
    label = size_label(patients)
    if db == "sqlite":
        return Dataset(db, patients, f"sqlite:///{data_dir / f'carecircle-{label}.db'}")
    name = f"bench_{label.lower()}"
    return Dataset(db, patients, f"{pg_url.rstrip('/')}/{name}", pg_name=name)


def engine_for(url: str):
    import sqlalchemy as sa

    from config import normalise_database_url

    return sa.create_engine(normalise_database_url(url))


def _pg_admin(pg_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def _pg_exists(pg_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{pg_url.rstrip('/')}/postgres", autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


MARKER = "bench_dataset"


def recorded_size(ds: Dataset) -> int | None:
    """The patient count the harness recorded after building this database (None: none)."""
    import sqlalchemy as sa

    engine = engine_for(ds.url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(MARKER):
                return None
            return conn.execute(sa.text(f"SELECT patients FROM {MARKER}")).scalar()  # noqa: S608
    finally:
        engine.dispose()


def flask(ds: Dataset, *args: str, env: dict | None = None) -> None:
    command = [str(BIN / "flask"), *args]
    print("  $", "DATABASE_URL=" + ds.url, "flask", *args, flush=True)
    subprocess.run(
        command, cwd=APP_DIR, env={**(env or server_env(ds)), "FLASK_APP": "wsgi.py"}, check=True
    )


def generator_available() -> bool:
    return (APP_DIR / "app" / "demo" / "generate.py").exists()


def prepare(ds: Dataset, data_dir: Path, pg_url: str, fresh: bool) -> None:
    """Build the data unless a database of this size is already there; migrate it anyway
    (others change the schema while the data stays)."""
    exists = (
        Path(ds.url.removeprefix("sqlite:///")).exists()
        if ds.db == "sqlite"
        else _pg_exists(pg_url, ds.pg_name)
    )
    size = recorded_size(ds) if exists and not fresh else None
    if size == ds.patients:
        print(f"== {run_key(ds.db, ds.patients)}: reusing the data ({size} patients)")
        flask(ds, "db", "upgrade")
        flask(ds, "metrics", "rollup", "--if-stale")  # what the nightly job leaves
        return
    if ds.patients > 3 and not generator_available():
        raise SystemExit("`flask demo generate` is not there yet (app/demo/generate.py).")
    print(f"== {run_key(ds.db, ds.patients)}: building {ds.patients} patients", flush=True)
    if ds.db == "sqlite":
        data_dir.mkdir(parents=True, exist_ok=True)
        path = Path(ds.url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        _pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{ds.pg_name}" WITH (FORCE)')
        _pg_admin(pg_url, f'CREATE DATABASE "{ds.pg_name}"')
    started = time.monotonic()
    flask(ds, "db", "upgrade")
    flask(ds, "demo", "seed")
    if ds.patients > 3:
        flask(ds, "demo", "generate", "--patients", str(ds.patients))
    import sqlalchemy as sa

    engine = engine_for(ds.url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {MARKER} (patients INTEGER, built_at VARCHAR(40))"))
        conn.execute(
            sa.text(f"INSERT INTO {MARKER} VALUES (:n, :at)"),  # noqa: S608
            {"n": ds.patients, "at": datetime.now(UTC).isoformat(timespec="seconds")},
        )
    if ds.db == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))  # what autovacuum would have done by now
    engine.dispose()
    flask(ds, "metrics", "rollup")  # the measures dashboard reads the nightly rollup
    print(f"   built in {time.monotonic() - started:.0f} s", flush=True)


# ------------------------------------------------------------------ who signs in


@dataclass
class Person:
    email: str
    role: str
    user_id: int
    patient_id: int | None = None
    #: Their plan item, their latest thread (posting goes there) and their heaviest thread.
    item_id: int | None = None
    thread_id: int | None = None
    heavy_thread_id: int | None = None
    heavy_messages: int = 0
    mfa_secret: str | None = None
    tags: list[str] = field(default_factory=list)
    #: Filled in after signing in.
    cookie: str = ""
    csrf: str = ""


def choose_people(url: str, count: int = PATIENT_SESSIONS) -> list[Person]:
    """~count patients spread over the whole id range, the heaviest message writers, the
    patient with the most audit rows, the demo nurse, a coordinator and the admin."""
    import sqlalchemy as sa

    engine = engine_for(url)
    q = sa.text
    with engine.connect() as conn:
        signable = conn.execute(
            q(
                "SELECT p.id, u.id, u.email FROM patients p JOIN users u ON u.id = p.user_id "
                "WHERE u.role = 'patient' AND u.active = :t AND u.password_hash IS NOT NULL "
                "ORDER BY p.id"
            ),
            {"t": True},
        ).all()
        by_patient = {row[0]: row for row in signable}
        people: dict[int, Person] = {}

        def add(patient_id: int, tag: str) -> Person | None:
            if patient_id not in by_patient:
                return None
            if patient_id not in people:
                pid, uid, email = by_patient[patient_id]
                item = conn.execute(
                    q("SELECT id FROM plan_items WHERE patient_id = :p ORDER BY id LIMIT 1"),
                    {"p": pid},
                ).scalar()
                thread = conn.execute(
                    q(
                        "SELECT id FROM message_threads WHERE patient_id = :p "
                        "ORDER BY last_message_at DESC, id DESC LIMIT 1"
                    ),
                    {"p": pid},
                ).scalar()
                if item is None or thread is None:
                    return None
                people[pid] = Person(email, "patient", uid, pid, item, thread)
            people[patient_id].tags.append(tag)
            return people[patient_id]

        heavy = conn.execute(
            q(
                "SELECT m.thread_id, t.patient_id, COUNT(*) AS n FROM messages m "
                "JOIN message_threads t ON t.id = m.thread_id "
                "GROUP BY m.thread_id, t.patient_id ORDER BY n DESC LIMIT 40"
            )
        ).all()
        chosen_heavy = 0
        for thread_id, patient_id, n in heavy:
            if chosen_heavy and (n < HEAVY_THREAD_MESSAGES or chosen_heavy >= 4):
                break
            person = people.get(patient_id) or add(patient_id, "heavy messages")
            if person is None or person.heavy_thread_id is not None:
                continue
            if "heavy messages" not in person.tags:
                person.tags.append("heavy messages")
            person.heavy_thread_id, person.heavy_messages = thread_id, n
            if person.thread_id == thread_id:  # posting goes to another thread if it has one
                other = conn.execute(
                    q(
                        "SELECT id FROM message_threads WHERE patient_id = :p AND id <> :t "
                        "ORDER BY last_message_at DESC LIMIT 1"
                    ),
                    {"p": patient_id, "t": thread_id},
                ).scalar()
                person.thread_id = other or thread_id
            chosen_heavy += 1
        audit_heavy = conn.execute(
            q(
                "SELECT patient_id, COUNT(*) AS n FROM audit_events "
                "WHERE patient_id IS NOT NULL GROUP BY patient_id ORDER BY n DESC LIMIT 10"
            )
        ).all()
        for patient_id, _n in audit_heavy:
            if add(patient_id, "most audit rows"):
                break
        ids = sorted(by_patient)
        step = max(1, len(ids) // count)
        for pid in ids[::step]:
            if len(people) >= count + chosen_heavy + 1:
                break
            add(pid, "spread")

        staff: list[Person] = []
        for email in (f"nurse@{DEMO_DOMAIN}", f"admin@{DEMO_DOMAIN}"):
            row = conn.execute(
                q("SELECT id, role, mfa_secret FROM users WHERE email = :e"), {"e": email}
            ).first()
            if row:
                staff.append(Person(email, row[1], row[0], mfa_secret=row[2], tags=[email[:5]]))
        coordinator = conn.execute(
            q(
                "SELECT u.id, u.email, u.mfa_secret, COUNT(*) AS n FROM care_team_assignments a "
                "JOIN care_team_members m ON m.id = a.member_id JOIN users u ON u.id = m.user_id "
                "WHERE a.is_coordinator = :t AND u.email <> :nurse AND u.active = :t "
                "AND u.password_hash IS NOT NULL "
                "GROUP BY u.id, u.email, u.mfa_secret ORDER BY n DESC LIMIT 1"
            ),
            {"t": True, "nurse": f"nurse@{DEMO_DOMAIN}"},
        ).first()
        if coordinator:
            staff.append(
                Person(
                    coordinator[1],
                    "care_team",
                    coordinator[0],
                    mfa_secret=coordinator[2],
                    tags=[f"coordinator of {coordinator[3]}"],
                )
            )
    engine.dispose()
    return list(people.values()) + staff


def mfa_last_step(url: str, user_id: int) -> int:
    import sqlalchemy as sa

    engine = engine_for(url)
    with engine.connect() as conn:
        step = conn.execute(
            sa.text("SELECT mfa_last_step FROM users WHERE id = :u"), {"u": user_id}
        ).scalar()
    engine.dispose()
    return step or 0


# ------------------------------------------------------------------ signing in over HTTP

CSRF_RE = re.compile(r"<input[^>]*\bname=\"csrf_token\"[^>]*>")
VALUE_RE = re.compile(r"\bvalue=\"([^\"]+)\"")


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    value = VALUE_RE.search(match.group(0)) if match else None
    if value is None:
        raise RuntimeError("no csrf_token in the page")
    return value.group(1)


class Http:
    """A browser: one requests.Session, no redirects followed."""

    def __init__(self, base: str):
        import requests

        self.base = base
        self.session = requests.Session()

    def get(self, path: str, cookie: str | None = None):
        headers = {"Cookie": cookie} if cookie is not None else None
        return self.session.get(
            self.base + path, allow_redirects=False, headers=headers, timeout=120
        )

    def post(self, path: str, data: dict, cookie: str | None = None):
        headers = {"Cookie": cookie} if cookie is not None else None
        return self.session.post(
            self.base + path, data=data, allow_redirects=False, headers=headers, timeout=120
        )

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)


def sign_in(client, person: Person, password: str, last_step: Callable[[int], int]) -> None:
    """The real sign-in: the form's CSRF token, the password, then (staff) a TOTP code from a
    time step the account has not used yet (a code is good once)."""
    response = client.get("/auth/login")
    token = csrf_token(response.text)
    response = client.post(
        "/auth/login", {"csrf_token": token, "email": person.email, "password": password}
    )
    if response.status_code != 302:
        raise RuntimeError(f"{person.email}: sign-in answered {response.status_code}")
    target = response.headers["Location"]
    if "/auth/mfa" in target:
        import pyotp

        if not person.mfa_secret:
            raise RuntimeError(f"{person.email} needs two-step sign-in and has no key")
        totp = pyotp.TOTP(person.mfa_secret)
        while int(time.time()) // 30 <= last_step(person.user_id):
            time.sleep(1)  # this step's code was used: wait for the next one
        response = client.get("/auth/mfa")
        token = csrf_token(response.text)
        response = client.post("/auth/mfa", {"csrf_token": token, "code": totp.now()})
        if response.status_code != 302 or "/auth/" in response.headers.get("Location", ""):
            raise RuntimeError(f"{person.email}: the two-step code was refused")
    response = client.get("/")
    location = response.headers.get("Location", "")
    if response.status_code != 302 or "/auth/login" in location:
        raise RuntimeError(f"{person.email}: not signed in after sign-in ({location})")


# ------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_url() -> str:
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        return ""
    return url


_SECRET = secrets.token_urlsafe(48)
_REDIS = None


def server_env(ds: Dataset, port: int = 0) -> dict:
    """The app as deployed, less what production refuses for demo data (see the docs)."""
    global _REDIS
    if _REDIS is None:
        _REDIS = redis_url()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "APP_"))}
    env.update(
        {
            # Production refuses the demo's published MFA key and .test addresses, which the
            # generated accounts use; everything else below is as production sets it.
            "APP_ENV": "development",
            "FLASK_DEBUG": "0",
            "SECRET_KEY": _SECRET,
            "DATABASE_URL": ds.url,
            "REDIS_URL": _REDIS,
            "RATELIMIT_KEY_PREFIX": f"carecircle-bench-{os.getpid()}",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "MAIL_BACKEND": "outbox",
            "SMS_BACKEND": "outbox",
            # ~45 sign-ins from one address in a few seconds (the load generator's): the
            # per-address limit of 10 a minute would refuse them. Pages have no limit.
            "LOGIN_RATE_LIMIT": "10000 per minute",
            # A whole run takes longer than a care team session's 15 idle minutes.
            "CARE_TEAM_IDLE_MINUTES": "240",
            "PATIENT_IDLE_MINUTES": "240",
        }
    )
    return env


class Server:
    def __init__(self, ds: Dataset, log: Path, workers: int = 2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [
            str(BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
            "--error-logfile",
            str(log),
            "--no-control-socket",  # one per machine by default: other gunicorns may run
            # wsgi:app and one more page, the floor (bench/floor_wsgi.py)
            "bench.floor_wsgi:app",
        ]
        self._log_file = log.open("a")
        self.process = subprocess.Popen(
            command,
            cwd=APP_DIR,
            env=server_env(ds, self.port),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,  # the app's own log (tracebacks of any 500)
            start_new_session=True,
        )
        self.workers: list[int] = []

    def wait_ready(self, timeout: float = 60) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}): {self.tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    self.workers = self.worker_pids()
                    if len(self.workers) >= 1:
                        return
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz: " + self.tail())

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    if _stat_fields(int(entry.name))[1] == str(self.process.pid):
                        pids.append(int(entry.name))
        return sorted(pids)

    def wait_idle(self, timeout: float = 300) -> float:
        """Wait until the workers stop using CPU: wrk leaves requests queued or in flight
        when its window ends, and the next window must not pay for them. Returns the wait."""
        started = time.monotonic()
        quiet = 0
        previous = sum(cpu_ticks(self.worker_pids()).values())
        while quiet < 2 and time.monotonic() - started < timeout:
            time.sleep(0.5)
            now = sum(cpu_ticks(self.worker_pids()).values())
            quiet = quiet + 1 if now - previous <= 0.02 * CLK_TCK else 0
            previous = now
        return time.monotonic() - started

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text().splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name: [state, ppid, ..., utime (11), stime (12)]."""
    data = Path(f"/proc/{pid}/stat").read_text()
    return data.rsplit(")", 1)[1].split()


def cpu_ticks(pids: Iterable[int]) -> dict[int, int]:
    out = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = _stat_fields(pid)
            out[pid] = int(fields[11]) + int(fields[12])
    return out


def cpu_seconds_between(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU used between two snapshots; a process that appeared meanwhile counts whole."""
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items()) / CLK_TCK


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _sep, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


class PgBackends:
    """The CPU of this database's PostgreSQL backends (the server is on this machine)."""

    def __init__(self, ds: Dataset):
        self.name = ds.pg_name
        self.conn = None
        if self.name:
            import psycopg

            self.conn = psycopg.connect(ds.url, autocommit=True)

    def snapshot(self) -> dict[int, int]:
        if self.conn is None:
            return {}
        pids = [
            row[0]
            for row in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.name,),
            )
        ]
        return cpu_ticks(pids)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


# ------------------------------------------------------------------ wrk


@dataclass
class Row:
    """One request wrk rotates over."""

    method: str
    expect: str  # "200" or "3xx"
    cookie: str
    path: str
    body: str = ""

    def line(self) -> str:
        return "\t".join((self.method, self.expect, self.cookie, self.path, self.body))


@dataclass
class Window:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    bad: int
    bad_example: str
    errors: dict
    #: Seconds waited before the window for the workers to finish the previous one's queue.
    drained_s: float
    cpu_ms: float
    db_cpu_ms: float | None


WRK_LINE = "BENCH_JSON "


def parse_wrk(output: str) -> dict:
    """The JSON line the Lua done() prints (see bench/wrk/pairs.lua)."""
    for line in output.splitlines():
        if line.startswith(WRK_LINE):
            return json.loads(line[len(WRK_LINE) :])
    raise RuntimeError("wrk printed no result line:\n" + output[-2000:])


def failures(window: Window) -> int:
    """Responses that were not the expected one, plus requests that got no answer."""
    return (
        window.bad
        + (window.requests == 0)  # nothing answered within the window
        + window.errors.get("status", 0)
        + window.errors.get("timeout", 0)
        + window.errors.get("connect", 0)
    )


def write_rows(rows: list[Row], directory: Path, name: str) -> Path:
    path = directory / f"{name}.tsv"
    path.write_text("".join(row.line() + "\n" for row in rows))
    return path


class Wrk:
    def __init__(self, server: Server, pg: PgBackends, threads: int, seconds: int):
        self.server = server
        self.pg = pg
        self.threads = threads
        self.seconds = seconds

    def window(self, rows_file: Path, connections: int) -> Window:
        command = [
            "wrk",
            f"-t{min(self.threads, connections)}",
            f"-c{connections}",
            f"-d{self.seconds}s",
            "--timeout",
            "60s",
            "-s",
            str(LUA),
            self.server.base,
            "--",
            str(rows_file),
            secrets.token_hex(8),
        ]
        drained = self.server.wait_idle()
        workers = self.server.worker_pids()
        before, db_before = cpu_ticks(workers), self.pg.snapshot()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        after, db_after = cpu_ticks(self.server.worker_pids()), self.pg.snapshot()
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
        result = parse_wrk(done.stdout)
        n = max(result["requests"], 1)
        seconds = result["duration_us"] / 1e6
        return Window(
            requests=result["requests"],
            seconds=seconds,
            rps=result["requests"] / seconds,
            p50_ms=result["p50_us"] / 1000,
            p99_ms=result["p99_us"] / 1000,
            mean_ms=result["mean_us"] / 1000,
            max_ms=result["max_us"] / 1000,
            bad=result["bad"],
            bad_example=result.get("bad_example", ""),
            errors=result["errors"],
            drained_s=round(drained, 1),
            cpu_ms=cpu_seconds_between(before, after) * 1000 / n,
            db_cpu_ms=(
                cpu_seconds_between(db_before, db_after) * 1000 / n
                if self.pg.conn is not None
                else None
            ),
        )


# ------------------------------------------------------------------ rows per page


def page_rows(page: Page, people: list[Person]) -> list[Row]:
    patients = [p for p in people if p.role == "patient"]
    staff = [p for p in people if p.role == "care_team"]
    admins = [p for p in people if p.role == "admin"]
    rows: list[Row] = []
    if page.name == "signin":
        return [Row("GET", "200", "", "/auth/login")]
    if page.name == "heavy_thread":
        for p in patients:
            if p.heavy_thread_id:
                path = f"/patients/{p.patient_id}/messages/{p.heavy_thread_id}"
                rows.append(Row("GET", "200", p.cookie, path))
        return rows
    if page.name == "inbox":
        return [
            Row("GET", "200", s.cookie, f"/team/inbox?view={view}")
            for s in staff
            for view in INBOX_VIEWS
        ]
    if page.name == "my_patients":
        return [Row("GET", "200", s.cookie, "/team/patients") for s in staff]
    if page.name == "measures":
        nurse = [s for s in staff if s.email == f"nurse@{DEMO_DOMAIN}"]
        return [Row("GET", "200", s.cookie, "/measures") for s in nurse] + [
            Row("GET", "200", p.cookie, "/measures?team=all") for p in nurse + admins
        ]
    if page.name == "accounts":
        return [
            Row("GET", "200", a.cookie, "/admin/users" + query)
            for a in admins
            for query in ("", "?role=patient", "?role=care_team")
        ]
    for p in patients:
        base = f"/patients/{p.patient_id}"
        if page.name == "post":
            body = urllib.parse.urlencode({"csrf_token": p.csrf, "body": POST_BODY})
            rows.append(Row("POST", "3xx", p.cookie, f"{base}/messages/{p.thread_id}", body))
            continue
        path = {
            "floor": f"{base}/bench-floor",
            "summary": base,
            "today": f"{base}/today",
            "plan": f"{base}/plan",
            "item": f"{base}/plan/items/{p.item_id}",
            "threads": f"{base}/messages",
            "access_log": f"{base}/access-log",
        }[page.name]
        rows.append(Row("GET", "200", p.cookie, path))
    return rows


def check_rows(base: str, page: Page, rows: list[Row]) -> None:
    """Every (session, URL) answers as expected before wrk hammers it: this also warms the
    workers (templates compiled, caches filled)."""
    http = Http(base)
    for row in rows:
        if row.method == "POST":
            data = dict(urllib.parse.parse_qsl(row.body))
            data["idempotency_key"] = secrets.token_urlsafe(24)
            response = http.post(row.path, data, cookie=row.cookie)
            ok = 300 <= response.status_code < 400
        else:
            response = http.get(row.path, cookie=row.cookie)
            ok = response.status_code == 200
        if not ok:
            raise RuntimeError(
                f"{page.name}: {row.method} {row.path} answered {response.status_code} "
                f"{response.headers.get('Location', '')}"
            )


# ------------------------------------------------------------------ one run


@dataclass
class PageResult:
    name: str
    label: str
    connections: int
    rps: float
    ratio: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    db_cpu_ms: float | None
    failures: int
    rows: int
    target: str
    reps: list[dict]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def measure_page(
    wrk: Wrk,
    page: Page,
    rows_file: Path,
    health_file: Path,
    n_rows: int,
    connections: int,
    repetitions: int,
) -> tuple[PageResult, list[float]]:
    reps, health_rps, health_cpu = [], [], []
    for _ in range(repetitions):
        health = wrk.window(health_file, connections)
        window = wrk.window(rows_file, connections)
        health_rps.append(health.rps)
        health_cpu.append(health.cpu_ms)
        reps.append(
            {
                "healthz": asdict(health),
                "page": asdict(window),
                "ratio": window.rps / health.rps if health.rps else 0.0,
            }
        )
    windows = [Window(**r["page"]) for r in reps]
    db_cpu = [w.db_cpu_ms for w in windows if w.db_cpu_ms is not None]
    target = f"ratio ≥ {page.target:.2f}" if page.target else ""
    result = PageResult(
        name=page.name,
        label=page.label,
        connections=connections,
        rps=median([w.rps for w in windows]),
        ratio=median([r["ratio"] for r in reps]),
        p50_ms=median([w.p50_ms for w in windows]),
        p99_ms=median([w.p99_ms for w in windows]),
        cpu_ms=median([w.cpu_ms for w in windows]),
        db_cpu_ms=median(db_cpu) if db_cpu else None,
        failures=sum(failures(w) for w in windows),
        rows=n_rows,
        target=target,
        reps=reps,
    )
    for w in windows:
        if failures(w):
            print(
                f"   !! {page.name}: {failures(w)} failed requests "
                f"(e.g. {w.bad_example or w.errors})",
                flush=True,
            )
    return result, health_cpu


def git_state() -> dict:
    """The commit measured, and whether the work tree had changes (when measuring ROOT)."""
    if APP_DIR != ROOT:
        stamp = APP_DIR / "COMMIT"
        commit = stamp.read_text().strip() if stamp.exists() else APP_DIR.name
        if re.fullmatch(r"[0-9a-f]{40}", commit):
            commit = commit[:7]
        return {"commit": commit, "dirty": False}

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain")),
    }


def run_one(ds: Dataset, args, data_dir: Path) -> dict:
    pages = [PAGES_BY_NAME[name] for name in args.pages] if args.pages else list(PAGES)
    log = data_dir / f"gunicorn-{run_key(ds.db, ds.patients)}.log"
    log.unlink(missing_ok=True)
    load_start = os.getloadavg()
    started = datetime.now(UTC)
    server = Server(ds, log, workers=args.workers)
    pg = None
    try:
        server.wait_ready()
        pg = PgBackends(ds)
        print(f"   gunicorn on {server.base}, workers {server.workers}", flush=True)
        people = choose_people(ds.url, args.sessions)
        t0 = time.monotonic()
        for person in people:
            http = Http(server.base)
            sign_in(http, person, args.password, lambda uid: mfa_last_step(ds.url, uid))
            if person.role == "patient":  # the form's token is kept in the session cookie
                thread = http.get(f"/patients/{person.patient_id}/messages/{person.thread_id}")
                person.csrf = csrf_token(thread.text)
            person.cookie = http.cookie_header()
        tags = sorted({t for p in people for t in p.tags})
        print(
            f"   {len(people)} sessions signed in in {time.monotonic() - t0:.0f} s "
            f"({', '.join(tags)})",
            flush=True,
        )
        health_file = write_rows([Row("GET", "200", "", "/healthz")], data_dir, "healthz")
        wrk = Wrk(server, pg, args.threads, args.seconds)
        results: list[PageResult] = []
        health_cpu: list[float] = []
        health_rps: list[float] = []
        for page in pages:
            rows = page_rows(page, people)
            if not rows:
                print(f"   -- {page.name}: nobody to sign in for it; skipped", flush=True)
                continue
            check_rows(server.base, page, rows)
            rows_file = write_rows(rows, data_dir, page.name)
            result, h_cpu = measure_page(
                wrk, page, rows_file, health_file, len(rows), args.connections, args.repetitions
            )
            results.append(result)
            health_cpu += h_cpu
            health_rps += [r["healthz"]["rps"] for r in result.reps]
            print(
                f"   {page.name:<13} {result.rps:8.1f} req/s  ratio {result.ratio:.3f}  "
                f"p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms  "
                f"CPU {result.cpu_ms:6.1f} ms/req",
                flush=True,
            )
            if page.p99_at_4:
                result4, h_cpu = measure_page(wrk, page, rows_file, health_file, len(rows), 4, 1)
                result4.target = f"p99 ≤ {P99_TARGET_MS:.0f} ms"
                results.append(result4)
                print(
                    f"   {page.name:<13} at 4 connections: p99 {result4.p99_ms:.1f} ms", flush=True
                )
        memory = {str(pid): rss_mb(pid) for pid in server.worker_pids()}
        if sorted(int(p) for p in memory) != server.workers:
            print("   !! a worker was restarted during the run (see the gunicorn log)")
    except BaseException:
        print(server.tail(), file=sys.stderr)
        raise
    finally:
        if pg is not None:
            pg.close()
        server.stop()
    return {
        "db": ds.db,
        "patients": ds.patients,
        "label": size_label(ds.patients),
        "date": started.isoformat(timespec="seconds"),
        "minutes": round((datetime.now(UTC) - started).total_seconds() / 60, 1),
        **git_state(),
        "load_start": [round(x, 2) for x in load_start],
        "load_end": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "threads": args.threads,
        "connections": args.connections,
        "seconds": args.seconds,
        "repetitions": args.repetitions,
        "sessions": {
            "patients": sum(p.role == "patient" for p in people),
            "staff": [f"{p.email} ({', '.join(p.tags)})" for p in people if p.role != "patient"],
            "heavy_threads": [p.heavy_messages for p in people if p.heavy_thread_id],
        },
        "healthz": {"rps": median(health_rps), "cpu_ms": median(health_cpu)},
        "pages": [asdict(r) for r in results],
        "memory_mb": {
            pid: {"rss": round(v[0], 1), "peak": round(v[1], 1)} for pid, v in memory.items()
        },
    }


# ------------------------------------------------------------------ the table


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def met(page: dict, base_cpu: float | None) -> tuple[str, list[str]]:
    """Whether the row meets its targets: '✅', '❌' or '' (no target), and why not."""
    misses, checked = [], False
    if page["failures"]:
        return f"❌ FAILED ({page['failures']})", [f"{page['failures']} failed requests"]
    if page["target"].startswith("ratio"):
        checked = True
        if page["ratio"] < float(page["target"].split()[-1]):
            misses.append("ratio")
    if page["target"].startswith("p99"):
        checked = True
        if page["p99_ms"] > P99_TARGET_MS:
            misses.append("p99")
    if base_cpu and page["connections"] != 4:
        checked = True
        if page["cpu_ms"] > base_cpu * (1 + FLAT_COST):
            misses.append("flat cost")
    if not checked:
        return "", []
    return ("✅" if not misses else "❌ " + ", ".join(misses)), misses


DB_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def render_table(result: dict, base: dict | None = None, before: dict | None = None) -> str:
    """One run's markdown: a heading, the conditions, the table, memory. `base` is the 10k
    result of the same database (for the flat-cost column), `before` an earlier run."""
    base_cpu = {
        p["name"] + str(p["connections"]): p["cpu_ms"] for p in (base or {}).get("pages", [])
    }
    before_by = {p["name"] + str(p["connections"]): p for p in (before or {}).get("pages", [])}
    has_db = any(p["db_cpu_ms"] is not None for p in result["pages"])
    state = result["commit"] + (" with uncommitted changes" if result["dirty"] else "")
    lines = [
        f"### {DB_NAMES.get(result['db'], result['db'])}, {result['label']} patients",
        "",
        f"{result['date'].replace('T', ' ').replace('+00:00', ' UTC')}, commit {state}; "
        f"{result['minutes']} minutes; load average {result['load_start'][0]:.2f} at the start, "
        f"{result['load_end'][0]:.2f} at the end ({result['cpus']} cores); gunicorn "
        f"{result['workers']} sync workers; `wrk -t{result['threads']} -c{result['connections']}`, "
        f"{result['repetitions']} x ({result['seconds']} s /healthz + {result['seconds']} s page).",
        f"`/healthz`: {result['healthz']['rps']:.0f} req/s, "
        f"{result['healthz']['cpu_ms']:.2f} ms server CPU per request.",
        "",
    ]
    header = ["page", "req/s", "ratio to /healthz", "p50 ms", "p99 ms", "CPU ms/request"]
    if has_db:
        header.append("DB CPU ms/request")
    if base:
        header.append(f"CPU vs {base['label']}")
    if before:
        header.append(f"before ({before['commit']}): ratio, CPU ms")
    header += ["target", "met?"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for page in result["pages"]:
        key = page["name"] + str(page["connections"])
        label = page["label"] + (" (4 connections)" if page["connections"] == 4 else "")
        cells = [
            label,
            f"{page['rps']:.0f}",
            f"{page['ratio']:.3f}",
            _fmt(page["p50_ms"]),
            _fmt(page["p99_ms"]),
            _fmt(page["cpu_ms"]),
        ]
        if has_db:
            cells.append(_fmt(page["db_cpu_ms"]))
        ref = base_cpu.get(key) if page["connections"] != 4 else None
        if base:
            cells.append(f"{(page['cpu_ms'] / ref - 1) * 100:+.0f}%" if ref else "-")
        if before:
            old = before_by.get(key)
            cells.append(f"{old['ratio']:.3f}, {old['cpu_ms']:.1f}" if old else "-")
        target = page["target"]
        if ref:
            target = (
                target + "; " if target else ""
            ) + f"CPU ≤ +{FLAT_COST:.0%} of {base['label']}"
        cells += [target or "-", met(page, ref)[0]]
        lines.append("| " + " | ".join(cells) + " |")
    memory = result["memory_mb"]
    worst = max((v["rss"] for v in memory.values()), default=0.0)
    lines += [
        "",
        "Worker memory after the run (RSS, peak): "
        + ", ".join(f"{v['rss']:.0f} MB ({v['peak']:.0f})" for v in memory.values())
        + f"; target under {MEMORY_TARGET_MB} MB: {'✅' if worst < MEMORY_TARGET_MB else '❌'}.",
        f"Sessions: {result['sessions']['patients']} patients (heavy threads of "
        f"{', '.join(str(n) for n in result['sessions']['heavy_threads']) or '-'} messages), "
        + "; ".join(result["sessions"]["staff"])
        + ".",
    ]
    if result.get("note"):
        lines += ["", result["note"]]
    return "\n".join(lines)


INTRO = """## Pages under load (`make bench`)

Generated by `bench/web.py` (`make bench`; one table: `make bench BENCH_ARGS="--db sqlite
--patients 10000"`; `--compare bench/results/<db>-<size>.json` adds a "before" column,
`--app-dir DIR` measures another commit exported with `git archive <commit> | tar -x -C DIR`
on the same data, `--render` rewrites the tables from bench/results/); do not edit between the
`bench:web` markers. Profiles: `make bench-profile` (bench/profiles/). gunicorn runs the app with 2
sync workers on a loopback port; wrk, on the same 2-core machine, rotates over (session, URL)
pairs: ~40 generated patients spread over the whole CCO (with the heaviest message writers and
the patient with the most audit rows), the demo nurse, the busiest coordinator and the admin,
all signed in for real (staff with their two-step code). Each page is measured in 2
repetitions of a /healthz window then a page window; **the ratio is the page's req/s over
/healthz's in the same repetition**, so a busy machine moves both. Figures are the median of
the repetitions. CPU per request is the gunicorn workers' CPU over the window divided by the
requests completed; on PostgreSQL "DB CPU" is the same for this database's backends (the
database server shares the 2 cores with the app and wrk, so it is in the req/s too). Every
response is checked (200 for pages, a redirect after posting): a row with any other answer
fails the run. "Team inbox" rotates over its four views; the accounts list over all, patients
and care team.

Differences from production, on purpose: `APP_ENV=development`, because production refuses the
demo's published two-step key and `.test` addresses that the generated accounts use (the code
paths of a request are otherwise the same); its own random `SECRET_KEY`; Redis for rate
limits as in production; the sign-in rate limit raised (`LOGIN_RATE_LIMIT`) so that the ~45
sign-ins from one address at the start are not refused (no page measured has a limit); idle
session timeouts raised so the staff sessions outlive a run. Targets (issue 13): patient
home, Today, My plan and an item ≥ 0.25; thread list, a heavy user's thread and posting ≥
0.20; team inbox and My patients ≥ 0.20 and p99 ≤ 100 ms at 4 connections; server CPU per
request at 100k within 15% of 10k; worker memory under 200 MB after the whole bench."""


SECTION_RE = re.compile(
    r"<!-- bench:web:([\w-]+):start -->\n(.*?)\n<!-- bench:web:\1:end -->", re.S
)
DB_ORDER = {"sqlite": 0, "postgresql": 1}


def _sort_key(key: str) -> tuple:
    db, _sep, label = key.partition("-")
    mult = {"k": 1000, "M": 1_000_000}.get(label[-1:], 1)
    number = label[:-1] if label[-1:] in ("k", "M") else label
    try:
        size = int(number) * mult
    except ValueError:
        size = 0
    return (DB_ORDER.get(db, 9), size, key)


def rewrite_section(doc: str, key: str, table: str) -> str:
    """The document with the bench:web section holding `table` under `key`, other keys'
    tables kept as they were. With no section yet, it goes right under the title (the first
    line) and the rest follows under "Earlier in-process figures"."""
    if START in doc and END in doc:
        head, rest = doc.split(START, 1)
        inner, tail = rest.split(END, 1)
    else:
        title, _nl, body = doc.partition("\n")
        head = title + "\n\n"
        inner = ""
        tail = (
            "\n\n## Earlier figures (in-process page timings, texting and planning)\n\n"
            "Measured before `make bench` ran the pages under gunicorn: the page timings below "
            "are in-process (no server, no network), now `make bench-inprocess`.\n\n"
            + body.lstrip("\n").replace("\n## ", "\n### ")
        )
    tables = {m.group(1): m.group(2) for m in SECTION_RE.finditer(inner)}
    tables[key] = table.strip()
    blocks = [
        f"<!-- bench:web:{k}:start -->\n{tables[k]}\n<!-- bench:web:{k}:end -->"
        for k in sorted(tables, key=_sort_key)
    ]
    section = "\n" + INTRO + "\n\n" + "\n\n".join(blocks) + "\n"
    return head + START + section + END + tail


def slim(result: dict) -> dict:
    """What a "before" column needs of an earlier run (kept in the new run's JSON)."""
    return {
        "commit": result["commit"],
        "date": result["date"],
        "pages": [
            {k: p[k] for k in ("name", "connections", "ratio", "cpu_ms", "rps")}
            for p in result["pages"]
        ],
    }


# ------------------------------------------------------------------ main


def check_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or see "
            "https://github.com/wg/wrk; `make bench` installs it when run as root."
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument("--patients", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--pages", nargs="+", choices=list(PAGES_BY_NAME))
    parser.add_argument("--fresh", action="store_true", help="rebuild the data")
    parser.add_argument("--seconds", type=int, default=6, help="length of one window")
    parser.add_argument("--repetitions", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sessions", type=int, default=PATIENT_SESSIONS)
    parser.add_argument("--compare", type=Path, help="an earlier result JSON: a before column")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "carecircle-bench"
    )
    parser.add_argument(
        "--pg-url", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--build-only", action="store_true", help="build the data, measure nothing")
    parser.add_argument(
        "--render", action="store_true", help="rewrite the tables from bench/results/, no run"
    )
    parser.add_argument("--note", help="a remark printed under the table (kept in the JSON)")
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/performance.md")
    parser.add_argument("--password", default=os.environ.get("BENCH_PASSWORD"))
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=ROOT,
        help="run the app from this directory (an export of another commit)",
    )
    args = parser.parse_args(argv)
    global APP_DIR
    APP_DIR = args.app_dir.resolve()
    check_wrk()
    if args.password is None:
        from app.demo.accounts import DEMO_PASSWORD

        args.password = DEMO_PASSWORD
    before = json.loads(args.compare.read_text()) if args.compare else None
    args.data_dir.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed = False
    for db in args.db:
        for patients in args.patients:
            key = run_key(db, patients)
            if args.pages:
                key += "-" + "-".join(args.pages)  # a partial run never replaces the full one
            if args.render:
                result = json.loads((RESULTS / f"{key}.json").read_text())
                if args.note is not None:
                    result["note"] = args.note
                    (RESULTS / f"{key}.json").write_text(json.dumps(result, indent=1) + "\n")
            else:
                ds = dataset_for(db, patients, args.data_dir, args.pg_url)
                prepare(ds, args.data_dir, args.pg_url, args.fresh)
                if args.build_only:
                    continue
                result = run_one(ds, args, args.data_dir)
                if args.note:
                    result["note"] = args.note
                if before and before.get("db") == db and before.get("patients") == patients:
                    result["before"] = slim(before)
                (RESULTS / f"{key}.json").write_text(json.dumps(result, indent=1) + "\n")
            base_path = RESULTS / f"{db}-10k.json"
            base = (
                json.loads(base_path.read_text())
                if patients > 10_000 and base_path.exists()
                else None
            )
            table = render_table(result, base, result.get("before"))
            if not args.no_doc:
                DOC.write_text(rewrite_section(DOC.read_text(), key, table))
            print("\n" + table + "\n", flush=True)
            failed |= any(p["failures"] for p in result["pages"])
    if failed:
        print("!! some pages had failed requests: see the rows marked FAILED", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
