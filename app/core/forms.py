"""Form helpers shared by every domain."""

from __future__ import annotations

import re
from datetime import date, datetime, time

import phonenumbers
from flask import current_app
from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    DateField,
    DateTimeLocalField,
    Field,
    HiddenField,
    SelectField,
    SelectMultipleField,
    ValidationError,
)
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget, html_params


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


def uses_24_hours() -> bool:
    """Whether the page's language writes times on a 24-hour clock (its short time pattern
    has 'H': es "H:mm", ru "HH:mm"), whatever the browser's own language is."""
    locale = get_locale()
    return locale is not None and "H" in locale.time_formats["short"].pattern


#: "20:00", "8:00", "20.00", "20,00", "2000" (what a phone's number keypad can type); or
#: "8:00 PM", "8 pm", "8:00 p. m." (12 hours, marked).
_CLOCK_24 = re.compile(r"(?P<h>[01]?\d|2[0-3])(?:[:.,h]?(?P<m>[0-5]\d))")
_CLOCK_12 = re.compile(
    r"(?P<h>0?[1-9]|1[0-2])(?:[:.](?P<m>[0-5]\d))?\s*(?P<p>[ap])\.?\s*m\.?", re.IGNORECASE
)
#: Longest thing anyone types for a time of day ("12:30 p. m."); longer is not a time.
_CLOCK_MAX = 16
_TIME_ERROR = _l("Enter a time of day, for example 20:00 or 8:00 PM.")


def parse_clock(raw: str | None) -> time | None:
    """A time of day typed on a 24- or 12-hour clock; None when empty; ValueError otherwise."""
    text = (raw or "").strip()
    if not text:
        return None
    if len(text) > _CLOCK_MAX or "\x00" in text:
        raise ValueError(_TIME_ERROR)
    if match := _CLOCK_24.fullmatch(text):
        return time(int(match["h"]), int(match["m"]))
    if match := _CLOCK_12.fullmatch(text):
        hour = int(match["h"]) % 12 + (12 if match["p"].lower() == "p" else 0)
        return time(hour, int(match["m"] or 0))
    raise ValueError(_TIME_ERROR)


class ClockInput:
    """A time of day as the page's language writes it, not the browser's.

    A native <input type="time"> shows 12 or 24 hours by the browser's language, so a Spanish
    page in an English browser shows "08:00 PM". Where the page's language uses 24 hours this
    is a text box with a number keypad and "20:00" in it; elsewhere the native time input.
    """

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        value = field._value()
        if uses_24_hours():
            kwargs.update(
                type="text",
                inputmode="decimal",  # digits with a separator: "20:00", "20.00", "20,00"
                autocomplete="off",
                maxlength=str(_CLOCK_MAX),
                pattern=r"\s*([01]?[0-9]|2[0-3])[:.,h]?[0-5][0-9]\s*|.*[aApP]\.?\s*[mM]\.?\s*",
                placeholder=str(lazy_pgettext("an example time of day", "20:00")),
            )
            kwargs.setdefault("class", "clock-24")
        else:
            kwargs["type"] = "time"
        params = html_params(name=field.name, value=value, **kwargs)
        return Markup(f"<input {params}>")  # noqa: S704 - html_params escapes every value


class ClockTimeField(Field):
    """A time of day (datetime.time). Every time field uses it: one widget, one parser."""

    widget = ClockInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0][:_CLOCK_MAX]
        return self.data.strftime("%H:%M") if self.data else ""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist:
            self.data = parse_clock(valuelist[0])  # ValueError: the field shows it


class DateAndClockInput:
    """datetime-local where the page's language uses 12 hours; elsewhere a date box and a
    24-hour clock box side by side (the same name twice: the field joins them)."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        day, clock = field.parts()
        if not uses_24_hours():
            value = f"{day}T{clock}" if day and clock else ""
            params = html_params(name=field.name, type="datetime-local", value=value, **kwargs)
            return Markup(f"<input {params}>")  # noqa: S704 - html_params escapes them
        time_kwargs = {k: v for k, v in kwargs.items() if k in ("aria-describedby", "aria-invalid")}
        time_kwargs.update(id=f"{field.id}-time", **{"aria-label": str(_l("Time"))})
        date_box = html_params(name=field.name, type="date", value=day, **kwargs)
        clock_box = ClockInput()(_ClockPart(field.name, clock), **time_kwargs)
        # html_params escapes every value; clock_box is ClockInput's Markup.
        return Markup(f'<span class="date-and-clock"><input {date_box}>{clock_box}</span>')  # noqa: S704


class _ClockPart:
    """The time half of a date-and-time field, as ClockInput reads a field."""

    def __init__(self, name: str, clock: str):
        self.id, self.name, self.clock = f"{name}-time", name, clock

    def _value(self):
        return self.clock


class PlainDateTimeField(DateTimeLocalField):
    """A local date and time, in the same sane range; the time as the page's language writes
    it (DateAndClockInput). Takes "2026-12-03T20:00" or a date and a time of day apart."""

    widget = DateAndClockInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%dT%H:%M")
        super().__init__(*args, **kwargs)

    def parts(self) -> tuple[str, str]:
        if self.raw_data:
            if len(self.raw_data) >= 2:
                return self.raw_data[0][:10], self.raw_data[1][:_CLOCK_MAX]
            day, _sep, clock = self.raw_data[0].partition("T")
            return day[:10], clock[:_CLOCK_MAX]
        if self.data:
            return self.data.strftime("%Y-%m-%d"), self.data.strftime("%H:%M")
        return "", ""

    def process_formdata(self, valuelist):
        self.data = None
        parts = [v for v in valuelist or [] if v is not None]
        if not parts or not "".join(parts).strip():
            return
        if len(parts) == 1:
            day, _sep, clock = parts[0].strip().partition("T")
        else:
            day, clock = parts[0].strip(), parts[1].strip()
        if not day or not clock:
            raise ValueError(_l("Enter both the date and the time."))
        if len(day) > 10 or "\x00" in day:
            raise ValueError(_l("Enter a date, for example 2025-06-30."))
        try:
            on = date.fromisoformat(day)
        except ValueError:
            raise ValueError(_l("Enter a date, for example 2025-06-30.")) from None
        self.data = datetime.combine(on, parse_clock(clock))
        _in_range(on)


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
