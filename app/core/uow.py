"""One transaction per request.

Views and services only add and flush. After the view returns, `after_request` commits when the
response is a success or a redirect, and otherwise rolls back everything but the record of who
looked (`_commit_audit_only`).
Side effects (email, SMS) registered with `on_commit` run only after a successful commit, so a
failed request never sends a message about something that did not happen.

Work registered with `after_response` runs once the response has gone to the client (the WSGI
server closes it), in its own app context and transaction: whatever it does, or does not do,
cannot show in how long the answer took (a password reset for a known or unknown email).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, after_this_request, current_app, g, has_request_context

from app.core import audit
from app.core.errors import log_failure
from app.extensions import db

log = logging.getLogger(__name__)


#: Set on the session of work run after the response: what to do once it has committed.
DETACHED_ON_COMMIT = "on_commit_after_response"


def on_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once this request (or this work after the response) has committed."""
    session = db.session()
    if DETACHED_ON_COMMIT in session.info:
        session.info[DETACHED_ON_COMMIT].append(callback)
    else:
        g.setdefault("on_commit", []).append(callback)


def can_defer() -> bool:
    """Whether on_commit has somewhere to wait: a request, or work after the response."""
    return has_request_context() or DETACHED_ON_COMMIT in db.session().info


def after_response(callback: Callable[[], None]) -> None:
    """Run `callback` after this request's response has been sent, in a fresh app context and
    its own transaction; what it defers with `on_commit` (emails) runs after that commits. A
    failure is logged (without its message) and rolled back: the user has their answer."""
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            session = db.session()
            session.info[DETACHED_ON_COMMIT] = []
            try:
                callback()
                deferred = list(session.info[DETACHED_ON_COMMIT])
                db.session.commit()
                for later in deferred:
                    later()
            except Exception as exc:
                log_failure(log, "work after the response failed", exc)
                db.session.rollback()
            finally:
                session.info.pop(DETACHED_ON_COMMIT, None)
                db.session.remove()

    @after_this_request
    def attach(response: Response) -> Response:
        response.call_on_close(run)
        return response


def _commit_audit_only(events: list[dict]) -> None:
    """After a failed request: roll back, then keep who looked and what was refused. A change
    event would claim something happened that was just rolled back, so it is dropped."""
    db.session.rollback()
    events = [event for event in events if event["action"] in audit.KEPT_ON_FAILURE]
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
                except Exception as exc:  # a side effect must not undo a committed change
                    log_failure(log, "after-commit side effect failed", exc)
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
        except Exception as exc:
            log_failure(log, "could not write audit events after a failed request", exc)
            db.session.rollback()
