"""Accounts, server-side sessions and one-time tokens."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.core.db import TimestampMixin, enum_column, utcnow
from app.core.display import TextSize
from app.core.text import plain_name
from app.extensions import db


class Role(enum.StrEnum):
    PATIENT = "patient"
    CAREGIVER = "caregiver"
    CARE_TEAM = "care_team"
    ADMIN = "admin"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased; the login form lower-cases what it is given.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    #: Argon2id hash; NULL until an invited user sets a password.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    #: Preferred interface language (a key of LANGUAGES); NULL means "not chosen".
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="America/Los_Angeles")
    active: Mapped[bool] = mapped_column(default=True)
    #: Consecutive failed logins; reset on success.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
    password_changed_at: Mapped[datetime | None] = mapped_column()
    #: The user's own mobile (E.164), e.g. a caregiver who gets reminders; never a patient's.
    mobile_phone: Mapped[str | None] = mapped_column(sa.String(16))
    #: When the number was proven (a code texted to it, or an invitation link texted to it).
    mobile_phone_verified_at: Mapped[datetime | None] = mapped_column()
    #: Two-step sign-in (auth.mfa): the TOTP key (base32) once the user proved their app has it.
    mfa_secret: Mapped[str | None] = mapped_column(sa.String(64))
    mfa_enabled_at: Mapped[datetime | None] = mapped_column()
    #: The last TOTP time step accepted: a code is good once (no replay within its 30 s).
    mfa_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: Display settings (app.core.display): this person's own screen, whoever's record they
    #: open. Text size of body text: standard (17 px), large (20 px) or larger (23 px).
    text_size: Mapped[TextSize] = mapped_column(
        enum_column(TextSize, length=8),
        default=TextSize.STANDARD,
        server_default=TextSize.STANDARD.value,
    )
    #: Black on white with strong lines (WCAG AAA contrast for body text).
    high_contrast: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: No animations, transitions or smooth scrolling.
    reduced_motion: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", lazy="raise", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    @property
    def is_care_team(self) -> bool:
        return self.role is Role.CARE_TEAM

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_enabled_at is not None and self.mfa_secret is not None

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def locale_choices(self) -> tuple[str | None, ...]:
        """The language to write to this person in (`core.i18n.recipient_locale`)."""
        return (self.locale,)

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    @validates("full_name")
    def _plain_name(self, key: str, value: str) -> str:
        return plain_name(value)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserSession(db.Model):
    """One login on one device. The cookie holds a random id; we store only its hash.

    Ending the row (logout, password change, idle, absolute lifetime, revoked access) makes a
    copied cookie worthless on its next use, on every host.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: sha256 of the random id kept in the signed session cookie.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Absolute end of the session, whatever the activity.
    expires_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    #: Why it ended: logout, password_change, idle, expired, revoked.
    end_reason: Mapped[str | None] = mapped_column(sa.String(32))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))

    user: Mapped[User] = relationship(back_populates="sessions", lazy="raise")


class MfaRecoveryCode(db.Model):
    """One of the ten single-use codes that sign in when the phone with the app is lost.
    Stored as Argon2 hashes; shown once, when made."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column()


class TokenPurpose(enum.StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a label, not a secret


class AccountToken(db.Model):
    """A single-use secret behind an invitation or password-reset link.

    The link itself is signed and time-stamped (itsdangerous); this row makes it single use and
    lets an admin revoke it. Only a hash of the secret is stored.
    """

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose))
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    #: Who sent the invitation (NULL for self-service password resets).
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")


# The accounts list, by name, keyset-paged (app.admin): an index in the page's order.
sa.Index("ix_users_full_name_id", User.full_name, User.id)
sa.Index("ix_users_role_full_name_id", User.role, User.full_name, User.id)
