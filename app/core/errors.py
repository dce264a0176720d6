"""Friendly, translated error pages; 4xx for anything the client got wrong, never a 500.

`RuleError` is the one way a service refuses an action its rules do not allow ("this goal is
closed", "only the care team can do this"). Its message is translated and shown as it is. The
one handler answers a 4xx (409 unless the rule says otherwise), so the request hook rolls back
everything but the trace of who looked: a refused action never reads as "Changed" on "Who has
seen my record". A view that wants the refusal shown on its own page (with the user's input
kept) says how with `on_rule_error(page=...)` before it calls the service; otherwise a plain
page explains and links back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

HANDLED = (400, 403, 404, 405, 409, 413, 422, 429)


class RuleError(Exception):
    """An action the rules do not allow. `message` is translated and shown to the user."""

    status = 409

    def __init__(self, message: object, *, status: int | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        if status is not None:
            if not 400 <= status < 500:
                raise ValueError("a RuleError answers a 4xx")
            self.status = status


def on_rule_error(*, page: Callable[[], object] | None = None, back: str | None = None) -> None:
    """How to show a RuleError raised later in this request: re-render `page()` (its own
    status is replaced by the rule's), or the plain page with a link to `back`."""
    g.rule_error_page = page
    g.rule_error_back = back


def _body(rendered: object) -> object:
    return rendered[0] if isinstance(rendered, tuple) else rendered


def register(app: Flask) -> None:
    @app.errorhandler(RuleError)
    def rule_error(error: RuleError):
        g.rule_error = error.message  # base.html shows it at the top of the page
        page = g.pop("rule_error_page", None)
        if page is not None:
            return _body(page()), error.status
        return (
            render_template("errors/rule.html", back=g.pop("rule_error_back", None)),
            error.status,
        )

    @app.context_processor
    def rule_error_message():
        return {"rule_error": g.get("rule_error")}

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template("errors/error.html", code=400, csrf=True), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code not in HANDLED:
            if code >= 500:
                return render_template("errors/error.html", code=500), 500
            return error
        response = render_template("errors/error.html", code=code)
        return response, code

    @app.errorhandler(InternalServerError)
    def server_error(error):
        log.error(
            "unhandled error on %s",
            error.original_exception.__class__.__name__
            if getattr(error, "original_exception", None)
            else "request",
        )
        return render_template("errors/error.html", code=500), 500
