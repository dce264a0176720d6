"""Threads between a patient (and caregivers) and the whole care team: routing by topic, the
team inbox, read state, response times; `flask messaging digest`."""

from flask import Blueprint, Flask

bp = Blueprint("messaging", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from app.core import audit
    from app.messaging import views  # noqa: F401  (routes on bp)
    from app.messaging.attachments import cli as attachment_cli  # noqa: F401  (commands)
    from app.messaging.attachments import views as attachment_views  # (routes on bp)
    from app.messaging.cli import messaging
    from app.messaging.labels import AUDIT_RESOURCES

    audit.register_labels(resources=AUDIT_RESOURCES)
    audit.register_labels(resources=attachment_views.AUDIT_RESOURCES)
    app.register_blueprint(bp)
    app.cli.add_command(messaging)
