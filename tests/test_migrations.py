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


def test_migrated_audit_table_is_append_only(empty_app):
    with empty_app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO audit_events (occurred_at, capacity, action, resource) "
                    "VALUES (CURRENT_TIMESTAMP, 'system', 'view', 'test')"
                )
            )
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM audit_events"))


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
