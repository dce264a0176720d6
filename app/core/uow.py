"""One transaction per request.

Views and services only add and flush. After the view returns, `after_request` commits when the
response is a success or a redirect, and otherwise rolls back everything but the record of who
looked (`_commit_audit_only`).
Side effects (email, SMS) registered with `on_commit` run only after a successful commit, so a
failed request never sends a message about something that did not happen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, g

from app.core import audit
from app.extensions import db

log = logging.getLogger(__name__)


def on_commit(callback: Callable[[], None]) -> None:
    g.setdefault("on_commit", []).append(callback)


def _commit_audit_only(events: list[dict]) -> None:
    """After a failed request: roll back, then keep who looked. A change event would claim
    something happened that was just rolled back, so only views are written."""
    db.session.rollback()
    events = [event for event in events if event["action"] == "view"]
    if events:
        audit.write(db.session, events)
        db.session.commit()


def register(app: Flask) -> None:
    @app.after_request
    def finish_transaction(response: Response) -> Response:
        events = audit.pending_events()
        if response.status_code < 400:
            audit.write(db.session, events)
            db.session.commit()
            g.pending_audit = []
            for callback in g.pop("on_commit", []):
                try:
                    callback()
                except Exception:  # a side effect must not undo a committed change
                    log.exception("after-commit side effect failed")
        else:
            _commit_audit_only(events)
            g.pending_audit = []
            g.pop("on_commit", None)
        return response

    @app.teardown_request
    def rollback_on_error(exc: BaseException | None) -> None:
        if exc is None:
            return
        events = audit.pending_events()
        try:
            _commit_audit_only(events)
        except Exception:
            log.exception("could not write audit events after a failed request")
            db.session.rollback()
