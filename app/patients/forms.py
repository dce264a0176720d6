from __future__ import annotations

from zoneinfo import available_timezones

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional

from app.core.forms import phone_e164

#: Time zones offered in the form: the US ones patients of an Oregon CCO live in first.
COMMON_TIMEZONES = [
    "America/Los_Angeles",
    "America/Denver",
    "America/Phoenix",
    "America/Chicago",
    "America/New_York",
    "America/Anchorage",
    "Pacific/Honolulu",
]


def timezone_choices() -> list[tuple[str, str]]:
    zones = available_timezones()
    return [(zone, zone.replace("_", " ")) for zone in COMMON_TIMEZONES if zone in zones]


def care_language_choices() -> list[tuple[str, str]]:
    """Languages of care (may be more than the interface languages)."""
    return [
        ("en", "English"),
        ("es", "Español"),
        ("vi", "Tiếng Việt"),
        ("ru", "Русский"),
        ("zh", "中文"),
        ("ar", "العربية"),
        ("so", "Soomaali"),
    ]


class ProfileForm(FlaskForm):
    preferred_name = StringField(
        _l("Name you want us to use"), validators=[Optional(), Length(max=80)]
    )
    pronouns = StringField(
        _l("Pronouns"),
        validators=[Optional(), Length(max=40)],
        description=_l("For example: she/her, he/him, they/them."),
    )
    language = SelectField(_l("Language for your care"), validators=[DataRequired()])
    interpreter_needed = BooleanField(_l("I want an interpreter at visits"))
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()])
    mobile_phone = TelField(
        _l("Mobile phone"),
        validators=[
            Optional(),
            Length(max=32),
            phone_e164(lambda: current_app.config["DEFAULT_PHONE_REGION"]),
        ],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = care_language_choices()
        self.timezone.choices = timezone_choices()
