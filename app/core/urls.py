"""Links: safe redirects (only to a path on this site) and public links for texts and emails.

Links that leave the building (emails, texts, Twilio's signature check) are built from
PUBLIC_BASE_URL, never from the request's Host header, which a client controls.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def safe_next(target: str | None, default: str) -> str:
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    return target


def public_url(path: str) -> str:
    """The absolute address of a path on this site, for a link sent to someone."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def public_url_for(endpoint: str, **values) -> str:
    """`url_for` made absolute on PUBLIC_BASE_URL; works in jobs too, where no request is."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)
