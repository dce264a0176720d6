"""Organizations, care team members, each patient's care team, "My patients"."""

from flask import Blueprint, Flask

bp = Blueprint("team", __name__, template_folder="templates", url_prefix="/team")


def init_app(app: Flask) -> None:
    from app.core import audit
    from app.team import sorting, views  # noqa: F401  (the sort key event; routes on bp)
    from app.team.labels import AUDIT_RESOURCES

    app.register_blueprint(bp)
    audit.register_labels(resources=AUDIT_RESOURCES)
