"""Accounts, sign-in and server-side sessions, one-time links (invitation, password reset)."""

from flask import Blueprint, Flask

bp = Blueprint("auth", __name__, template_folder="templates", url_prefix="/auth")


def init_app(app: Flask) -> None:
    from app.auth import views  # noqa: F401  (routes on bp)
    from app.auth.services import load_session_user
    from app.auth.views import unauthorized
    from app.extensions import login_manager

    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session_user)
    login_manager.unauthorized_handler(unauthorized)
    app.register_blueprint(bp)
