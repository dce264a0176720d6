"""One-time links that keep their token out of every URL but the first.

A link sent by email or text (/auth/welcome/<token>, /auth/reset/<token>,
/caregivers/accept/<token>) is a GET-only landing: it puts the token in this browser's signed
session and answers 303 to a clean address, where the page is shown and its forms are posted.
So the token is in one access-log line, never in a later request, a `?next=` or a Referer.

Landing checks nothing and uses nothing up: a broken or used link lands like a good one, and
the clean page says what is wrong with it, exactly as it would have at the token URL.
"""

from __future__ import annotations

from flask import redirect, session, url_for
from werkzeug.wrappers import Response

#: Longer than any token we issue; anything longer is stored as nothing (the clean page then
#: says the link is not right, as it would for the long token), so a hostile link cannot bloat
#: the session cookie.
MAX_TOKEN_LENGTH = 1024


def session_key(kind: str) -> str:
    """Where the token of one kind of link lives in the session (e.g. "link.welcome")."""
    return f"link.{kind}"


def land(kind: str, token: str, endpoint: str, **values) -> Response:
    """Keep the link's token for this browser and send it to the clean page (303)."""
    if len(token) <= MAX_TOKEN_LENGTH:
        session[session_key(kind)] = token
    else:
        forget(kind)
    return redirect(url_for(endpoint, **values), code=303)


def landed(kind: str) -> str | None:
    """The token of the last link of this kind this browser opened, if it still holds one."""
    token = session.get(session_key(kind))
    return token if isinstance(token, str) and token else None


def forget(kind: str) -> None:
    """The flow is over (or the link is dead): the browser no longer holds the token."""
    session.pop(session_key(kind), None)
