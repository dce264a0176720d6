"""Short links for texts: /r/<code> stands for a portal path.

A text stays within one segment and shows no record numbers on a lock screen. The code is
random (not derived from the path), one per path, and the target page still asks the reader to
sign in and passes the access policy like any other request.
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


def short_link(path: str) -> str:
    return public_url(f"/r/{code_for(path)}")


def resolve(code: str) -> str | None:
    return db.session.scalar(sa.select(ShortLink.path).where(ShortLink.code == code))
