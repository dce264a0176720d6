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

    # Never the bound values in an error message, even when an override (a test, a deployment)
    # gives its own engine options.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        "hide_parameters": True,
    }
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
