"""The patient's record: the summary, my details, preferences, "Who has seen my record"."""

from flask import Blueprint, Flask

bp = Blueprint("patients", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from app.core import audit
    from app.patients import home, portal, views  # noqa: F401  (routes on bp)
    from app.patients.labels import AUDIT_RESOURCES, pronouns_label

    audit.register_labels(resources=AUDIT_RESOURCES)
    app.register_blueprint(bp)
    app.add_template_filter(pronouns_label, "pronouns")  # "he/him" -> "él" (issue 16)
    home.register_globals(app)
