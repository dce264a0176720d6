"""A measure as CSV, for a spreadsheet: the same scope and numbers as the page, no patient names.

One table, one header row: each figure for the whole period, the headline figure per bucket
of the trend, then each breakdown's rows. Numbers are written unformatted (a share in percent
with one decimal) with their unit; words are in the viewer's language. A cell that a
spreadsheet would read as a formula (=, +, -, @, tab, carriage return first) starts with an
apostrophe instead (OWASP "CSV injection"): breakdown rows carry names others typed.
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from app.metrics.display import csv_value, unit_name
from app.metrics.measures import Measure, Result, Scope

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(text: object) -> str:
    value = "" if text is None else str(text).replace("\x00", "")
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


def measure_csv(measure: Measure, result: Result, scope: Scope) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            _("Measure"),
            _("Part"),
            _("Row"),
            _("Figure"),
            _("From"),
            _("To"),
            _("Value"),
            _("Unit"),
            _("Numerator"),
            _("Denominator"),
        ]
    )
    title = str(measure.title)
    start, end = scope.start.isoformat(), scope.end.isoformat()

    def row(part, label, figure, first, last, value, kind, numerator=None, denominator=None):
        writer.writerow(
            [
                cell(title),
                cell(part),
                cell(label),
                cell(figure),
                first,
                last,
                csv_value(value, kind),
                unit_name(kind),
                "" if numerator is None else numerator,
                "" if denominator is None else denominator,
            ]
        )

    for figure in result.figures:
        row(
            _("Period"),
            "",
            figure.label,
            start,
            end,
            figure.value,
            figure.kind,
            figure.numerator,
            figure.denominator,
        )
    if result.figures:
        headline = result.figures[0]
        for (first, last), value in zip(scope.buckets(), result.trend, strict=False):
            row(
                _("Trend"),
                "",
                headline.label,
                first.isoformat(),
                last.isoformat(),
                value,
                headline.kind,
            )
    for breakdown in result.breakdowns:
        for label, figures in breakdown.rows:
            for figure in figures:
                row(
                    breakdown.title,
                    label,
                    figure.label,
                    start,
                    end,
                    figure.value,
                    figure.kind,
                    figure.numerator,
                    figure.denominator,
                )
    return out.getvalue()
