"""Short links for texts: /r/<code> stands for a portal path.

A text stays within one segment and shows no record numbers on a lock screen. The code is
random (not derived from the path), and the target page still asks the reader to sign in and
passes the access policy like any other request.

Every text gets its own code (`short_link`), even two texts about the same thread: so no two
texts have the same words, and when the dispatcher has to ask Twilio whether a text went out
(docs/texting.md) the body it looks for is that text's alone. Such a code is stored with the
path plus "#<code>" (ShortLink.path is unique); `resolve` gives the bare path. `code_for`
still gives one code per path, for pages that show a link.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core.urls import public_url
from app.extensions import db
from app.texting.models import ShortLink

ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I
CODE_LENGTH = 7
MAX_CODE_LENGTH = 16  # the column; anything longer is not a code
#: Separates the path from the code in a per-text link's stored path (never in a portal path).
TEXT_MARK = "#"


def _new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_for(path: str) -> str:
    """The code for `path`, made on first use. Safe when two requests race for the same path."""
    found = db.session.scalar(sa.select(ShortLink.code).where(ShortLink.path == path))
    if found is not None:
        return found
    for _attempt in range(5):
        code = _new_code()
        try:
            with db.session.begin_nested():
                db.session.add(ShortLink(code=code, path=path))
        except IntegrityError:
            found = db.session.scalar(sa.select(ShortLink.code).where(ShortLink.path == path))
            if found is not None:
                return found  # another request made it first
            continue  # the random code was taken: draw again
        return code
    raise RuntimeError("could not make a short link")


def text_code(path: str) -> str:
    """A new code for `path`, for one text (never shared with another text)."""
    for _attempt in range(5):
        code = _new_code()
        try:
            with db.session.begin_nested():
                db.session.add(ShortLink(code=code, path=f"{path}{TEXT_MARK}{code}"))
        except IntegrityError:
            continue  # the random code was taken: draw again
        return code
    raise RuntimeError("could not make a short link")


def short_link(path: str) -> str:
    """The link to put in one text: a code of its own (see the module doc)."""
    return public_url(f"/r/{text_code(path)}")


def resolve(code: str) -> str | None:
    path = db.session.scalar(sa.select(ShortLink.path).where(ShortLink.code == code))
    return path.partition(TEXT_MARK)[0] if path is not None else None
