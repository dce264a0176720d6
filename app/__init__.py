"""CareCircle: a mobile-first patient portal for a Coordinated Care Organization."""

from __future__ import annotations

import logging

from flask import Flask, g, request
from flask_babel import gettext as _

from config import INSTANCE_DIR, config_for


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
    register_blueprints(app)
    register_hooks(app)
    register_cli(app)
    return app


def import_models() -> None:
    """Import every model so metadata (and Alembic) sees all tables."""
    from app.auth import models as _auth  # noqa: F401
    from app.caregivers import models as _caregivers  # noqa: F401
    from app.careplan import models as _careplan  # noqa: F401
    from app.core import audit as _audit  # noqa: F401
    from app.core import mail as _mail  # noqa: F401
    from app.messaging import models as _messaging  # noqa: F401
    from app.notifications import models as _notifications  # noqa: F401
    from app.patients import models as _patients  # noqa: F401
    from app.reminders import models as _reminders  # noqa: F401
    from app.team import models as _team  # noqa: F401


def register_extensions(app: Flask) -> None:
    import_models()
    from app.core import i18n
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate

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
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    from app.auth.services import load_session_user

    login_manager.user_loader(load_session_user)

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import flash, redirect, url_for

        reason = g.get("session_end_reason")
        if reason == "idle":
            flash(
                _("You were signed out because you were away for a while. Please sign in again."),
                "info",
            )
        elif reason in ("expired", "ended"):
            flash(_("Your session ended. Please sign in again."), "info")
        else:
            flash(_("Please sign in to see this page."), "info")
        next_path = request.full_path if request.method == "GET" else None
        if next_path and next_path.endswith("?"):
            next_path = next_path[:-1]
        return redirect(url_for("auth.login", next=next_path))

    from app.caregivers.policy import CareCirclePolicy
    from app.core import access

    access.install(app, CareCirclePolicy())


def register_blueprints(app: Flask) -> None:
    from app import admin, auth, caregivers, careplan, messaging, patients, reminders, team
    from app.admin import views as _admin_views  # noqa: F401
    from app.auth import views as _auth_views  # noqa: F401
    from app.caregivers import team_views as caregiver_team_views
    from app.caregivers import views as _caregiver_views  # noqa: F401
    from app.careplan import decisions_views as _decision_views  # noqa: F401
    from app.careplan import goals_views as _goal_views  # noqa: F401
    from app.careplan import views as _careplan_views  # noqa: F401
    from app.core import i18n
    from app.messaging import views as _messaging_views  # noqa: F401
    from app.patients import views as _patient_views  # noqa: F401
    from app.reminders import views as _reminder_views  # noqa: F401
    from app.reminders import webhooks as _webhooks  # noqa: F401
    from app.team import views as _team_views  # noqa: F401

    i18n.register(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(patients.bp)
    app.register_blueprint(caregivers.bp)
    app.register_blueprint(caregiver_team_views.bp)
    app.register_blueprint(careplan.bp)
    app.register_blueprint(messaging.bp)
    app.register_blueprint(reminders.bp)
    app.register_blueprint(team.bp)
    app.register_blueprint(admin.bp)


def register_hooks(app: Flask) -> None:
    from app.core import errors, security, templating, uow

    uow.register(app)
    security.register(app)
    errors.register(app)
    templating.register(app)


def register_cli(app: Flask) -> None:
    from app import demo
    from app.core import cli

    cli.register(app)
    app.cli.add_command(demo.demo)
    from app.notifications import cli as notification_cli

    app.cli.add_command(notification_cli.notifications)
    app.cli.add_command(notification_cli.messaging)
    from app.reminders import cli as reminder_cli

    app.cli.add_command(reminder_cli.reminders)
    from app.caregivers import cli as caregiver_cli

    app.cli.add_command(caregiver_cli.caregivers)
