"""CCO administration: accounts, invitations, the outboxes of emails and texts."""

from flask import Blueprint, Flask

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin")


def init_app(app: Flask) -> None:
    from app.admin import views  # noqa: F401  (routes on bp)

    app.register_blueprint(bp)
