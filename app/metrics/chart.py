"""A measure's trend as an inline SVG line chart (server-rendered, no JavaScript), with its text
alternative: an aria-label that says it in words and a visually hidden table of every point.

One point per bucket of the period (Scope.buckets(): weeks, or months beyond 26 weeks); a
bucket with nothing to measure has no dot and breaks the line (never drawn as 0). Shares are
drawn on a fixed 0-100% scale so that two measures read alike; other kinds from 0 to a little
above their highest value. Right to left (Arabic), time runs from right to left and the
numbers' axis is on the right, as the goal chart does (careplan/goals/chart.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from app.metrics.display import format_value
from app.metrics.measures import Kind


@dataclass(frozen=True)
class Point:
    #: Bucket's first and last day, as shown ("Sep 8"), and its value as shown ("83%").
    first: str
    last: str
    text: str
    x: float
    y: float | None


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    top: int
    bottom: int
    #: x of the numbers' axis (where time starts) and of where time ends.
    start: float
    end: float
    label_x: float
    points: list[Point]
    #: One "x,y x,y" string per run of buckets that have a value.
    lines: list[str]
    y_labels: list[tuple[float, str]]
    target_y: float | None
    summary: str
    direction: str
    monthly: bool

    @property
    def drawn(self) -> list[Point]:
        return [p for p in self.points if p.y is not None]


def trend_chart(
    title: str,
    buckets: list[tuple[date, date]],
    values: list[float | int | None],
    kind: Kind,
    *,
    target: float | None = None,
    width: int = 320,
    height: int = 150,
) -> Chart:
    left, right, top, bottom = 52, width - 10, 12, height - 24
    locale = get_locale()
    rtl = locale is not None and locale.character_order == "right-to-left"
    x_start, x_end = (width - left, width - right) if rtl else (left, right)
    monthly = len(buckets) > 1 and (buckets[1][0] - buckets[0][0]).days > 7
    known = [v for v in values if v is not None]
    if kind is Kind.SHARE:
        high = 1.0
    else:
        peak = max([*known, target or 0, 0])
        high = peak * 1.1 if peak > 0 else 1.0

    def y_of(value: float) -> float:
        return round(bottom - min(max(value, 0), high) / high * (bottom - top), 1)

    count = len(buckets)
    points: list[Point] = []
    for index, ((first, last), value) in enumerate(zip(buckets, values, strict=True)):
        share = index / (count - 1) if count > 1 else 0.5
        x = round(x_start + share * (x_end - x_start), 1)
        fmt = "MMM yyyy" if monthly else "medium"
        points.append(
            Point(
                first=format_date(first, fmt),
                last=format_date(last, fmt),
                text=format_value(value, kind),
                x=x,
                y=None if value is None else y_of(value),
            )
        )
    lines, run = [], []
    for point in points:
        if point.y is None:
            if len(run) > 1:
                lines.append(" ".join(run))
            run = []
        else:
            run.append(f"{point.x},{point.y}")
    if len(run) > 1:
        lines.append(" ".join(run))
    top_label = format_value(high if kind is Kind.SHARE else high / 1.1, kind)
    y_labels = [(y_of(0), format_value(0, kind))]
    if known or kind is Kind.SHARE:
        y_labels.append((y_of(high if kind is Kind.SHARE else high / 1.1), top_label))
    return Chart(
        width=width,
        height=height,
        top=top,
        bottom=bottom,
        start=x_start,
        end=x_end,
        label_x=x_start + (7 if rtl else -7),
        points=points,
        lines=lines,
        y_labels=y_labels,
        target_y=y_of(target) if target is not None else None,
        summary=_summary(title, points, known, monthly),
        direction="rtl" if rtl else "ltr",
        monthly=monthly,
    )


def _summary(title: str, points: list[Point], known: list, monthly: bool) -> str:
    if not known:
        return _("%(title)s: no data in this period.", title=title)
    with_value = [p for p in points if p.y is not None]
    first, last = with_value[0], with_value[-1]
    if monthly:
        return _(
            "%(title)s by month, from %(first_when)s to %(last_when)s: "
            "%(first)s at the start, %(last)s at the end.",
            title=title,
            first_when=first.first,
            last_when=last.first,
            first=first.text,
            last=last.text,
        )
    return _(
        "%(title)s by week, from the week of %(first_when)s to the week of %(last_when)s: "
        "%(first)s at the start, %(last)s at the end.",
        title=title,
        first_when=first.first,
        last_when=last.first,
        first=first.text,
        last=last.text,
    )
