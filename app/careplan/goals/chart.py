"""The trend chart of a goal's numbers: an inline SVG line chart with its text alternative.

Right to left (Arabic), time runs from right to left as the page reads: the oldest check-in on
the right, the newest on the left, the numbers' axis on the right (the start side), as the
mirrored layout of Arabic phone apps and the platforms' right-to-left guidance do for anything
that moves through time. The numbers and dates are written as Babel writes them for the
language (Arabic: Western digits, the CLDR default for `ar`). The SVG's text takes the page's
direction, so a label's anchor ("start": where its first letter is) needs no mirroring; only the
x coordinates do, here.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _

from app.careplan.goals.models import Goal, GoalCheckIn
from app.careplan.goals.numbers import format_amount, format_number

CHART_POINTS = 30


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: str
    when: str


@dataclass(frozen=True)
class TrendChart:
    """An inline SVG line chart, in viewBox units, with its text alternative."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    points: list[ChartPoint]
    line: str
    target_y: float | None
    target_label: str | None
    #: The highest and lowest numbers, as (y, text), for the axis.
    y_labels: list[tuple[float, str]]
    first_when: str
    last_when: str
    summary: str
    #: Which way time runs: "ltr", or "rtl" for a language read right to left.
    direction: str = "ltr"
    #: x of the numbers' axis (where time starts) and of where time ends.
    start: float = 0
    end: float = 0
    #: Where the axis' numbers go (outside the plot, their end towards the axis) and the tick.
    label_x: float = 0
    tick_x: float = 0


def trend_chart(
    goal: Goal, check_ins: list[GoalCheckIn], *, width: int = 320, height: int = 180
) -> TrendChart | None:
    """Chart the numbers of the latest check-ins (oldest to newest); None with no numbers."""
    numbered = [c for c in check_ins if c.value is not None]
    numbered.sort(key=lambda c: (c.recorded_at, c.id))
    numbered = numbered[-CHART_POINTS:]
    if not numbered:
        return None
    left, right, top, bottom = 56, width - 12, 16, height - 28
    rtl = get_locale() is not None and get_locale().character_order == "right-to-left"
    # Time runs from `start` (the axis) to `end`; mirrored right to left.
    x_start, x_end = (width - left, width - right) if rtl else (left, right)
    outward = 1 if rtl else -1  # from the axis away from the plot
    values = [c.value for c in numbered]
    scale = [*values, goal.target_value] if goal.target_value is not None else values
    low, high = min(scale), max(scale)
    pad = (high - low) * 0.12 or (abs(high) * 0.1 or 1.0)
    low, high = low - pad, high + pad
    if min(scale) >= 0 > low:
        low = 0.0

    def y_of(value: float) -> float:
        return round(bottom - (value - low) / (high - low) * (bottom - top), 1)

    start = numbered[0].recorded_at.timestamp()
    span = numbered[-1].recorded_at.timestamp() - start
    points = []
    for index, row in enumerate(numbered):
        if span > 0:
            share = (row.recorded_at.timestamp() - start) / span
        else:
            share = 0.5 if len(numbered) == 1 else index / (len(numbered) - 1)
        points.append(
            ChartPoint(
                x=round(x_start + share * (x_end - x_start), 1),
                y=y_of(row.value),
                value=format_amount(row.value, goal.target_unit),
                when=format_date(row.recorded_at, "medium"),
            )
        )
    y_labels = [(y_of(max(values)), format_number(max(values)))]
    if y_of(min(values)) - y_labels[0][0] >= 14:  # room for a second label
        y_labels.append((y_of(min(values)), format_number(min(values))))
    target = goal.target_value
    first, last = points[0], points[-1]
    if len(points) == 1:
        summary = _(
            "One check-in with a number: %(first)s on %(first_when)s.",
            first=first.value,
            first_when=first.when,
        )
    else:
        # Every plural form names the first and the last: in many languages the form for
        # "one" also serves 21, 31... (and in some, every number).
        summary = ngettext(
            "%(num)d check-in with a number, from %(first)s on %(first_when)s "
            "to %(last)s on %(last_when)s.",
            "%(num)d check-ins with a number, from %(first)s on %(first_when)s "
            "to %(last)s on %(last_when)s.",
            len(points),
            first=first.value,
            first_when=first.when,
            last=last.value,
            last_when=last.when,
        )
    if target is not None:
        summary += " " + _(
            "The target is %(target)s.", target=format_amount(target, goal.target_unit)
        )
    return TrendChart(
        width=width,
        height=height,
        left=min(x_start, x_end),
        right=max(x_start, x_end),
        top=top,
        bottom=bottom,
        points=points,
        line=" ".join(f"{p.x},{p.y}" for p in points),
        target_y=y_of(target) if target is not None else None,
        target_label=format_amount(target, goal.target_unit) if target is not None else None,
        y_labels=y_labels,
        first_when=format_date(numbered[0].recorded_at, "short"),
        last_when=format_date(numbered[-1].recorded_at, "short"),
        summary=summary,
        direction="rtl" if rtl else "ltr",
        start=x_start,
        end=x_end,
        label_x=x_start + 7 * outward,
        tick_x=x_start + 4 * outward,
    )
