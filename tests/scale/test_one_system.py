"""Two app hosts and two dispatchers on one PostgreSQL and one Redis behave as one system
(issue 13; the set-up is docs/deployment.md's, minus nginx and PgBouncer).

Everything goes through what an operator runs and a user does: `flask db upgrade` and
`flask demo seed` on a database of its own, two gunicorn servers started with
docs/deploy/gunicorn.conf.py on two ports (two "hosts", of two workers and one), two
`flask reminders run` dispatchers sending through the tests' fake Twilio, and plain HTTP
with `requests`. It shows:

1. a session started on host A works on host B, and signing out on B ends it on A too (a
   copied cookie is worthless after sign-out);
2. the sign-in rate limit of one address is counted once across both hosts: failed tries
   spread over A and B are refused after the same number as on one host;
3. a patient's new message on A raises the nurse's inbox badge on B, and her answer on A
   lowers it again;
4. 200 texts queued at once are each received by Twilio exactly once from the two
   dispatchers, both of which sent some, and none is left waiting.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from tests.fakes.twilio_server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilioServer
from tests.fixtures.app import DATABASE_URL, ON_POSTGRES, REDIS_URL, ROOT, redis_up
from tests.fixtures.browser import csrf_from, key_from

BIN = Path(sys.executable).parent
GUNICORN_CONF = ROOT / "docs" / "deploy" / "gunicorn.conf.py"
SERVICE_SID = "MG" + "0123456789abcdef" * 2
DEMO_PASSWORD = "carecircle-demo"  # README: every demo login
DOMAIN = "demo.carecircle.test"
#: Failed sign-ins one address gets answered per minute (LOGIN_RATE_LIMIT for this test).
LOGIN_LIMIT = 6
TEXTS = 200
TIMEOUT = 30  # seconds for any one HTTP request

INBOX_LINK = re.compile(r'<a href="/team/inbox[^"]*"[^>]*>(.*?)</a>', re.S)
PATIENT_PAGE = re.compile(r"^/patients/(\d+)/home$")  # a patient lands on their Home

# Put texts in the outbox the way the app does (texting.outbox.queue_sms), due now, in a
# process of their own, as a web request or the planner would.
QUEUE_TEXTS = """
import sys
from datetime import timedelta

import sqlalchemy as sa

from app import create_app
from app.core.db import utcnow
from app.extensions import db
from app.auth.models import User
from app.patients.models import Patient
from app.texting.outbox import queue_sms

marker, count = sys.argv[1], int(sys.argv[2])
app = create_app()
with app.app_context():
    # The demo's own patients with a phone (their settings let "your team replied" texts
    # through; the demo's history patients include one who texted STOP).
    patients = db.session.scalars(
        sa.select(Patient)
        .join(User, User.id == Patient.user_id)
        .where(Patient.mobile_phone.is_not(None), User.email.like("%@demo.carecircle.test"))
        .order_by(Patient.id)
    ).all()
    due = utcnow() - timedelta(minutes=1)
    for i in range(count):
        patient = patients[i % len(patients)]
        queue_sms(
            patient=patient,
            to=patient.mobile_phone,
            user_id=patient.user_id,
            purpose="team_replied",
            locale="en",
            body=f"CareCircle: a message is waiting for you ({marker} {i})",
            send_after=due,
        )
    db.session.commit()
"""

needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL=postgresql://...)"
)
needs_redis = pytest.mark.skipif(not redis_up(), reason="needs Redis on 127.0.0.1:6379")


# ------------------------------------------------------------------ the pieces


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Every process the test starts, each with its log, all stopped in the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}
        self.stop_signal: dict[str, signal.Signals] = {}

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def tail(self, name: str) -> str:
        path = self.log(name)
        return path.read_text()[-3000:] if path.exists() else ""

    def start(
        self, name: str, args: list[str], env: dict, stop: signal.Signals = signal.SIGTERM
    ) -> subprocess.Popen:
        with self.log(name).open("w") as out:  # the child keeps its own copy of the file
            proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.running[name] = proc
        self.stop_signal[name] = stop
        return proc

    def run(self, name: str, args: list[str], env: dict, timeout: float = 120) -> str:
        """Run a command to its end (a migration, the demo seed); its output, or a failure."""
        done = subprocess.run(
            args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            pytest.fail(
                f"{name} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
            )
        return done.stdout

    def alive(self, name: str) -> None:
        proc = self.running[name]
        if proc.poll() is not None:
            pytest.fail(f"{name} exited ({proc.returncode}):\n{self.tail(name)}")

    def stop_all(self) -> None:
        for name, proc in self.running.items():
            if proc.poll() is None:
                proc.send_signal(self.stop_signal[name])
        for proc in self.running.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_until(condition, what: str, timeout: float, check=lambda: None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        check()
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


class Browser:
    """One person's browser: a cookie jar, and the address the proxy reports for them."""

    def __init__(self, address: str = "127.0.0.1") -> None:
        self.http = requests.Session()
        if address != "127.0.0.1":
            # What nginx adds; the hosts trust one proxy (TRUSTED_PROXY_COUNT=1).
            self.http.headers["X-Forwarded-For"] = address

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.http.get(url, timeout=TIMEOUT, allow_redirects=False, **kwargs)

    def post(self, url: str, data: dict, **kwargs) -> requests.Response:
        return self.http.post(url, data=data, timeout=TIMEOUT, allow_redirects=False, **kwargs)

    def close(self) -> None:
        self.http.close()


def sign_in(browser: Browser, host: str, email: str) -> None:
    """Password, then (care team) the code from the demo's authenticator key."""
    page = browser.get(f"{host}/auth/login")
    form = {"email": email, "password": DEMO_PASSWORD, "csrf_token": csrf_from(page.text)}
    answer = browser.post(f"{host}/auth/login", form)
    assert answer.status_code == 302, f"sign-in of {email} on {host}: {answer.status_code}"
    if "/auth/mfa" in answer.headers["Location"]:
        import pyotp

        from app.auth.mfa import DEMO_MFA_SECRET

        page = browser.get(f"{host}/auth/mfa")
        code = {"code": pyotp.TOTP(DEMO_MFA_SECRET).now(), "csrf_token": csrf_from(page.text)}
        answer = browser.post(f"{host}/auth/mfa", code)
        assert answer.status_code == 302, f"second step of {email} on {host}"
        assert "/auth/" not in answer.headers["Location"], answer.headers["Location"]


def own_record(browser: Browser, host: str) -> int:
    """A signed-in patient's start page: their record's number."""
    answer = browser.get(f"{host}/")
    assert answer.status_code == 302, answer.status_code
    match = PATIENT_PAGE.match(urlsplit(answer.headers["Location"]).path)
    assert match, f"not sent to their record: {answer.headers['Location']}"
    return int(match.group(1))


def inbox_badge(browser: Browser, host: str) -> int:
    """The number the nurse sees next to "Inbox" in the navigation (0: no badge)."""
    answer = browser.http.get(f"{host}/", timeout=TIMEOUT)  # her start page, redirects followed
    assert answer.status_code == 200 and "/auth/login" not in answer.url, answer.url
    link = INBOX_LINK.search(answer.text)
    assert link, "no Inbox link in the care team's navigation"
    numbers = re.findall(r">\s*(\d+)\s*<", link.group(1))
    return int(numbers[0]) if numbers else 0


def badge_becomes(browser: Browser, host: str, expected: int) -> int:
    """The badge on `host`, read until it shows `expected` (a few seconds at most)."""
    deadline = time.monotonic() + 5
    seen = inbox_badge(browser, host)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.25)
        seen = inbox_badge(browser, host)
    return seen


def count_log(path: Path, key: str) -> int:
    return sum(int(n) for n in re.findall(rf"\b{key}=(\d+)", path.read_text()))


# ------------------------------------------------------------------ the system


@pytest.fixture
def scale_database():
    """A database of its own (the real schema, as `flask db upgrade` makes it), dropped after."""
    from config import normalise_database_url

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"scale_{worker}_{uuid.uuid4().hex[:8]}"
    base = sa.make_url(normalise_database_url(DATABASE_URL))
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.set(drivername="postgresql", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def redis_prefix():
    """This run's keys in Redis, removed afterwards."""
    import redis

    prefix = f"cc-scale-{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*"))  # LIMITS:LIMITER/<prefix>/...
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def environment(database: str, redis_prefix: str, twilio_url: str, instance: Path) -> dict:
    """What every host and dispatcher gets: the same secret, database, Redis and Twilio."""
    own = ("FLASK_", "APP_", "DATABASE_", "REDIS_", "RATELIMIT_", "SMS_", "TWILIO_", "LOGIN_")
    own += ("MAIL_", "SECRET_", "GUNICORN_", "WEB_CONCURRENCY", "TRUSTED_", "SESSION_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    env.update(
        FLASK_APP="wsgi.py",
        APP_ENV="development",  # the demo's staff key and plain http; production refuses both
        INSTANCE_PATH=str(instance),
        SECRET_KEY="one-system-" + uuid.uuid4().hex,
        DATABASE_URL=database,
        DATABASE_PGBOUNCER="1",  # as behind PgBouncer: no prepared statements
        REDIS_URL=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix,
        TRUSTED_PROXY_COUNT="1",
        LOGIN_RATE_LIMIT=f"{LOGIN_LIMIT} per minute",
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_COST_KIB="1024",
        MAIL_BACKEND="outbox",
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=DEFAULT_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN,
        TWILIO_MESSAGING_SERVICE_SID=SERVICE_SID,
        TWILIO_API_BASE_URL=twilio_url,
        PUBLIC_BASE_URL="http://carecircle.test",
        # Shared by both dispatchers through Redis: 200 texts take two seconds at least, so
        # both take part.
        SMS_RATE_PER_SECOND="100",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


@needs_postgres
@needs_redis
def test_two_hosts_and_two_dispatchers_behave_as_one_system(scale_database, redis_prefix, tmp_path):
    database = scale_database
    procs = Processes(tmp_path)
    fake = FakeTwilioServer(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN).start()
    browsers: list[Browser] = []

    def browser(address: str = "127.0.0.1") -> Browser:
        browsers.append(Browser(address))
        return browsers[-1]

    env = environment(database, redis_prefix, fake.url, tmp_path / "instance")
    flask = str(BIN / "flask")
    try:
        procs.run("migrate", [flask, "db", "upgrade"], env)
        procs.run("seed", [flask, "demo", "seed"], env)

        hosts = {}
        for name, workers in (("A", 2), ("B", 1)):
            port = free_port()
            host_env = {
                **env,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "WEB_CONCURRENCY": str(workers),
            }
            args = [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "wsgi:app"]
            # SIGINT: gunicorn's quick shutdown (SIGTERM waits for requests in flight).
            procs.start(f"host-{name}", args, host_env, stop=signal.SIGINT)
            hosts[name] = f"http://127.0.0.1:{port}"
        for n in (1, 2):
            args = [flask, "reminders", "run", "--interval", "0.3", "--batch", "20"]
            # Unbuffered: the test reads each dispatcher's "sent=" lines while it still runs.
            procs.start(f"dispatcher-{n}", args, {**env, "PYTHONUNBUFFERED": "1"})

        def all_alive() -> None:
            for name in procs.running:
                procs.alive(name)

        def answers(url: str) -> bool:
            try:
                return requests.get(url, timeout=5).status_code == 200
            except requests.RequestException:  # not listening yet, or its workers still boot
                return False

        for name, host in hosts.items():
            wait_until(lambda h=host: answers(f"{h}/healthz"), f"host {name}", 90, all_alive)
            ready = requests.get(f"{host}/readyz", timeout=TIMEOUT)
            assert ready.status_code in (200, 404), ready.text  # 404: no readiness probe yet
        A, B = hosts["A"], hosts["B"]

        # 1. Sessions: signed in on A, recognised on B; signed out on B, ended on A.
        james = browser()
        sign_in(james, A, f"james@{DOMAIN}")
        on_b = browser()  # the same cookies, sent to the other host
        on_b.http.cookies.update(james.http.cookies)
        record = own_record(on_b, B)
        summary = on_b.get(f"{B}/patients/{record}")
        assert summary.status_code == 200 and "James" in summary.text
        more = on_b.get(f"{B}/patients/{record}/more")  # where a patient signs out
        signed_out = on_b.post(f"{B}/auth/logout", {"csrf_token": csrf_from(more.text)})
        assert signed_out.status_code == 302
        # The browser on A still holds the cookie: it is worthless there too.
        after = james.get(f"{A}/patients/{record}")
        assert after.status_code == 302 and "/auth/login" in after.headers["Location"]

        # 2. One address's failed sign-ins are counted once, whichever host answers.
        def failed_sign_ins(address: str, targets: list[str]) -> list[int]:
            guesser = browser(address)
            token = csrf_from(guesser.get(f"{targets[0]}/auth/login").text)
            form = {"email": f"nobody@{DOMAIN}", "password": "x" * 12, "csrf_token": token}
            return [
                guesser.post(f"{targets[i % len(targets)]}/auth/login", form).status_code
                for i in range(2 * LOGIN_LIMIT)
            ]

        spread = failed_sign_ins("203.0.113.7", [A, B])
        assert spread == [200] * LOGIN_LIMIT + [429] * LOGIN_LIMIT, spread
        one_host = failed_sign_ins("203.0.113.8", [A])
        assert one_host == spread, (one_host, spread)
        # The limit is the guesser's, not everybody's: another address still signs in, on B.
        sign_in(browser("198.51.100.4"), B, f"maria@{DOMAIN}")

        # 3. The nurse's inbox badge on B follows what happens on A.
        nurse = browser()
        sign_in(nurse, A, f"nurse@{DOMAIN}")
        before = inbox_badge(nurse, B)
        james = browser()
        sign_in(james, A, f"james@{DOMAIN}")
        page = james.get(f"{A}/patients/{record}/messages/new")
        assert page.status_code == 200
        sent = james.post(
            f"{A}/patients/{record}/messages/new",
            {
                "topic": "symptoms",
                "subject": "Dizzy when I stand up",
                "body": "Since this morning I feel dizzy when I stand up. Should I worry?",
                "csrf_token": csrf_from(page.text),
                "idempotency_key": key_from(page.text) or "",
            },
        )
        assert sent.status_code == 302, sent.status_code
        thread = urlsplit(sent.headers["Location"]).path
        assert badge_becomes(nurse, B, before + 1) == before + 1
        page = nurse.get(f"{A}{thread}")
        assert page.status_code == 200 and "Dizzy when I stand up" in page.text
        answered = nurse.post(
            f"{A}{thread}",
            {
                "body": "Please sit for a minute before you stand. I will call you today.",
                "csrf_token": csrf_from(page.text),
                "idempotency_key": key_from(page.text) or "",
            },
        )
        assert answered.status_code == 302, answered.status_code
        assert badge_becomes(nurse, B, before) == before

        # 4. Texts: each received once, from both dispatchers, none left waiting.
        marker = f"scale-{uuid.uuid4().hex[:8]}"
        script = [str(BIN / "python"), "-c", QUEUE_TEXTS, marker, str(TEXTS)]
        procs.run("queue", script, env)

        def ours() -> Counter:
            return Counter(m["Body"] for m in fake.messages if marker in m["Body"])

        open_states = ("queued", "sending")
        engine = sa.create_engine(database.replace("postgresql://", "postgresql+psycopg://", 1))
        try:

            def waiting() -> int:
                with engine.connect() as conn:
                    return conn.scalar(
                        sa.text(
                            "SELECT count(*) FROM outbound_sms "
                            "WHERE body LIKE :m AND status IN :open"
                        ).bindparams(sa.bindparam("open", expanding=True)),
                        {"m": f"%{marker}%", "open": list(open_states)},
                    )

            wait_until(
                lambda: sum(ours().values()) >= TEXTS and waiting() == 0,
                f"{TEXTS} texts at the fake Twilio",
                60,
                all_alive,
            )
            received = ours()
            assert len(received) == TEXTS, f"{TEXTS - len(received)} texts never arrived"
            assert set(received.values()) == {1}, "some texts were sent twice"
            with engine.connect() as conn:
                statuses = dict(
                    conn.execute(
                        sa.text(
                            "SELECT status, count(*) FROM outbound_sms WHERE body LIKE :m "
                            "GROUP BY status"
                        ),
                        {"m": f"%{marker}%"},
                    ).all()
                )
        finally:
            engine.dispose()
        # Accepted by Twilio (no status callback reaches this test), nothing waiting or failed.
        assert sum(statuses.values()) == TEXTS, statuses
        assert set(statuses) <= {"accepted", "sent", "delivered"}, statuses
        all_alive()

        # Both dispatchers took part, and together they sent each text the fake received once:
        # ours, and any the demo's own reminders and the team's answer sent meanwhile (whether
        # those go out depends on the hour: quiet hours hold them). A dispatcher writes its
        # round's "sent=" line after the round's outcomes are committed, so its log may trail
        # the provider by a moment.
        deadline = time.monotonic() + 20
        while True:
            at_provider = len(fake.messages)
            sent_by = [count_log(procs.log(f"dispatcher-{n}"), "sent") for n in (1, 2)]
            if sum(sent_by) == at_provider or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert sum(sent_by) == at_provider and all(sent_by), (
            f"texts sent by each: {sent_by}; received by the provider: {at_provider}"
        )
    finally:
        for each in browsers:
            each.close()
        procs.stop_all()
        fake.stop()


# ------------------------------------------------------------------ behind PgBouncer

PG = "postgresql+psycopg://app:secret@pgbouncer:6432/carecircle"


@pytest.mark.parametrize(
    ("url", "flag", "threshold", "url_after"),
    [
        (PG, True, None, PG),
        (PG + "?prepare_threshold=none", False, None, PG),
        (PG + "?prepare_threshold=", False, None, PG),
        (PG + "?application_name=web&prepare_threshold=5", True, 5, PG + "?application_name=web"),
        (PG, False, "unset", PG),
        ("sqlite:///x.db", True, "unset", "sqlite:///x.db"),
    ],
)
def test_behind_pgbouncer_psycopg_prepares_no_statements(url, flag, threshold, url_after):
    """DATABASE_PGBOUNCER=1 or ?prepare_threshold= in the URL: what psycopg is given; the
    connection is always tested before use and errors never carry bound values."""
    from app import engine_options

    config = {"SQLALCHEMY_DATABASE_URI": url, "DATABASE_PGBOUNCER": flag}
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 3}  # an override without them
    options = engine_options(config)
    assert options["pool_pre_ping"] is True and options["hide_parameters"] is True
    assert options["pool_size"] == 3
    given = options.get("connect_args", {}).get("prepare_threshold", "unset")
    assert given == threshold
    assert config["SQLALCHEMY_DATABASE_URI"] == url_after


@needs_postgres
def test_the_app_behind_pgbouncer_prepares_nothing_on_its_connections():
    from app import create_app
    from app.extensions import db
    from config import normalise_database_url

    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(DATABASE_URL),
            "DATABASE_PGBOUNCER": True,
        },
    )
    with app.app_context():
        try:
            with db.engine.connect() as conn:
                for _ in range(8):  # psycopg would prepare from the 6th run on
                    conn.execute(sa.text("SELECT 1"))
                prepared = conn.execute(sa.text("SELECT count(*) FROM pg_prepared_statements"))
                assert prepared.scalar() == 0
                assert conn.connection.driver_connection.prepare_threshold is None
        finally:
            db.engine.dispose()
