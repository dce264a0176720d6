"""Test fixtures: a real database (SQLite, or PostgreSQL when DATABASE_URL is set), CSRF on,
factories that return callables, and a guard that fails any connection off this machine."""

from __future__ import annotations

import contextvars
import ipaddress
import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import event

from app import create_app
from app.extensions import db, limiter

DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql"))
PASSWORD = "correct horse battery"


# ------------------------------------------------------------------ network guard

_real_connect = socket.socket.connect


def _is_local(address) -> bool:
    if isinstance(address, (str, bytes)):  # unix socket path
        return True
    host = address[0]
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
        raise AssertionError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def no_network():
    socket.socket.connect = _guarded_connect
    yield
    socket.socket.connect = _real_connect


# ------------------------------------------------------------------ database


def _postgres_url(schema: str) -> tuple[str, dict]:
    from config import normalise_database_url

    return normalise_database_url(DATABASE_URL), {
        "connect_args": {"options": f"-csearch_path={schema}"},
        "pool_pre_ping": True,
    }


@contextmanager
def postgres_schema(prefix: str) -> Iterator[tuple[str, str, dict]]:
    """A brand-new, empty PostgreSQL schema for this run, dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url, options = _postgres_url(schema)
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema, url, options
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory) -> Iterator[dict]:
    """Build the schema once; each test gets it fresh (a file copy or a TRUNCATE)."""
    if ON_POSTGRES:
        with postgres_schema("cc_test") as (schema, url, options):
            yield from _postgres_database(schema, url, options)
    else:
        template = tmp_path_factory.mktemp("db") / "template.db"
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{template}"})
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        yield {"kind": "sqlite", "template": template}


def _postgres_database(schema: str, url: str, options: dict) -> Iterator[dict]:
    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options}
    )
    with app.app_context():
        db.create_all()
        tables = [t.name for t in db.metadata.sorted_tables]
        db.engine.dispose()
    yield {"kind": "postgresql", "url": url, "options": options, "tables": tables, "schema": schema}


def _sqlite_pragmas(engine) -> None:
    @event.listens_for(engine, "connect")
    def _fk_on(dbapi_connection, record):
        dbapi_connection.execute("PRAGMA foreign_keys=ON")


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in a real server.

    The test holds an app context for its own database work; without this, Flask would reuse
    it for requests and share `g` and the database session between requests and the test.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(database, tmp_path):
    if database["kind"] == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(database["template"], path)
        overrides = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
    else:
        overrides = {
            "SQLALCHEMY_DATABASE_URI": database["url"],
            "SQLALCHEMY_ENGINE_OPTIONS": database["options"],
        }
    app = create_app("testing", overrides)
    app.test_client_class = IsolatedClient
    with app.app_context():
        if database["kind"] == "sqlite":
            _sqlite_pragmas(db.engine)
        limiter.reset()
        yield app
        db.session.remove()
        if database["kind"] == "postgresql":
            with db.engine.begin() as conn:
                tables = ", ".join(f'"{t}"' for t in database["tables"])
                conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def production_app(monkeypatch):
    """An app built with the production config and the secrets it insists on."""
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://portal.example")
    return create_app(
        "production",
        {
            "SECRET_KEY": "x" * 40,
            "MAIL_BACKEND": "smtp",
            "PUBLIC_BASE_URL": "https://portal.example",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        },
    )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ------------------------------------------------------------------ forms and sign-in

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """A thin helper over the test client that submits forms the way a browser does."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def token(self, url="/auth/login") -> str:
        response = self.client.get(url, follow_redirects=True)
        return csrf_from(response.get_data(as_text=True))

    def post(self, url, data=None, *, form_url=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(form_url or url))
        return self.client.post(url, data=data, **kw)

    def login(self, email, password=PASSWORD, **kw):
        return self.post("/auth/login", {"email": email, "password": password}, **kw)

    def logout(self):
        return self.post("/auth/logout", form_url="/auth/account")


@pytest.fixture
def browser(client):
    return Browser(client)


@pytest.fixture
def new_browser(app):
    def make():
        return Browser(app.test_client())

    return make


# ------------------------------------------------------------------ factories


@pytest.fixture
def make_user(app):
    from app.auth.models import Role, User
    from app.auth.passwords import hash_password

    hashed = hash_password(PASSWORD)
    counter = {"n": 0}

    def make(role=Role.PATIENT, *, email=None, name=None, password=True, locale=None, **kw):
        counter["n"] += 1
        user = User(
            email=email or f"user{counter['n']}@example.test",
            full_name=name or f"Test User {counter['n']}",
            role=Role(role),
            password_hash=hashed if password is True else (password or None),
            locale=locale,
            **kw,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_org(app):
    from app.team.models import Organization, OrganizationKind

    counter = {"n": 0}

    def make(kind=OrganizationKind.PRIMARY_CARE, name=None):
        counter["n"] += 1
        org = Organization(name=name or f"Org {counter['n']}", kind=kind)
        db.session.add(org)
        db.session.commit()
        return org

    return make


@pytest.fixture
def make_patient(app, make_user):
    from app.auth.models import Role
    from app.patients.models import Patient

    def make(*, with_login=True, given="Pat", family="Doe", dob=date(1980, 5, 17), **kw):
        user = make_user(Role.PATIENT, name=f"{given} {family}") if with_login else None
        patient = Patient(
            user_id=user.id if user else None,
            given_name=given,
            family_name=family,
            date_of_birth=dob,
            **kw,
        )
        db.session.add(patient)
        db.session.commit()
        return patient

    return make


@pytest.fixture
def make_member(app, make_user, make_org):
    from app.auth.models import Role
    from app.team.models import CareTeamMember, Discipline

    def make(discipline=Discipline.NURSING, org=None, **user_kw):
        user = make_user(Role.CARE_TEAM, **user_kw)
        member = CareTeamMember(
            user_id=user.id,
            organization_id=(org or make_org()).id,
            discipline=discipline,
            title="Test title",
        )
        db.session.add(member)
        db.session.commit()
        return member

    return make


@pytest.fixture
def assign(app):
    from app.team.models import CareTeamAssignment

    def make(patient, member, coordinator=False):
        row = CareTeamAssignment(
            patient_id=patient.id, member_id=member.id, is_coordinator=coordinator
        )
        db.session.add(row)
        db.session.commit()
        return row

    return make


@pytest.fixture
def grant(app):
    from app.caregivers.models import CaregiverGrant

    def make(patient, caregiver, scopes=(), **kw):
        row = CaregiverGrant(
            patient_id=patient.id,
            caregiver_id=caregiver.id,
            relationship_label=kw.pop("relationship_label", "daughter"),
            scopes=list(scopes),
            sensitive_categories=[],
            **kw,
        )
        db.session.add(row)
        db.session.commit()
        return row

    return make


@pytest.fixture
def seeded(app):
    from app.demo import seed

    seed()
    db.session.commit()


# ------------------------------------------------------------------ query counting


class QueryCounter:
    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _on(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    return lambda: QueryCounter(db.engine)


@pytest.fixture
def frozen_clock():
    """`frozen_clock(instant)` stops app time at `instant` (tz-aware); call again to move it."""
    from app.core.db import set_clock

    yield set_clock
    set_clock(None)


def outbox_emails():
    from app.core.mail import OutboundEmail

    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboundEmail).order_by(OutboundEmail.id)))


def link_in(body: str) -> str:
    match = re.search(r"http://carecircle\.test(/\S+)", body)
    assert match, body
    return match.group(1)


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def compiled_translations():
    """Tests read the .mo files, as the app does; compile them once per run."""
    from app.core.cli import pybabel

    pybabel("compile", "-d", str(ROOT / "translations"))
