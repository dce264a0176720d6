"""Accounts, sign-in (password, then a code for two-step sign-in) and server-side sessions,
one-time links (invitation, password reset, lifting a sign-in slow-down)."""

from flask import Blueprint, Flask

bp = Blueprint("auth", __name__, template_folder="templates", url_prefix="/auth")


def init_app(app: Flask) -> None:
    from app.auth import mfa_views, views  # noqa: F401  (routes on bp)
    from app.auth.labels import AUDIT_RESOURCES
    from app.auth.services import load_session_user
    from app.auth.views import unauthorized
    from app.core import audit
    from app.extensions import login_manager

    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)
    login_manager.unauthorized_handler(unauthorized)
    audit.register_labels(resources=AUDIT_RESOURCES)
    app.register_blueprint(bp)
