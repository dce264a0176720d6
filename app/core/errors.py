"""Friendly, translated error pages; 4xx for anything the client got wrong, never a 500."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

HANDLED = (400, 403, 404, 405, 409, 413, 422, 429)


def register(app: Flask) -> None:
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
