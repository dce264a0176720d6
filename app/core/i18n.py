"""Language selection, the language switcher, and the language we write to someone in.

Pages: the signed-in user's saved preference, then the language cookie, then the browser's
Accept-Language, then English. Texts and emails: `recipient_locale(person)`, always, so a
message is in the reader's language whoever triggered it.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Protocol

from flask import Blueprint, Flask, current_app, redirect, request, url_for
from flask_babel import force_locale
from flask_login import current_user

from app.core.access import no_patient_data
from app.core.forms import LanguageForm
from app.core.urls import safe_next
from app.extensions import db

bp = Blueprint("i18n", __name__)

COOKIE_MAX_AGE = 60 * 60 * 24 * 365


def supported() -> list[str]:
    return list(current_app.config["LANGUAGES"])


class Recipient(Protocol):
    def locale_choices(self) -> tuple[str | None, ...]:
        """The languages this person reads, best first (see User and Patient)."""


def recipient_locale(recipient: Recipient | None) -> str:
    """The first language of the recipient's that we ship, else the default."""
    languages = current_app.config["LANGUAGES"]
    for choice in recipient.locale_choices() if recipient is not None else ():
        if choice in languages:
            return choice
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def for_recipient(recipient: Recipient | None):
    """Render what is inside (subject, body, text) in the recipient's language."""
    with force_locale(recipient_locale(recipient)):
        yield


def select_locale() -> str:
    languages = supported()
    user = current_user if current_user else None
    if user is not None and user.is_authenticated and user.locale in languages:
        return user.locale
    cookie = request.cookies.get(current_app.config["LANGUAGE_COOKIE"])
    if cookie in languages:
        return cookie
    best = request.accept_languages.best_match(languages)
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str | None:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return None


@bp.route("/language", methods=["POST"])
@no_patient_data("stores the visitor's interface language")
def switch_language():
    form = LanguageForm()
    target = safe_next(form.next.data, url_for("patients.home"))
    if not form.validate_on_submit():
        return redirect(target)
    language = form.language.data
    response = redirect(target)
    response.set_cookie(
        current_app.config["LANGUAGE_COOKIE"],
        language,
        max_age=COOKIE_MAX_AGE,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    if current_user.is_authenticated:
        current_user.locale = language
        db.session.flush()
    return response


def register(app: Flask) -> None:
    from app.core import form_messages

    form_messages.install()
    app.register_blueprint(bp)
