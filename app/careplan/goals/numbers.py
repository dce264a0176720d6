"""Numbers as people type and read them in their language ("6,200 steps", "7,5")."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import NumberFormatError, parse_decimal
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from app.careplan.labels import unit_label

_NUMBER_SHAPE = re.compile(r"^[+-]?[0-9.,]*[0-9][0-9.,]*$")


def parse_number(raw: str | None) -> float | None:
    """A number typed the way people type it in their language: "6,200" and "7.5" in English,
    "6.200" and "7,5" in Spanish. A single separator that can't be grouping is a decimal mark.
    Raises ValueError when it is not a number."""
    text = (raw or "").strip().replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if not text:
        return None
    if not _NUMBER_SHAPE.match(text):
        raise ValueError(text)
    try:
        number = parse_decimal(text, locale=str(get_locale() or "en"), strict=True)
    except NumberFormatError:
        if text.count(",") + text.count(".") > 1:
            raise ValueError(text) from None
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise ValueError(text) from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 9:
        raise ValueError(text)
    return float(number)


def format_number(value: float | None) -> str:
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##")


def format_amount(value: float | None, unit: str | None) -> str:
    """A number with its unit, e.g. "6,200 steps"."""
    if value is None:
        return ""
    if not unit:
        return format_number(value)
    return _("%(number)s %(unit)s", number=format_number(value), unit=unit_label(unit))
