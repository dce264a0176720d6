"""Links: safe redirects (only to a path on this site) and public links for texts and emails.

Links that leave the building (emails, texts, Twilio's signature check) are built from
PUBLIC_BASE_URL, never from the request's Host header, which a client controls.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, request
from werkzeug.routing import IntegerConverter

#: Ids are PostgreSQL `integer`s: anything above this names nothing (and would be a database
#: error, not an answer, if it reached a query).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: 1 to MAX_ID. Anything else matches no page, so a huge or
    zero id is the same 404 as an id that does not exist."""

    def __init__(self, url_map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(url_map, fixed_digits, min, max, signed)


def id_arg(name: str) -> int | None:
    """An id from the query string or form (None when absent); a value that cannot be an id
    is a 404, like one in the path."""
    raw = request.values.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        abort(404)
    if not 1 <= value <= MAX_ID:
        abort(404)
    return value


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
