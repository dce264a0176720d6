"""Form helpers shared by every domain."""

from __future__ import annotations

from datetime import date

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    ValidationError,
)
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for one-button POST actions."""


#: The dates anyone in a care plan has reason to type: a birth date, an appointment, a last day.
#: Year 1 or 9999 is a slip (or an attack on date arithmetic, which overflows near the ends).
FIRST_YEAR, LAST_YEAR = 1900, 2199


def _in_range(day: date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(
            _l("Enter a date between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)
        )


class PlainDateField(DateField):
    """A date field whose error messages are in plain words, and whose dates make sense."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = date.fromisoformat(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date, for example 2025-06-30.")) from None
        _in_range(self.data)  # the field is in error; its own validators still say theirs


class PlainDateTimeField(DateTimeLocalField):
    """A local date and time (the browser's datetime-local), in the same sane range."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%dT%H:%M")
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            _in_range(self.data.date())


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def phone_e164():
    """A WTForms validator that accepts a phone number (national numbers in
    DEFAULT_PHONE_REGION) and rewrites it to E.164."""

    def validator(form, field):
        raw = (field.data or "").strip()
        if not raw:
            field.data = None
            return
        try:
            number = phonenumbers.parse(raw, current_app.config["DEFAULT_PHONE_REGION"])
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(_l("Enter a phone number, for example 503-555-0123.")) from exc
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(_l("That phone number does not look right. Please check it."))
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    return validator


def language_choices() -> list[tuple[str, str]]:
    """The interface languages we ship, each in its own name."""
    return list(current_app.config["LANGUAGES"].items())


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), validators=[DataRequired()])
    next = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()
