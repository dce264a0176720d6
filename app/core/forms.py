"""Form helpers shared by every domain."""

from __future__ import annotations

from datetime import date

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, SelectMultipleField, ValidationError
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for one-button POST actions."""


class PlainDateField(DateField):
    """A date field whose error message is in plain words."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = date.fromisoformat(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date, for example 2025-06-30.")) from None


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
