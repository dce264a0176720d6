"""The contract every measure keeps: a Scope in, a Result out, and an optional drill-down.

A measure is one function `compute(scope) -> Result`, registered with `@register(...)`. It
answers for the whole date range (the figures) and for each bucket of it (the trend of the
headline figure), with aggregate queries whose cost does not depend on how many patients the
CCO has beyond the rows in the period (no per-patient loop, no row per patient in Python).

Periods are the CCO's local days (config BABEL_DEFAULT_TIMEZONE): `Scope.bounds()` gives them
as UTC instants and `Scope.bucket_of(column)` numbers each timestamp's bucket in SQL with a CASE
over the UTC boundaries, the same on SQLite and PostgreSQL (no database time zone functions).

docs/metrics.md states each measure's numerator, denominator, period, exclusions and the
tables and columns it reads; keep it next to the code.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa


class Kind(enum.StrEnum):
    """How a figure is shown: a count, a share (0..1, shown as a percent), hours, money (USD)."""

    COUNT = "count"
    SHARE = "share"
    HOURS = "hours"
    MONEY = "money"


@dataclass(frozen=True)
class Scope:
    """What the dashboard asks for: local days `start`..`end` (both inclusive), optionally one
    organization's patients (Patient.organization_id) and/or one care team member's panel
    (CareTeamAssignment.member_id: "team")."""

    start: date
    end: date
    organization_id: int | None = None
    member_id: int | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/Los_Angeles"))

    def instant(self, day: date) -> datetime:
        """Local midnight starting `day`, in UTC (naive-free: timezone-aware)."""
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    def bounds(self) -> tuple[datetime, datetime]:
        """[from, to) in UTC: local midnight of start to local midnight after end."""
        return self.instant(self.start), self.instant(self.end + timedelta(days=1))

    def buckets(self) -> list[tuple[date, date]]:
        """The trend's buckets as (first day, last day): weeks (Monday..Sunday, clipped to the
        range) up to 26 of them, calendar months beyond."""
        out: list[tuple[date, date]] = []
        day = self.start
        weekly = (self.end - self.start).days <= 26 * 7
        while day <= self.end:
            if weekly:
                last = day + timedelta(days=6 - day.weekday())
            else:
                following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
                last = following - timedelta(days=1)
            last = min(last, self.end)
            out.append((day, last))
            day = last + timedelta(days=1)
        return out

    def bucket_of(self, column) -> sa.ColumnElement[int]:
        """The bucket index (0..n-1) of a timestamp column, -1 outside the range: GROUP BY it
        for a trend in one query."""
        starts = [self.instant(first) for first, _ in self.buckets()]
        lo, hi = self.bounds()
        whens = [(column < lo, -1)]
        for index, upper in enumerate(starts[1:]):
            whens.append((column < upper, index))
        whens.append((column < hi, len(starts) - 1))
        return sa.case(*whens, else_=-1)

    def patient_filter(self, patient_id_column) -> list[sa.ColumnElement[bool]]:
        """WHERE clauses limiting `patient_id_column` to the scope's organization and team
        (none when neither is set: the whole CCO)."""
        from app.patients.models import Patient
        from app.team.models import CareTeamAssignment

        clauses = []
        if self.organization_id is not None:
            clauses.append(
                patient_id_column.in_(
                    sa.select(Patient.id).where(Patient.organization_id == self.organization_id)
                )
            )
        if self.member_id is not None:
            clauses.append(
                patient_id_column.in_(
                    sa.select(CareTeamAssignment.patient_id).where(
                        CareTeamAssignment.member_id == self.member_id
                    )
                )
            )
        return clauses


@dataclass
class Figure:
    """One number: `value` is None when there is nothing to measure (an empty period), never a
    made-up 0%. Shares carry their numerator and denominator."""

    key: str
    label: str  # translated (lazy_gettext)
    value: float | int | None
    kind: Kind = Kind.COUNT
    numerator: int | None = None
    denominator: int | None = None
    #: A list of patients (or threads) is behind this number for a care team member.
    drill: bool = False
    #: What the number is compared with, e.g. the target share (None: no target).
    target: float | None = None


@dataclass
class Breakdown:
    """A small table under the measure: one row per topic, language, organization...; the
    columns are figure labels, each cell a Figure."""

    title: str
    rows: list[tuple[str, list[Figure]]]


@dataclass
class Result:
    #: The first is the headline (charted); the others are shown beside it.
    figures: list[Figure]
    #: The headline figure per Scope.buckets() bucket (None: nothing to measure then).
    trend: list[float | int | None]
    breakdowns: list[Breakdown] = field(default_factory=list)


@dataclass(frozen=True)
class DrillRow:
    """One line of a drill-down: whose, when, a short neutral detail (no health details beyond
    a topic or a status word), and where it leads (a thread or a plan item of that patient)."""

    patient_id: int
    when: datetime | None
    detail: str
    thread_id: int | None = None
    item_id: int | None = None


#: drill(scope, figure_key, visible_patient_ids, limit) -> rows, newest first. The dashboard
#: passes a SELECT of the patient ids the viewer may see (their care teams' patients) and
#: checks the policy and audits every row it shows.
Drill = Callable[[Scope, str, sa.Select, int], list[DrillRow]]


@dataclass(frozen=True)
class Measure:
    key: str
    title: str  # lazy
    #: One sentence a coordinator understands: what is counted.
    summary: str  # lazy
    compute: Callable[[Scope], Result]
    drill: Drill | None = None


#: The dashboard's order; a registered measure not listed here goes last.
ORDER = (
    "response_time",
    "activation",
    "plan_reviewed",
    "goals",
    "decisions",
    "reminders",
    "no_shows",
    "flags",
    "social_needs",
    "caregivers",
    "language_access",
)

REGISTRY: dict[str, Measure] = {}


def register(key: str, title, summary, drill: Drill | None = None):
    """@register("goals", _l("Goals"), _l("...")) on `def goals(scope) -> Result`."""

    def decorator(compute: Callable[[Scope], Result]) -> Callable[[Scope], Result]:
        REGISTRY[key] = Measure(key, title, summary, compute, drill)
        return compute

    return decorator


def all_measures() -> list[Measure]:
    rank = {key: index for index, key in enumerate(ORDER)}
    return sorted(REGISTRY.values(), key=lambda m: rank.get(m.key, len(rank)))


def share(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def share_figure(key: str, label, numerator: int, denominator: int, **more) -> Figure:
    """A share with its numerator and denominator ("3 of 12"); None when nothing to divide."""
    return Figure(
        key,
        label,
        share(numerator, denominator),
        Kind.SHARE,
        numerator=numerator,
        denominator=denominator,
        **more,
    )


#: The index of the whole period among the spans (the buckets are 0..n-1).
WHOLE = -1


def bucket_spans(scope: Scope) -> list[tuple[int, datetime, datetime]]:
    """Each trend bucket as (index, from, to) in UTC, [from, to)."""
    return [
        (index, scope.instant(first), scope.instant(last + timedelta(days=1)))
        for index, (first, last) in enumerate(scope.buckets())
    ]


def spans(scope: Scope) -> list[tuple[int, datetime, datetime]]:
    """The whole period (index WHOLE) and each bucket."""
    return [(WHOLE, *scope.bounds()), *bucket_spans(scope)]


def periods_table(rows: list[tuple[int, datetime, datetime]], *, name: str = "i", extra=None):
    """A small table of periods (index, lo, hi[, extra]) to join with, so one GROUP BY answers
    for the whole period and every bucket: for a figure that is a state at each bucket's end,
    or that counts what overlapped a bucket. `extra(lo, hi)` adds a computed column."""
    from app.core.db import UTCDateTime

    selects = []
    for index, lo, hi in rows:
        columns = [
            sa.literal(index, sa.Integer).label(name),
            sa.literal(lo, UTCDateTime()).label("lo"),
            sa.literal(hi, UTCDateTime()).label("hi"),
        ]
        if extra is not None:
            columns.append(extra(lo, hi).label("extra"))
        selects.append(sa.select(*columns))
    table = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    return table.subquery("periods")
