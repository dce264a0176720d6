"""Two-step sign-in: a time-based code (TOTP, RFC 6238) from an authenticator app, or one of
ten single-use recovery codes.

pyotp computes the codes (the reference implementation the Python world uses); segno draws the
enrolment QR code as inline SVG on the server, so no image service or CDN ever sees the key.

- Required for the roles in MFA_REQUIRED_ROLES (care team and administrators by default): they
  enrol right after their password, before they get a session. Optional for patients and
  caregivers, from their account page.
- A code is good once: the time step it belongs to is stored, and a code from that step or an
  earlier one is refused (no replay of a code seen over a shoulder within its 30 seconds).
- Recovery codes are Argon2 hashes, like passwords; each works once.
- An administrator can reset a lost second factor (`reset`); it is audited and the user is
  told by email. The demo's staff share DEMO_MFA_SECRET (README); production refuses it.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app

from app.auth.models import MfaRecoveryCode, User
from app.auth.passwords import hash_password, verify_password
from app.core.db import utcnow
from app.extensions import db

#: The demo's staff accounts share this key so anyone trying the demo can sign in (README).
#: Production refuses it: `usable_secret` is False for it there.
DEMO_MFA_SECRET = "CARECIRCLEDEMOKEYFORSTAFF2345677"  # noqa: S105 - documented, refused in production

RECOVERY_CODES = 10
#: Codes from the step before and after the server's are accepted (phones' clocks drift).
WINDOW = 1
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed on a phone


class ChangedMeanwhile(Exception):
    """Two-step sign-in was set up by another request (a double submit) while this one ran."""


def required_for(user: User) -> bool:
    return user.role.value in current_app.config["MFA_REQUIRED_ROLES"]


def new_secret() -> str:
    return pyotp.random_base32()


def usable_secret(secret: str | None) -> bool:
    """A key that may sign someone in here: not the published demo key in production."""
    if not secret:
        return False
    return not (current_app.config["APP_ENV"] == "production" and secret == DEMO_MFA_SECRET)


def is_enrolled(user: User) -> bool:
    return user.mfa_enabled and usable_secret(user.mfa_secret)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["CCO_NAME"]
    )


def qr_svg(uri: str, title: str) -> str:
    """The enrolment QR code as an inline <svg> (no external image)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, title=title, dark="#111")


def spaced(secret: str) -> str:
    """The key in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for offset in range(-WINDOW, WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def check_code(secret: str, code: str) -> bool:
    """Whether `code` is right for a key not yet saved (enrolment)."""
    return usable_secret(secret) and _matching_step(secret, code, utcnow()) is not None


def verify(user: User, code: str) -> bool:
    """Whether `code` is a good, unused code from the user's app; uses it up. Atomic: two
    requests with the same code cannot both pass."""
    if not is_enrolled(user):
        return False
    step = _matching_step(user.mfa_secret, code, utcnow())
    if step is None:
        return False
    used = db.session.execute(
        sa.update(User)
        .where(
            User.id == user.id,
            sa.or_(User.mfa_last_step.is_(None), User.mfa_last_step < step),
        )
        .values(mfa_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        return False
    user.mfa_last_step = step
    return True


def use_recovery_code(user: User, code: str) -> bool:
    """Whether `code` is one of the user's unused recovery codes; uses it up."""
    typed = "".join(ch for ch in (code or "").lower() if ch.isalnum())
    if len(typed) != 10 or not is_enrolled(user):
        return False
    rows = db.session.scalars(
        sa.select(MfaRecoveryCode).where(
            MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None)
        )
    ).all()
    for row in rows:
        if verify_password(row.code_hash, typed):
            used = db.session.execute(
                sa.update(MfaRecoveryCode)
                .where(MfaRecoveryCode.id == row.id, MfaRecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return used.rowcount == 1
    return False


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(MfaRecoveryCode.id)).where(
            MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None)
        )
    )


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh codes (the old ones stop working); returns them to show once."""
    db.session.execute(sa.delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    now = utcnow()
    db.session.add_all(
        MfaRecoveryCode(user_id=user.id, code_hash=hash_password(code), created_at=now)
        for code in codes
    )
    db.session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def enable(user: User, secret: str, code: str) -> list[str] | None:
    """Turn two-step sign-in on with `secret` if `code` proves the app has it; returns the
    recovery codes to show once, or None when the code is wrong. Raises ChangedMeanwhile
    when another request changed the key first."""
    if not check_code(secret, code):
        return None
    # Atomic against a double submit: only the request that still sees the key it loaded
    # changes it; the other finds nothing to update (and shows no second set of codes).
    before = (
        User.mfa_secret.is_(None) if user.mfa_secret is None else User.mfa_secret == user.mfa_secret
    )
    now = utcnow()
    step = _matching_step(secret, code, now)
    changed = db.session.execute(
        sa.update(User)
        .where(User.id == user.id, before)
        .values(mfa_secret=secret, mfa_enabled_at=now, mfa_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise ChangedMeanwhile
    user.mfa_secret, user.mfa_enabled_at, user.mfa_last_step = secret, now, step
    return new_recovery_codes(user)


def disable(user: User) -> None:
    user.mfa_secret = None
    user.mfa_enabled_at = None
    user.mfa_last_step = None
    db.session.execute(sa.delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    db.session.flush()


def enrol_for_demo(user: User) -> None:
    """The demo's staff accounts: enrolled with the published demo key (never in production)."""
    if current_app.config["APP_ENV"] == "production":
        raise RuntimeError("The demo MFA key is refused in production")
    user.mfa_secret = DEMO_MFA_SECRET
    user.mfa_enabled_at = utcnow()
