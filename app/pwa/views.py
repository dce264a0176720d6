"""The web app manifest, the service worker and the offline page.

None of them carries health data or depends on who asks: they are the app shell
(`@app_shell`, app/core/assets.py): cached, compressed, answered without saving the session.
The service worker keeps only the app shell on the phone (templates/pwa/sw.js).
"""

from __future__ import annotations

import json

from babel import Locale
from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale

from app.core.access import no_patient_data
from app.core.assets import Asset, answer, app_shell, digest_of, registry, static_url, stylesheets
from app.pwa import bp

#: The manifest's icons: (file under app/static, sizes, type, purpose). The PNGs were drawn
#: once from the favicon's mark (a white ring and dot on the brand green); the maskable one
#: keeps the mark inside the middle 80 % that every launcher shape shows.
ICONS = (
    ("icons/icon-192.png", "192x192", "image/png", "any"),
    ("icons/icon-512.png", "512x512", "image/png", "any"),
    ("icons/icon-maskable-512.png", "512x512", "image/png", "maskable"),
    ("favicon.svg", "any", "image/svg+xml", "any"),
)
APPLE_TOUCH_ICON = "icons/apple-touch-icon.png"
SPRITE = "icons/sprite.svg"
#: The offline page of one language may be kept for a day (it has no fingerprint; the service
#: worker fetches it afresh whenever it installs).
OFFLINE_CACHE = "public, max-age=86400"


def theme_color() -> str:
    """The header's colour (--brand in carecircle.css): the phone's status bar matches it."""
    return registry().css_variable("brand", "#0b6e4f")


def background_color() -> str:
    """The page background (--wash): the splash screen while the installed app starts."""
    return registry().css_variable("wash", "#f3f6f5")


def _languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def _manifest() -> Asset:
    root = request.script_root + "/"
    data = {
        "id": root,
        "name": "CareCircle",
        "short_name": "CareCircle",
        "start_url": root,
        "scope": root,
        "display": "standalone",
        "theme_color": theme_color(),
        "background_color": background_color(),
        "icons": [
            {"src": static_url(name), "sizes": sizes, "type": kind, "purpose": purpose}
            for name, sizes, kind, purpose in ICONS
        ],
    }
    body = json.dumps(data, indent=2).encode()
    return Asset(body, digest_of(body), "application/manifest+json")


def manifest_asset() -> Asset:
    return registry().memo("manifest", _manifest, key=request.script_root)


def manifest_url() -> str:
    return url_for("pwa.manifest", v=manifest_asset().digest)


@bp.route("/manifest.webmanifest", methods=["GET"])
@app_shell("the installable app's name, colours and icons")
def manifest():
    return answer(manifest_asset(), request.args.get("v"))


def _offline_page(lang: str) -> Asset:
    def build() -> Asset:
        with force_locale(lang):
            direction = "rtl" if Locale.parse(lang).character_order == "right-to-left" else "ltr"
            body = render_template("pwa/offline.html", lang=lang, direction=direction).encode()
        return Asset(body, digest_of(body), "text/html")

    return registry().memo(f"offline-{lang}", build, key=request.script_root)


@bp.route("/offline", methods=["GET"])
@no_patient_data("sends the visitor to the offline page in their language")
def offline_here():
    """The offline page in the visitor's language (a redirect, kept by nobody)."""
    lang = str(get_locale())
    if lang not in _languages():
        lang = current_app.config["BABEL_DEFAULT_LOCALE"]
    return redirect(url_for("pwa.offline", lang=lang))


@bp.route("/offline/<lang>", methods=["GET"])
@app_shell("a page with nobody's data, for when the phone has no connection")
def offline(lang: str):
    if lang not in _languages():
        abort(404)
    return answer(_offline_page(lang), None, cache_control=OFFLINE_CACHE)


def _precache() -> list[str]:
    """The app shell: the stylesheet, the icon sprite, the icons, the offline pages."""
    urls = [*stylesheets(), static_url(SPRITE)]
    urls += [static_url(name) for name, *_ in ICONS]
    urls += [url_for("pwa.offline", lang=lang) for lang in _languages()]
    return list(dict.fromkeys(urls))


def _service_worker() -> Asset:
    precache = _precache()
    offline_urls = {lang: url_for("pwa.offline", lang=lang) for lang in _languages()}
    source = current_app.jinja_env.loader.get_source(current_app.jinja_env, "pwa/sw.js")[0]
    pages = "".join(_offline_page(lang).digest for lang in _languages())
    # A new stylesheet, icon, offline page or worker is a new version: browsers install it
    # (its bytes differ) and it replaces the old cache.
    version = digest_of(json.dumps([precache, pages, source]).encode())
    body = render_template(
        "pwa/sw.js",
        version=version,
        precache=precache,
        offline=offline_urls,
        chosen=url_for("pwa.offline_here"),
        default_language=current_app.config["BABEL_DEFAULT_LOCALE"],
    ).encode()
    return Asset(body, version, "text/javascript")


@bp.route("/sw.js", methods=["GET"])
@app_shell("the service worker: keeps the app shell, never a page")
def service_worker():
    """Always revalidated (`no-cache`), so a new release's worker is seen on the next visit."""
    return answer(registry().memo("sw", _service_worker, key=request.script_root), None)
