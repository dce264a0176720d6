from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

COMMON_PASSWORDS = frozenset(
    {
        "password1234",
        "123456789012",
        "qwertyuiopas",
        "iloveyou1234",
        "passwordpassword",
        "carecircle123",
    }
)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "username", "inputmode": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


def password_rules(form, field):
    password = field.data or ""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise ValidationError(
            _l(
                "Use at least %(count)d characters. A short sentence is easy to remember.",
                count=minimum,
            )
        )
    if len(password) > 128:
        raise ValidationError(_l("Use at most 128 characters."))
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        raise ValidationError(_l("That password is too easy to guess. Try a short sentence."))


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password.")), password_rules],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Type it again"),
        validators=[
            DataRequired(_l("Type your new password again.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Email(_l("Enter an email address like name@example.com.")),
            Length(max=254),
        ],
        render_kw={"autocomplete": "username", "inputmode": "email"},
    )


class CodeForm(FlaskForm):
    """The second step: a code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Enter the code.")), Length(max=32)],
        description=_l("The 6 digits your authenticator app shows, or one of your recovery codes."),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    )


class SetupCodeForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(_l("Enter the 6 digits the app shows.")), Length(max=16)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ConfirmForm(FlaskForm):
    """ "Is it you?" before a change that could take over the account or someone's access."""

    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        _l("Code"),
        validators=[Length(max=32)],
        description=_l("The 6 digits your authenticator app shows, or one of your recovery codes."),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    )


def unused_email(form, field):
    """An invitation's address, normalised, that no account uses yet."""
    from app.auth.models import User
    from app.auth.services import normalise_email
    from app.extensions import db

    field.data = normalise_email(field.data)
    if db.session.scalar(sa.select(User.id).where(User.email == field.data)) is not None:
        raise ValidationError(_l("Someone already uses this email address."))


class InviteAccountForm(FlaskForm):
    """What every invitation to a new account asks: where to send it and in which language
    (the admin's invitations, a record's "Invite to the portal")."""

    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Enter an email address.")),
            Email(_l("Enter an email address like name@example.com.")),
            Length(max=254),
            unused_email,
        ],
    )
    language = SelectField(_l("Language for CareCircle"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        from app.core.forms import language_choices

        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()
