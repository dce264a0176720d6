"""The patient's record: the summary, my details, preferences, "Who has seen my record"."""

from flask import Blueprint, Flask

bp = Blueprint("patients", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from app.core import audit
    from app.patients import home, views  # noqa: F401  (routes on bp)
    from app.patients.labels import AUDIT_RESOURCES

    audit.register_labels(resources=AUDIT_RESOURCES)
    app.register_blueprint(bp)
    home.register_globals(app)
