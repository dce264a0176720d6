from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.core.forms import MultiCheckboxField
from app.core.templating import zone_name
from app.core.text import plain_name
from app.patients.labels import PRONOUN_LABELS

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
    return [(zone, zone_name(zone)) for zone in COMMON_TIMEZONES if zone in zones]


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


SELF_DESCRIBE = "self"


class _PronounFields:
    """Pronouns: the common ones as choices (shown in everyone's language), or the patient's
    own words. Both land in `pronouns`: a choice's key ("he/him") or the words as typed."""

    pronoun_choice = SelectField(_l("Pronouns"), validators=[Optional()])
    pronouns = StringField(
        _l("Pronouns in your own words"),
        filters=[plain_name],
        validators=[Optional(), Length(max=40)],
        description=_l("Only if you chose to describe them yourself."),
    )

    def _init_pronouns(self) -> None:
        self.pronoun_choice.choices = [
            ("", _l("Not given")),
            *PRONOUN_LABELS.items(),
            (SELF_DESCRIBE, _l("Prefer to self-describe")),
        ]
        if self.pronoun_choice.raw_data is None:  # shown, not submitted: from what is stored
            stored = (self.pronouns.data or "").strip()
            if stored.lower() in PRONOUN_LABELS:
                self.pronoun_choice.data, self.pronouns.data = stored.lower(), ""
            else:
                self.pronoun_choice.data = SELF_DESCRIBE if stored else ""

    def _merge_pronouns(self) -> None:
        """A choice wins; "self" (or words with no choice) keeps the words."""
        if self.pronoun_choice.data in PRONOUN_LABELS:
            self.pronouns.data = self.pronoun_choice.data

    def populate_obj(self, obj) -> None:
        for name, field in self._fields.items():
            if name != "pronoun_choice":
                field.populate_obj(obj, name)


class ProfileForm(_PronounFields, FlaskForm):
    preferred_name = StringField(
        _l("Name you want us to use"), filters=[plain_name], validators=[Optional(), Length(max=80)]
    )
    language = SelectField(_l("Language for your care"), validators=[DataRequired()])
    interpreter_needed = BooleanField(_l("I want an interpreter at visits"))
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = care_language_choices()
        self.timezone.choices = timezone_choices()
        self._init_pronouns()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self._merge_pronouns()
        return ok


CHANNEL_CHOICES = [
    ("sms", _l("Text messages (SMS)")),
    ("email", _l("Email")),
    ("portal", _l("Only here in CareCircle")),
]

LEAD_CHOICES = [
    ("1", _l("1 hour before")),
    ("2", _l("2 hours before")),
    ("24", _l("1 day before")),
    ("48", _l("2 days before")),
    ("168", _l("1 week before")),
]


class PreferencesForm(_PronounFields, FlaskForm):
    preferred_name = StringField(
        _l("Name you want us to use"), filters=[plain_name], validators=[Optional(), Length(max=80)]
    )
    language = SelectField(_l("Language for your care"), validators=[DataRequired()])
    interpreter_needed = BooleanField(_l("I want an interpreter at visits"))
    contact_channels = MultiCheckboxField(
        _l("How we may contact you"), validators=[DataRequired(_l("Choose at least one way."))]
    )
    timezone = SelectField(_l("Time zone"), validators=[DataRequired()])
    large_text = BooleanField(_l("Larger text"))
    high_contrast = BooleanField(_l("High contrast"))
    screen_reader = BooleanField(_l("I use a screen reader"))
    what_matters_most = TextAreaField(
        _l("What matters most to me"),
        validators=[Optional(), Length(max=2000)],
        description=_l("For example: staying in my home, being able to work, my grandchildren."),
    )
    preferred_pharmacy = StringField(_l("My pharmacy"), validators=[Optional(), Length(max=160)])
    decision_involvement = TextAreaField(
        _l("Who I want involved in decisions about my care"),
        validators=[Optional(), Length(max=1000)],
    )

    def __init__(self, *args, has_phone: bool = True, text_settings: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_phone = has_phone
        self.language.choices = care_language_choices()
        self.timezone.choices = timezone_choices()
        self._init_pronouns()
        if text_settings:
            self.contact_channels.choices = CHANNEL_CHOICES
        else:  # how the patient is contacted is the patient's to say, nobody else's
            del self.contact_channels

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        self._merge_pronouns()
        channels = self.contact_channels.data if "contact_channels" in self._fields else []
        if "sms" in (channels or []) and not self.has_phone:
            self.contact_channels.errors = [
                *self.contact_channels.errors,
                _l("Add a mobile phone number first."),
            ]
            ok = False
        return ok
