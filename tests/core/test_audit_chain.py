"""The audit trail is tamper-evident: a hash chain that `flask audit verify` walks, triggers that
refuse UPDATE, DELETE, REPLACE and TRUNCATE, and on PostgreSQL an app role that may only
INSERT and SELECT on it. Each attack below is what finding 5 of issue 11 reproduced."""

from __future__ import annotations

import itertools
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.core import audit
from app.core.audit import AuditEvent
from app.extensions import db
from tests.fixtures.app import ON_POSTGRES, PG_APP, PG_OWNER
from tests.fixtures.browser import signed_in
from tests.fixtures.records import audit_event_values


@pytest.fixture
def trail(make_patient, new_browser):
    """Five rows written the way the app writes them: page views, one request at a time."""
    patient = make_patient(given="James")
    from app.auth.models import User

    b = signed_in(new_browser, db.session.get(User, patient.user_id))
    for path in ("", "/plan", "/goals", "/decisions", "/messages"):
        assert b.get(f"/patients/{patient.id}{path}").status_code == 200
    db.session.expire_all()
    rows = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.chain_seq)))
    assert len(rows) >= 5
    return rows


def bypass(database, statement: str) -> None:
    """What an attacker with full control of the database server could still do: go around
    the triggers (a superuser in replica mode; on SQLite, drop them)."""
    if ON_POSTGRES:
        with database["admin"].begin() as conn:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text(statement))
    else:
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
            conn.execute(sa.text(statement))


def test_rows_form_a_chain_that_verifies(trail, runner):
    assert [r.chain_seq for r in trail] == list(range(1, len(trail) + 1))
    assert trail[0].prev_hash == audit.GENESIS
    for before, after in itertools.pairwise(trail):
        assert after.prev_hash == before.row_hash
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"intact: {len(trail)} rows, head {trail[-1].row_hash}" in result.output


def test_a_changed_row_is_named(trail, runner, database):
    victim = trail[2]
    bypass(database, f"UPDATE audit_events SET actor_id = NULL WHERE id = {victim.id}")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at row id {victim.id} (number 3)" in result.output
    assert "its content was changed after it was written" in result.output
    assert "The 2 rows before it verify" in result.output


def test_a_deleted_row_is_noticed_at_the_next(trail, runner, database):
    bypass(database, f"DELETE FROM audit_events WHERE id = {trail[1].id}")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at row id {trail[2].id} (number 3): rows are missing before it" in (
        result.output
    )


def test_a_rewritten_row_with_a_fresh_hash_breaks_the_link_after_it(trail, database):
    """Recomputing the changed row's own hash is not enough: the next row points at the old."""
    victim = trail[1]
    changed = {
        **{name: getattr(victim, name) for name in audit.CHAINED},
        "action": "update",
    }
    forged = audit.row_digest(victim.prev_hash, changed)
    bypass(
        database,
        f"UPDATE audit_events SET action = 'update', row_hash = '{forged}' WHERE id = {victim.id}",
    )
    db.session.expire_all()
    report = audit.verify(db.session)
    assert (report.ok, report.broken_id, report.problem) == (
        False,
        trail[2].id,
        "it does not point at the row before it",
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'view'",
        "DELETE FROM audit_events",
        "UPDATE audit_events SET chain_seq = chain_seq + 100",
    ],
)
def test_the_database_refuses_changes(trail, statement):
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.text(statement))
    db.session.expire_all()
    assert audit.verify(db.session).rows == len(trail)


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's REPLACE")
@pytest.mark.parametrize("verb", ["REPLACE INTO", "INSERT OR REPLACE INTO"])
def test_sqlite_refuses_replace(trail, verb):
    first = trail[0]
    for column in ("id", "chain_seq"):
        values = {"id": "NULL", "chain_seq": 999}
        values[column] = getattr(first, column)
        with pytest.raises(DBAPIError), db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"{verb} audit_events (id, occurred_at, capacity, action, resource, "
                    "chain_seq, prev_hash, row_hash) VALUES "
                    f"({values['id']}, CURRENT_TIMESTAMP, 'system', 'view', 'forged', "
                    f"{values['chain_seq']}, 'x', 'y')"
                )
            )
    db.session.expire_all()
    assert db.session.get(AuditEvent, first.id).resource == first.resource
    assert audit.verify(db.session).ok


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL roles")
@pytest.mark.parametrize(
    "statement",
    [
        "TRUNCATE audit_events",
        "TRUNCATE users CASCADE",
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change",
        "DROP TRIGGER audit_events_no_change ON audit_events",
        f"SET ROLE {PG_OWNER}",
    ],
)
def test_the_app_role_cannot_truncate_or_disable_the_triggers(trail, statement):
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar() == PG_APP
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.text(statement))
    db.session.expire_all()
    assert audit.verify(db.session).rows == len(trail)


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL roles")
def test_even_the_owner_cannot_truncate_the_trail(trail, database):
    db.session.rollback()  # the test's own reads would hold TRUNCATE back, not refuse it
    owner = sa.make_url(database["url"]).set(username=PG_OWNER)
    engine = sa.create_engine(owner, **database["options"])
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE audit_events"))
    finally:
        engine.dispose()


def test_concurrent_writers_never_fork_the_chain(app, trail):
    """Eight threads, each its own session, connection and transaction, write 25 batches
    each: as two gunicorn workers do (on SQLite the second waits for the write lock instead of
    reading the same head and colliding on chain_seq: a 500 for every such page)."""
    errors = []

    def writer():
        with app.app_context():
            try:
                for _ in range(25):
                    audit.write(db.session, [audit_event_values(), audit_event_values()])
                    db.session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db.session.expire_all()
    report = audit.verify(db.session)
    assert (report.ok, report.rows) == (True, len(trail) + 8 * 25 * 2)


def test_a_jobs_events_go_in_with_its_work_and_not_without_it(app):
    # A job runs outside any request.
    audit.record(action="view", resource="job.test", patient_id=None)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0
    audit.record(action="view", resource="job.test", patient_id=None)
    audit.record(action="update", resource="job.test", patient_id=None)
    db.session.commit()
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.chain_seq)).all()
    assert [(r.chain_seq, r.action, r.capacity) for r in rows] == [
        (1, "view", "system"),
        (2, "update", "system"),
    ]
    assert audit.verify(db.session).ok


def test_the_roles_command_prints_what_the_tests_run_as(runner):
    result = runner.invoke(
        args=["audit", "roles", "--schema", "cc", "--owner", "own", "--app-role", "web"]
    )
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "cc" TO "web";' in lines
    assert (
        'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON "cc"."audit_events" FROM "web";'
        in lines
    )
    bad = runner.invoke(args=["audit", "roles", "--app-role", 'web"; DROP TABLE x; --'])
    assert bad.exit_code != 0
