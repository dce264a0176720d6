"""The installable app: the web app manifest, the service worker, the offline page, and the
app shell they stand on (one stylesheet, fingerprinted static files: app/core/assets.py)."""

from flask import Blueprint, Flask

bp = Blueprint("pwa", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from app.core import assets
    from app.pwa import views

    assets.register(app)
    app.jinja_env.globals.update(manifest_url=views.manifest_url, theme_color=views.theme_color)
    app.register_blueprint(bp)
