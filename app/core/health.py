"""Probes for load balancers and orchestrators, unauthenticated and cheap.

- `GET /healthz`, liveness: the process answers. It touches no session and no database, so a
  database outage does not get every app host restarted. It is also the benchmarks' yardstick:
  docs/performance.md gives every page as a ratio to it, measured in the same run.
- `GET /readyz`, readiness: the database answers and its schema is at the migrations' head, so
  a host is only sent traffic once `flask db upgrade` has run. It says which of the two is
  wrong and nothing more (no error text, no versions).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, current_app

from app.core.access import no_patient_data
from app.core.errors import log_failure
from app.extensions import db

log = logging.getLogger(__name__)
TEXT = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@no_patient_data("a liveness probe: the process answers")
def healthz():
    return "ok\n", 200, TEXT


def _migration_heads(app: Flask) -> frozenset[str]:
    """The revisions the code expects (read from migrations/ once per process)."""
    heads = app.extensions.get("carecircle.migration_heads")
    if heads is None:
        from alembic.script import ScriptDirectory
        from flask_migrate import Config

        config = Config()
        config.set_main_option("script_location", app.extensions["migrate"].directory)
        heads = frozenset(ScriptDirectory.from_config(config).get_heads())
        app.extensions["carecircle.migration_heads"] = heads
    return heads


@no_patient_data("a readiness probe: the database answers and is migrated")
def readyz():
    app = current_app._get_current_object()
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as exc:
        db.session.rollback()
        log_failure(log, "readiness: the database did not answer", exc)
        return "database unavailable\n", 503, TEXT
    try:
        current = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    except sa.exc.DBAPIError:  # never migrated: no alembic_version table yet
        db.session.rollback()
        current = set()
    if current != set(_migration_heads(app)):
        return "migrations pending\n", 503, TEXT
    return "ready\n", 200, TEXT


def register(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])
