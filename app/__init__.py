"""CareCircle: a mobile-first patient portal for a Coordinated Care Organization."""

from __future__ import annotations

import importlib
import logging

from flask import Flask

from config import INSTANCE_DIR, config_for

#: The domains, each a package with `init_app(app)`: its blueprint (which imports its own
#: views), its CLI commands, its audit labels and the signals it listens to.
DOMAINS = (
    "auth",
    "patients",
    "team",
    "caregivers",
    "careplan",
    "messaging",
    "notifications",
    "reminders",
    "texting",
    "admin",
    "pwa",
    "fhir",
    "screening",
    "metrics",
)


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    config_class = config_for(config_name)
    app.config.from_object(config_class)
    if overrides:
        app.config.update(overrides)
    config_class.validate(app.config)
    if app.config["APP_ENV"] != "production":
        # The demo and the tests use the reserved .test domain, which email-validator refuses
        # unless told it runs in a test environment.
        import email_validator

        email_validator.TEST_ENVIRONMENT = True
    app.config["PERMANENT_SESSION_LIFETIME"] = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("alembic").setLevel(logging.WARNING)

    register_extensions(app)
    from app.core.urls import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added
    for name in DOMAINS:
        importlib.import_module(f"app.{name}").init_app(app)
    register_core(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    from app.core import i18n
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(app.root_path + "/../migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    limiter.init_app(app)
    login_manager.init_app(app)


def engine_options(config: dict) -> dict:
    """The engine options whatever an override (a test, a deployment) gives: never the bound
    values in an error message, a connection tested before use (a database or PgBouncer
    restart), and, behind PgBouncer in transaction mode, no prepared statements.

    PgBouncer (DATABASE_PGBOUNCER=1, or `?prepare_threshold=` in DATABASE_URL) hands each
    transaction whichever server connection is free, so nothing may live in a connection
    between transactions: psycopg prepares a statement run 5 times on a connection and would
    then execute it by name on a connection that never saw it. The URL's value is taken off
    the URL (psycopg would get it as a string) and given to psycopg: empty or "none" turns
    preparing off, a number sets the threshold (PgBouncer 1.21+ with max_prepared_statements).
    """
    import sqlalchemy as sa

    options = {**config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), "hide_parameters": True}
    options.setdefault("pool_pre_ping", True)
    url = sa.make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        return options
    given = url.query.get("prepare_threshold")
    if given is None and "prepare_threshold=" in config["SQLALCHEMY_DATABASE_URI"]:
        given = ""  # `?prepare_threshold=` with no value: make_url drops it
    if given is None and not config.get("DATABASE_PGBOUNCER"):
        return options
    if given is not None:
        url = url.difference_update_query(["prepare_threshold"])
        config["SQLALCHEMY_DATABASE_URI"] = url.render_as_string(hide_password=False)
    if isinstance(given, tuple):  # the parameter given twice: the last one counts
        given = given[-1]
    try:
        threshold = None if given is None or given.strip().lower() in ("", "none") else int(given)
    except ValueError as exc:
        raise RuntimeError(
            f"DATABASE_URL: prepare_threshold must be a number or none: {given!r}"
        ) from exc
    options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": threshold}
    return options


def register_core(app: Flask) -> None:
    """Request hooks, errors and templates, after the domains so their hooks run inside."""
    from app.core import errors, health, i18n, security, templating, uow

    health.register(app)
    i18n.register(app)
    uow.register(app)
    security.register(app)
    errors.register(app)
    templating.register(app)


def register_cli(app: Flask) -> None:
    from app import demo
    from app.core import cli

    cli.register(app)
    app.cli.add_command(demo.demo)
