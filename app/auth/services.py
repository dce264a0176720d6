"""Account services: authentication with lockout, server-side sessions, one-time links.

Services add and flush; the request hook commits (see app.core.uow).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request, session
from flask_login import login_user, logout_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.auth.models import AccountToken, Role, TokenPurpose, User, UserSession, hash_token
from app.auth.passwords import burn_time, hash_password, needs_rehash, verify_password
from app.core.db import utcnow
from app.core.mail import send_template
from app.core.urls import public_url_for
from app.extensions import db

log = logging.getLogger(__name__)

SESSION_KEY = "sid"
TOUCH_EVERY = timedelta(seconds=60)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def create_account(
    *,
    email: str,
    full_name: str,
    role: Role,
    locale: str | None = None,
    timezone: str | None = None,
    password: str | None = None,
    password_hash: str | None = None,
) -> User:
    """A new account. Without a password it cannot sign in until its owner sets one (from an
    invitation link). The language is kept only if we ship it."""
    user = User(
        email=normalise_email(email),
        full_name=full_name.strip(),
        role=role,
        locale=locale if locale in current_app.config["LANGUAGES"] else None,
        timezone=timezone or current_app.config["BABEL_DEFAULT_TIMEZONE"],
        password_hash=password_hash,
    )
    if password is not None:
        set_password(user, password)
    elif password_hash is not None:
        user.password_changed_at = utcnow()
    db.session.add(user)
    db.session.flush()
    return user


# ---------------------------------------------------------------- authentication


def authenticate(email: str, password: str) -> User | None:
    """Return the user if the password is right and the account may sign in.

    Unknown, locked, deactivated and not-yet-activated accounts fail exactly like a wrong
    password (same answer, same Argon2 effort), so the login form reveals nothing.
    Each failure counts; reaching LOGIN_MAX_FAILURES locks the account for a while.
    """
    user = find_user_by_email(email)
    now = utcnow()
    if user is None or not user.active or not user.has_password or user.is_locked(now):
        burn_time(password)
        return None
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
            user.failed_logins = 0
            log.warning("account %s locked after repeated failed logins", user.id)
        db.session.flush()
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_until = None


# ---------------------------------------------------------------- sessions


def idle_limit(user: User) -> timedelta:
    cfg = current_app.config
    if user.role in (Role.CARE_TEAM, Role.ADMIN):
        return timedelta(minutes=cfg["CARE_TEAM_IDLE_MINUTES"])
    return timedelta(minutes=cfg["PATIENT_IDLE_MINUTES"])


#: Session keys a domain registers because they belong to the browser, not to who signs in
#: (a caregiver invitation's code entered before signing in to accept it).
KEPT_AT_SIGN_IN: set[str] = set()


def start_session(user: User) -> UserSession:
    """Sign the user in on this device with a fresh session id (no fixation). What this
    browser proved before signing in (KEPT_AT_SIGN_IN) survives it."""
    kept = {key: session[key] for key in KEPT_AT_SIGN_IN if key in session}
    session.clear()
    session.update(kept)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        token_hash=hash_token(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"]),
        ip_address=request.remote_addr if has_request_context() else None,
        user_agent=(request.user_agent.string or "")[:255] if has_request_context() else None,
    )
    db.session.add(row)
    db.session.flush()
    session[SESSION_KEY] = token
    session.permanent = True
    login_user(user)
    g.user_session = row
    return row


def end_session(reason: str) -> None:
    """End this device's session row, so the cookie (and any copy of it) is dead everywhere."""
    token = session.get(SESSION_KEY)
    if token:
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.token_hash == hash_token(token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason)
            .execution_options(synchronize_session=False)
        )
    g.pop("user_session", None)
    logout_user()
    session.clear()


def end_all_sessions(user_id: int, reason: str) -> int:
    result = db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    return result.rowcount or 0


def load_session_user(user_id: str) -> User | None:
    """flask-login's user loader: the cookie is only good while its server-side row is."""
    token = session.get(SESSION_KEY)
    if not token:
        return None
    row = db.session.execute(
        sa.select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == hash_token(token), UserSession.ended_at.is_(None))
    ).first()
    if row is None:
        g.session_end_reason = "ended"
        return None
    user_session, user = row
    if str(user.id) != str(user_id) or not user.active:
        return None
    now = utcnow()
    if user_session.expires_at <= now:
        user_session.ended_at, user_session.end_reason = now, "expired"
        g.session_end_reason = "expired"
        return None
    if now - user_session.last_seen_at > idle_limit(user):
        user_session.ended_at, user_session.end_reason = now, "idle"
        g.session_end_reason = "idle"
        return None
    if now - user_session.last_seen_at > TOUCH_EVERY:
        user_session.last_seen_at = now
    g.user_session = user_session
    return user


# ---------------------------------------------------------------- one-time links


class TokenError(Exception):
    pass


def _serializer(purpose: TokenPurpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"carecircle.{purpose}")


def _max_age(purpose: TokenPurpose) -> timedelta:
    cfg = current_app.config
    if purpose is TokenPurpose.INVITATION:
        return timedelta(hours=cfg["INVITATION_MAX_AGE_HOURS"])
    return timedelta(minutes=cfg["PASSWORD_RESET_MAX_AGE_MINUTES"])


def issue_token(user: User, purpose: TokenPurpose, created_by: User | None = None) -> str:
    """Create a signed, expiring, single-use token; earlier unused ones of the same kind die."""
    now = utcnow()
    db.session.execute(
        sa.update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    secret = secrets.token_urlsafe(24)
    row = AccountToken(
        user_id=user.id,
        purpose=purpose,
        secret_hash=hash_token(secret),
        created_at=now,
        expires_at=now + _max_age(purpose),
        created_by_id=created_by.id if created_by else None,
    )
    db.session.add(row)
    db.session.flush()
    return _serializer(purpose).dumps({"t": row.id, "s": secret})


def check_token(token: str, purpose: TokenPurpose) -> AccountToken:
    """Return the live token row, or raise TokenError. Does not use it up."""
    try:
        payload = _serializer(purpose).loads(token, max_age=int(_max_age(purpose).total_seconds()))
    except SignatureExpired as exc:
        raise TokenError("expired") from exc
    except BadSignature as exc:
        raise TokenError("invalid") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("t"), int):
        raise TokenError("invalid")
    row = db.session.scalar(
        sa.select(AccountToken)
        .where(AccountToken.id == payload["t"], AccountToken.purpose == purpose)
        .options(sa.orm.joinedload(AccountToken.user))
    )
    if row is None or row.secret_hash != hash_token(str(payload.get("s", ""))):
        raise TokenError("invalid")
    if row.used_at is not None:
        raise TokenError("used")
    if row.expires_at <= utcnow():
        raise TokenError("expired")
    if not row.user.active:
        raise TokenError("invalid")
    return row


def use_token(row: AccountToken) -> None:
    """Mark the token used, atomically: a second concurrent use finds nothing to update."""
    result = db.session.execute(
        sa.update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise TokenError("used")


def send_invitation(user: User, invited_by: User | None) -> None:
    token = issue_token(user, TokenPurpose.INVITATION, created_by=invited_by)
    send_template(
        "auth/email/invitation.txt",
        user,
        user=user,
        link=public_url_for("auth.accept_invitation", token=token),
        hours=current_app.config["INVITATION_MAX_AGE_HOURS"],
        cco_name=current_app.config["CCO_NAME"],
    )


def send_password_reset_to(email: str) -> None:
    """Send a reset link if `email` belongs to an account that can sign in with a password, and
    do nothing otherwise. Run after the response (app.core.uow.after_response), so the answer
    takes as long for an unknown email as for a known one."""
    user = find_user_by_email(email)
    if user is not None and user.active and user.has_password:
        send_password_reset(user)


def send_password_reset(user: User) -> None:
    token = issue_token(user, TokenPurpose.PASSWORD_RESET)
    send_template(
        "auth/email/password_reset.txt",
        user,
        user=user,
        link=public_url_for("auth.reset_password", token=token),
        minutes=current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"],
    )
