"""Template globals: the language switcher, dates in the viewer's language and time zone."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import Flask, current_app, request
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_login import current_user
from markupsafe import Markup, escape

from app.core.access import Permission, can
from app.core.forms import EmptyForm
from app.core.privacy import current_actor

URL_RE = re.compile(r"https?://[^\s<>\"']+")


def register(app: Flask) -> None:
    # Globals (unlike context processors) are visible inside imported macros too.
    app.jinja_env.globals.update(can=can, Permission=Permission, current_user=current_user)

    @app.context_processor
    def globals_():
        actor = current_actor()
        return {
            "language_next": lambda: request.full_path.rstrip("?"),
            "empty_form": EmptyForm,
            "can": can,
            "Permission": Permission,
            "languages": current_app.config["LANGUAGES"],
            "current_locale": str(get_locale()),
            "record_patient": actor.patient,
            "acting_for": actor.acting_for,
            "cco_name": current_app.config["CCO_NAME"],
        }

    @app.template_filter("date")
    def _date(value: date | datetime | None, fmt: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, "medium" if fmt == "medium" else fmt)
        return format_date(value, fmt)

    @app.template_filter("datetime")
    def _datetime(value: datetime | None, fmt: str = "medium") -> str:
        return format_datetime(value, fmt) if value else ""

    @app.template_filter("time")
    def _time(value: datetime | None, fmt: str = "short") -> str:
        return format_time(value, fmt) if value else ""

    @app.template_filter("linkify")
    def _linkify(text: str | None) -> Markup:
        """Escape a plain-text message, then make http(s) links clickable (and nothing else)."""
        escaped = str(escape(text or ""))

        def anchor(match: re.Match) -> str:
            url = match.group(0)
            trail = ""
            while url and url[-1] in ".,;:!?)":
                url, trail = url[:-1], url[-1] + trail
            return (
                f'<a href="{url}" rel="noopener noreferrer nofollow" '
                f'class="inline-tap">{url}</a>{trail}'
            )

        return Markup(URL_RE.sub(anchor, escaped))  # noqa: S704 - built from escaped text

    @app.template_filter("phone")
    def _phone(value: str | None) -> str:
        if not value:
            return ""
        import phonenumbers

        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            return value
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
