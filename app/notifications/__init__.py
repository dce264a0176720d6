"""Telling people something is waiting for them, by text or email, in their language, never
what it is about. Listens to `thread_answered`; `flask notifications send`."""

from flask import Blueprint, Flask

#: Templates only (the emails); no routes.
bp = Blueprint("notifications", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from app.core.signals import thread_answered
    from app.notifications.cli import notifications
    from app.notifications.services import team_replied

    thread_answered.connect(team_replied)
    app.register_blueprint(bp)
    app.cli.add_command(notifications)
