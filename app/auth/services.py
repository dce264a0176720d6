"""Account services: authentication with slow-down, server-side sessions, one-time links.

Services add and flush; the request hook commits (see app.core.uow).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import after_this_request, current_app, g, has_request_context, request, session, url_for
from flask_login import login_user, logout_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from app.auth import mfa
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

    Unknown, slowed-down, deactivated and not-yet-activated accounts fail exactly like a wrong
    password (same answer, same Argon2 effort), so the login form reveals nothing.

    Guessing is slowed, never turned into a way to lock someone out:
    - per address: LOGIN_RATE_LIMIT tries and LOGIN_FAILURE_LIMIT failures (auth.views);
    - per account, from browsers the account has not signed in on: after LOGIN_MAX_FAILURES
      wrong passwords each try waits LOGIN_BACKOFF_SECONDS, doubling up to
      LOGIN_LOCKOUT_MINUTES, and the owner gets an email with a link that lifts it;
    - a browser the account signed in on before ("device cookie") is not slowed by strangers'
      failures; its own wrong passwords count on the device, and after LOGIN_MAX_FAILURES of
      them it is a stranger again.
    """
    user = find_user_by_email(email)
    now = utcnow()
    known = user is not None and device_knows(user.id)
    if (
        user is None
        or not user.active
        or not user.has_password
        or (not known and user.is_locked(now))
    ):
        burn_time(password)
        return None
    if not verify_password(user.password_hash, password):
        if known:
            device_failed(user.id)
        else:
            _slow_down(user, now)
        db.session.flush()
        return None
    # The slow-down is lifted when the sign-in completes (start_session), not here: with
    # two-step sign-in a right password alone proves too little.
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.flush()
    return user


def second_step_failed(user: User) -> None:
    """A wrong code (or a wrong password on "Confirm it's you"): counted on the server like a
    wrong password, so replaying an old session cookie buys no extra tries."""
    if device_knows(user.id):
        device_failed(user.id)
    else:
        _slow_down(user, utcnow())
    db.session.flush()


def second_step_blocked(user: User) -> bool:
    """Sign-in to the account is slowed down and this browser is a stranger to it."""
    return user.is_locked() and not device_knows(user.id)


def _slow_down(user: User, now) -> None:
    cfg = current_app.config
    user.failed_logins += 1
    over = user.failed_logins - cfg["LOGIN_MAX_FAILURES"]
    if over < 0:
        return
    wait = min(cfg["LOGIN_BACKOFF_SECONDS"] * 2 ** min(over, 20), cfg["LOGIN_LOCKOUT_MINUTES"] * 60)
    user.locked_until = now + timedelta(seconds=wait)
    log.warning("sign-in to account %s slowed for %d s after failed tries", user.id, wait)
    if over == 0:
        send_unlock_link(user)


# ---------------------------------------------------------------- browsers an account knows

DEVICE_COOKIE = "cc_device"
DEVICE_DAYS = 365
_MAX_ACCOUNTS_PER_DEVICE = 5


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="carecircle.device")


def _device_accounts() -> dict[str, int]:
    """{account id: wrong passwords on this browser} from the signed cookie."""
    if "device_accounts" not in g:
        raw = request.cookies.get(DEVICE_COOKIE) if has_request_context() else None
        accounts: dict[str, int] = {}
        if raw:
            try:
                value = _device_serializer().loads(raw)
            except BadSignature:
                value = {}
            if isinstance(value, dict):
                accounts = {
                    str(k): int(v)
                    for k, v in value.items()
                    if isinstance(v, int) and str(k).isdigit()
                }
        g.device_accounts = accounts
    return g.device_accounts


def _save_device_accounts(accounts: dict[str, int]) -> None:
    g.device_accounts = accounts
    if not has_request_context():
        return
    value = _device_serializer().dumps(accounts)

    @after_this_request
    def _set(response):
        response.set_cookie(
            DEVICE_COOKIE,
            value,
            max_age=DEVICE_DAYS * 86400,
            httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            samesite="Lax",
        )
        return response


def device_knows(user_id: int) -> bool:
    return str(user_id) in _device_accounts()


def device_failed(user_id: int) -> None:
    accounts = dict(_device_accounts())
    fails = accounts.get(str(user_id), 0) + 1
    if fails >= current_app.config["LOGIN_MAX_FAILURES"]:
        accounts.pop(str(user_id), None)
    else:
        accounts[str(user_id)] = fails
    _save_device_accounts(accounts)


def remember_device(user_id: int) -> None:
    accounts = {k: v for k, v in _device_accounts().items() if k != str(user_id)}
    accounts[str(user_id)] = 0
    _save_device_accounts(dict(list(accounts.items())[-_MAX_ACCOUNTS_PER_DEVICE:]))


# ---------------------------------------------------------------- unlocking by email


def _unlock_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="carecircle.unlock")


def _password_version(user: User) -> str:
    return hash_token(user.password_hash or "")[:16]


def send_unlock_link(user: User) -> None:
    """Tell the owner sign-in was slowed, with a link that lifts it. The link works for
    PASSWORD_RESET_MAX_AGE_MINUTES and dies when the password changes."""
    token = _unlock_serializer().dumps({"u": user.id, "p": _password_version(user)})
    send_template(
        "auth/email/unlock.txt",
        user,
        user=user,
        link=public_url_for("auth.unlock_link", token=token),
        minutes=current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"],
    )


def user_for_unlock(token: str) -> User | None:
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE_MINUTES"] * 60
    try:
        payload = _unlock_serializer().loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        return None
    user = db.session.get(User, payload["u"])
    if user is None or not user.active or payload.get("p") != _password_version(user):
        return None
    return user


def unlock(user: User) -> None:
    """Lift the slow-down and trust this browser for the account (the email proved it)."""
    user.failed_logins = 0
    user.locked_until = None
    remember_device(user.id)
    db.session.flush()


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
    session[FRESH_KEY] = now.timestamp()
    session.permanent = True
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    login_user(user)
    g.user_session = row
    remember_device(user.id)
    return row


# ---------------------------------------------------------------- two steps, and "is it you?"

PENDING_KEY = "sign_in_pending"
FRESH_KEY = "fresh_at"
#: How long the second step may take after the password.
PENDING_MINUTES = 5
#: Wrong codes allowed in one second step before the password is asked again.
PENDING_TRIES = 5
CLOCK_SKEW_SECONDS = 60


def begin_sign_in(user: User, next_url: str) -> str:
    """After the right password: sign in, or ask for the second step first. Returns where to
    go next. Someone who must use two-step sign-in and has not set it up sets it up now,
    before they get a session."""
    if mfa.is_enrolled(user) or mfa.required_for(user):
        session.pop(SESSION_KEY, None)
        session[PENDING_KEY] = {
            "u": user.id,
            "at": utcnow().timestamp(),
            "next": next_url,
            "tries": 0,
        }
        if mfa.is_enrolled(user):
            return url_for("auth.mfa_code")
        return url_for("auth.mfa_setup")
    start_session(user)
    return next_url


def pending_sign_in() -> tuple[User, dict] | None:
    """The user who gave the right password in this browser and owes the second step."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    age = utcnow().timestamp() - float(pending.get("at", 0))
    if not 0 <= age <= PENDING_MINUTES * 60 or pending.get("tries", 0) >= PENDING_TRIES:
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(User, pending.get("u"))
    if user is None or not user.active:
        session.pop(PENDING_KEY, None)
        return None
    return user, pending


def pending_failed() -> int:
    """Count a wrong code; returns the tries left (0: the password is asked again)."""
    pending = dict(session.get(PENDING_KEY) or {})
    pending["tries"] = pending.get("tries", 0) + 1
    left = PENDING_TRIES - pending["tries"]
    if left <= 0:
        session.pop(PENDING_KEY, None)
    else:
        session[PENDING_KEY] = pending
    return left


def finish_sign_in(user: User) -> str:
    next_url = (session.get(PENDING_KEY) or {}).get("next") or url_for("patients.home")
    session.pop(PENDING_KEY, None)
    start_session(user)
    return next_url


def is_fresh() -> bool:
    """Whether this session proved who it is (password, and code if enrolled) recently."""
    at = session.get(FRESH_KEY)
    if not isinstance(at, int | float):
        return False
    age = utcnow().timestamp() - at
    # A little in the future is another host's clock running ahead (several hosts).
    return -CLOCK_SKEW_SECONDS <= age <= current_app.config["FRESH_AUTH_MINUTES"] * 60


def mark_fresh() -> None:
    session[FRESH_KEY] = utcnow().timestamp()


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


def end_all_sessions_but_this(user_id: int, reason: str) -> int:
    """End the user's sessions on every other device (this one was just proven)."""
    this = g.get("user_session")
    query = sa.update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if this is not None:
        query = query.where(UserSession.id != this.id)
    result = db.session.execute(
        query.values(ended_at=utcnow(), end_reason=reason).execution_options(
            synchronize_session=False
        )
    )
    return result.rowcount or 0


def end_all_sessions(user_id: int, reason: str) -> int:
    result = db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    return result.rowcount or 0


#: Every signed-in request runs this: built once, the token hash bound per request.
_SESSION_USER = (
    sa.select(UserSession, User)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == sa.bindparam("token_hash"), UserSession.ended_at.is_(None))
)


def load_session_user(user_id: str) -> User | None:
    """flask-login's user loader: the cookie is only good while its server-side row is."""
    token = session.get(SESSION_KEY)
    if not token:
        return None
    row = db.session.execute(_SESSION_USER, {"token_hash": hash_token(token)}).first()
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
