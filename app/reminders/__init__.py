"""Reminder texts: planning (appointments, patient-chosen times), frequency caps and consent,
who gets them, and the patient's settings pages; `flask reminders dispatch|run`, the worker
that plans and then sends through `texting`."""

from flask import Blueprint, Flask

bp = Blueprint("reminders", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from app.core import audit
    from app.reminders import (
        replan,
        views,  # noqa: F401  (routes on bp)
    )
    from app.reminders.cli import reminders
    from app.reminders.labels import AUDIT_RESOURCES
    from app.reminders.recipients import still_wanted
    from app.texting.dispatcher import add_send_check

    audit.register_labels(resources=AUDIT_RESOURCES)
    replan.connect()
    add_send_check(app, still_wanted)
    app.register_blueprint(bp)
    app.cli.add_command(reminders)
