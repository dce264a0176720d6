"""A figure's value as the viewer's language writes it (Babel): 83 %, 4.5 hr, 1,204, $12.00;
"No data" when there was nothing to measure (never a made-up 0). The CSV writes the same
numbers unformatted (export.py)."""

from __future__ import annotations

from babel.units import format_unit
from flask_babel import format_currency, format_decimal, format_percent, get_locale
from flask_babel import gettext as _

from app.metrics.measures import Figure, Kind


def no_data() -> str:
    return _("No data")


def format_value(value: float | int | None, kind: Kind) -> str:
    if value is None:
        return no_data()
    if kind is Kind.SHARE:
        return format_percent(value, "#,##0%")
    if kind is Kind.HOURS:
        locale = get_locale() or "en"
        return format_unit(round(value, 1), "duration-hour", length="short", locale=locale)
    if kind is Kind.MONEY:
        return format_currency(value, "USD")
    return format_decimal(value, format="#,##0.#")


def format_figure(figure: Figure) -> str:
    return format_value(figure.value, figure.kind)


def share_detail(figure: Figure) -> str | None:
    """ "41 of 50" under a share, so a small denominator shows."""
    if figure.kind is not Kind.SHARE or figure.denominator is None:
        return None
    return _(
        "%(numerator)s of %(denominator)s",
        numerator=format_decimal(figure.numerator or 0),
        denominator=format_decimal(figure.denominator),
    )


def csv_value(value: float | int | None, kind: Kind) -> str:
    """The number itself for a spreadsheet: a share in percent (one decimal), hours with one
    decimal, money with two, counts whole; empty when there is no data."""
    if value is None:
        return ""
    if kind is Kind.SHARE:
        return f"{value * 100:.1f}"
    if kind is Kind.HOURS:
        return f"{value:.1f}"
    if kind is Kind.MONEY:
        return f"{value:.2f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def unit_name(kind: Kind) -> str:
    return {
        Kind.SHARE: _("percent"),
        Kind.HOURS: _("hours"),
        Kind.MONEY: "USD",
        Kind.COUNT: _("count"),
    }[kind]
