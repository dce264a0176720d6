"""Security headers on every response, trusting a reverse proxy only when told to, and one rule
for control characters in what a client sends."""

from __future__ import annotations

import re

from flask import Flask, Response, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.core.assets import is_app_shell

#: C0 control characters but tab, line feed and carriage return, and DEL: nobody types them,
#: PostgreSQL refuses NUL in text, and escapes in names would reach logs and screens.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters() -> bool:
    """Anywhere in the path, the query string or the form (names and values)."""
    if CONTROL_CHARACTERS.search(request.path):
        return True
    for data in (request.args, request.form):
        for key, values in data.lists():
            if CONTROL_CHARACTERS.search(key) or any(CONTROL_CHARACTERS.search(v) for v in values):
                return True
    return False


CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        # The service worker (/sw.js) and the web app manifest, from this site only.
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register(app: Flask) -> None:
    proxies = app.config["TRUSTED_PROXY_COUNT"]
    if proxies:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )

    @app.before_request
    def refuse_control_characters():
        if has_control_characters():
            abort(400)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # Links in emails carry one-time tokens: never leak a URL to another site. Same-origin
        # (not no-referrer): over HTTPS, Flask-WTF refuses a form POST whose Referer is not this
        # site, so with no Referer at all every sign-in and form would be a 400.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if is_app_shell(request.endpoint) and response.status_code in (200, 304):
            # Static files, the stylesheet, the manifest, the service worker, the offline
            # page: no health data, no session (app/core/assets.py). They say how long.
            headers.setdefault("Cache-Control", "no-cache")
        else:
            # Pages may show health information: no shared or back-button caches. So does
            # every error, an app-shell one included (an unknown fingerprint is kept by nobody).
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
