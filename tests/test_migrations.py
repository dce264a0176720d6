"""Migrations build the same schema as the models, from empty, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.fixtures.app import DATABASE_URL, ON_POSTGRES, postgres_schema
from tests.fixtures.records import audit_event_values


@pytest.fixture
def empty_app(tmp_path):
    """An app pointed at a brand-new empty database (a file, or a fresh PostgreSQL schema)."""
    if ON_POSTGRES:
        with postgres_schema("cc_mig") as (_schema, url, options):
            app = create_app(
                "testing", {"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options}
            )
            yield app
            with app.app_context():
                db.engine.dispose()
    else:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"})
        yield app
        with app.app_context():
            db.engine.dispose()


def test_upgrade_from_empty_matches_the_models(empty_app):
    with empty_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"


def test_migrated_audit_rows_are_linked_and_the_table_stays_append_only(empty_app):
    """Rows written before the chain existed are linked in the order they were written."""
    from app.core import audit

    with empty_app.app_context():
        upgrade(revision="b2d4f6a8c0e1")
        with db.engine.begin() as conn:
            for action in ("view", "update", "view"):
                conn.execute(
                    sa.text(
                        "INSERT INTO audit_events (occurred_at, capacity, action, resource) "
                        "VALUES (CURRENT_TIMESTAMP, 'system', :a, 'test')"
                    ),
                    {"a": action},
                )
        upgrade()
        report = audit.verify(db.session)
        assert (report.ok, report.rows) == (True, 3)
        rows = db.session.execute(
            sa.select(audit.AuditEvent.id, audit.AuditEvent.chain_seq).order_by(audit.AuditEvent.id)
        ).all()
        assert [tuple(r) for r in rows] == [(1, 1), (2, 2), (3, 3)]
        audit.write(db.session, [{**audit_event_values(), "action": "create"}])
        db.session.commit()
        assert audit.verify(db.session).rows == 4
        db.session.rollback()  # its reads would hold TRUNCATE back rather than let it be refused
        for statement in (
            "DELETE FROM audit_events",
            "UPDATE audit_events SET action = 'view'",
            "TRUNCATE audit_events" if ON_POSTGRES else REPLACE_FIRST_ROW,
        ):
            with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
                conn.execute(sa.text(statement))
        assert audit.verify(db.session).rows == 4
        db.session.remove()


REPLACE_FIRST_ROW = (
    "REPLACE INTO audit_events "
    "(id, occurred_at, capacity, action, resource, chain_seq, prev_hash, row_hash) "
    "VALUES (1, CURRENT_TIMESTAMP, 'system', 'view', 'x', 99, 'a', 'b')"
)


def test_downgrade_to_empty_and_up_again(empty_app):
    with empty_app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        assert "patients" in sa.inspect(db.engine).get_table_names()


def test_database_in_use(empty_app):
    """Make it visible in the test log which backend this run exercised."""
    with empty_app.app_context():
        assert db.engine.dialect.name == ("postgresql" if ON_POSTGRES else "sqlite")
        if ON_POSTGRES:
            assert DATABASE_URL


def test_readyz_says_ready_only_at_the_migrations_head(empty_app):
    client = empty_app.test_client()
    never = client.get("/readyz")
    assert (never.status_code, never.get_data(as_text=True)) == (503, "migrations pending\n")
    with empty_app.app_context():
        upgrade(revision="b2d4f6a8c0e1")
    assert client.get("/readyz").status_code == 503  # an old schema: not ready for this code
    with empty_app.app_context():
        upgrade()
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_data(as_text=True)) == (200, "ready\n")
    assert "Set-Cookie" not in ready.headers
