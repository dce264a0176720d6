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
import traceback
from collections.abc import Callable

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db

log = logging.getLogger(__name__)

HANDLED = (400, 403, 404, 405, 409, 413, 422, 429)

#: Machine APIs that answer errors in their own format, by URL prefix ("/fhir": a FHIR
#: OperationOutcome), set by their domain's init_app. A routing 404 or 405, or a 413 raised
#: before any view, belongs to no blueprint, so a blueprint's own handler never sees it.
API_ERRORS: dict[str, Callable[[HTTPException], object]] = {}


def _api_errors() -> Callable[[HTTPException], object] | None:
    path = request.path
    for prefix, render in API_ERRORS.items():
        if path == prefix or path.startswith(prefix + "/"):
            return render
    return None


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


def sqlstate(exc: BaseException) -> str | None:
    """The database's error code (PostgreSQL's SQLSTATE, SQLite's error name), if any."""
    for candidate in (getattr(exc, "orig", None), exc):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "sqlite_errorname", None)
        if code:
            return str(code)
    return None


def describe(exc: BaseException) -> str:
    """An exception for a log line: its class and SQLSTATE, never its message. A database
    error's message carries the statement's values and PostgreSQL's DETAIL ("Key
    (phone)=(+1503...) already exists"); other messages may quote user input too."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    code = sqlstate(exc)
    return f"{name} (SQLSTATE {code})" if code else name


def safe_trace(exc: BaseException) -> str:
    """Where it happened: each exception of the chain (cause or context) described, with its
    frames (file, line, function, source line), and no message or local values."""
    parts, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_list(traceback.extract_tb(current.__traceback__)))
        parts.append(f"{describe(current)}\n{frames}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    # Oldest first, as Python prints a chain.
    return "which led to\n".join(reversed(parts)).rstrip()


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """`logger.exception` without the message: `what`, then `safe_trace(exc)`."""
    logger.error("%s: %s\n%s", what, describe(exc), safe_trace(exc))


class _NoResultRows(logging.Filter):
    """SQLAlchemy logs each result row at DEBUG (names, phones, message bodies): never."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _body(rendered: object) -> object:
    return rendered[0] if isinstance(rendered, tuple) else rendered


def register(app: Flask) -> None:
    # Flask's own record of a 500 is the traceback with each exception's message in it; the
    # handler below logs the 500 without them.
    app.log_exception = lambda exc_info: None
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    if not any(isinstance(f, _NoResultRows) for f in engine_log.filters):
        engine_log.addFilter(_NoResultRows())

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
        if (api := _api_errors()) is not None and code < 500:
            return api(error)
        if code not in HANDLED:
            if code >= 500:
                return render_template("errors/error.html", code=500), 500
            return error
        response = render_template("errors/error.html", code=code)
        return response, code

    @app.errorhandler(InternalServerError)
    def server_error(error):
        original = getattr(error, "original_exception", None)
        where = f"{request.method} {request.endpoint or '(no endpoint)'}"
        if original is None:
            log.error("500 on %s", where)
        else:
            log_failure(log, f"500 on {where}", original)
        # A failed statement leaves the session unusable, and the page reads (the menu's
        # badges): start again, or the error page itself fails (and is logged in full).
        try:
            db.session.rollback()
        except Exception as exc:  # the database is gone: the page still renders what it can
            log.error("rollback after a 500 failed: %s", describe(exc))
        if (api := _api_errors()) is not None:
            return api(InternalServerError())
        return render_template("errors/error.html", code=500), 500
