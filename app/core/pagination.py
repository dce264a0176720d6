"""The `?page=` argument and page counts, the same on every list page."""

from __future__ import annotations

from flask import abort, request

MAX_PAGE = 10_000


def page_arg() -> int:
    """The requested page (1 by default); anything out of range is a 404."""
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > MAX_PAGE:
        abort(404)
    return page


def page_count(total: int, per_page: int) -> int:
    return max(1, (total + per_page - 1) // per_page)
