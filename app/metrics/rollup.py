"""The nightly rollup: `flask metrics rollup` computes every measure for the default period (the
last 12 weeks ending yesterday) and the scopes people open first: the whole CCO, each
organization that has patients, and each care coordinator's panel, in each language staff use.
The dashboard, its CSV files, the report and the drill-down's headline read those rows when
the scope and language match, and compute live otherwise (another period, another panel).

Why a result cache and not a table of daily counts: the measures are shares of distinct
patients, medians and 90th percentiles, which do not add up across days, teams or
organizations; the contract (measures.py) gives a Result per scope, so the rollup keeps Results.
A past period's answer changes only when late rows arrive for it (a thread answered today was
waiting last week); the page says when the figures were computed.

Run it after midnight in the CCO's time zone (cron: `15 0 * * * flask metrics rollup`). One
transaction per scope: a job stopped half-way leaves the scopes it finished, and a scope whose
rows are missing is computed live.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime

import click
import sqlalchemy as sa
from flask_babel import force_locale

from app.auth.models import Role, User
from app.core.db import utcnow
from app.extensions import db
from app.metrics import bp
from app.metrics import measures as registry
from app.metrics.forms import cco_today, cco_zone, default_period
from app.metrics.measures import Breakdown, Figure, Kind, Measure, Result, Scope
from app.metrics.models import MetricRollup
from app.patients.models import Patient
from app.team.models import CareRole, CareTeamAssignment, CareTeamMember


def scope_key(scope: Scope) -> str:
    org = scope.organization_id if scope.organization_id is not None else "-"
    member = scope.member_id if scope.member_id is not None else "-"
    return f"{org}:{member}"


# ------------------------------------------------------------------ Result <-> JSON


def _figure(f: Figure) -> dict:
    return {
        "key": f.key,
        "label": str(f.label),
        "value": f.value,
        "kind": Kind(f.kind).value,
        "numerator": f.numerator,
        "denominator": f.denominator,
        "drill": f.drill,
        "target": f.target,
    }


def _unfigure(d: dict) -> Figure:
    return Figure(
        d["key"],
        d["label"],
        d["value"],
        Kind(d["kind"]),
        d["numerator"],
        d["denominator"],
        d["drill"],
        d["target"],
    )


def dump(result: Result) -> dict:
    """The Result as JSON, its words in the current language (labels are evaluated here)."""
    return {
        "figures": [_figure(f) for f in result.figures],
        "trend": list(result.trend),
        "breakdowns": [
            {
                "title": str(b.title),
                "rows": [[str(label), [_figure(f) for f in figures]] for label, figures in b.rows],
            }
            for b in result.breakdowns
        ],
    }


def load(data: dict) -> Result:
    return Result(
        figures=[_unfigure(f) for f in data["figures"]],
        trend=list(data["trend"]),
        breakdowns=[
            Breakdown(b["title"], [(label, [_unfigure(f) for f in fs]) for label, fs in b["rows"]])
            for b in data["breakdowns"]
        ],
    )


# ------------------------------------------------------------------ reading


def results(
    scope: Scope, chosen: list[Measure], locale: str
) -> tuple[list[tuple[Measure, Result]], datetime | None]:
    """Each chosen measure's Result: from the rollup when it has this scope in this language
    (one query for all of them), else computed now. Also when the oldest rollup row used was
    computed (None: everything is live)."""
    found: dict[str, MetricRollup] = {}
    if scope.end < cco_today():  # a period that includes today is never rolled up
        found = {
            row.measure: row
            for row in db.session.scalars(
                sa.select(MetricRollup).where(
                    MetricRollup.first_day == scope.start,
                    MetricRollup.last_day == scope.end,
                    MetricRollup.scope_key == scope_key(scope),
                    MetricRollup.locale == locale,
                    MetricRollup.measure.in_([m.key for m in chosen]),
                )
            )
        }
    out = []
    for measure in chosen:
        row = found.get(measure.key)
        out.append((measure, load(row.result) if row else measure.compute(scope)))
    as_of = min((row.computed_at for row in found.values()), default=None)
    return out, as_of


# ------------------------------------------------------------------ the job


def rollup_scopes(first: date, last: date) -> list[Scope]:
    """The whole CCO, each organization with patients, each care coordinator's panel."""
    zone = cco_zone()
    scopes = [Scope(first, last, zone=zone)]
    organizations = db.session.scalars(
        sa.select(Patient.organization_id)
        .where(Patient.organization_id.is_not(None))
        .group_by(Patient.organization_id)
        .order_by(Patient.organization_id)
    )
    scopes += [Scope(first, last, organization_id=o, zone=zone) for o in organizations]
    coordinated = sa.select(CareTeamAssignment.member_id).where(
        CareTeamAssignment.is_coordinator.is_(True)
    )
    members = db.session.scalars(
        sa.select(CareTeamMember.id)
        .where(
            sa.or_(
                CareTeamMember.role == CareRole.CARE_COORDINATOR,
                CareTeamMember.id.in_(coordinated),
            )
        )
        .order_by(CareTeamMember.id)
    )
    scopes += [Scope(first, last, member_id=m, zone=zone) for m in members]
    return scopes


def staff_locales() -> list[str]:
    """The languages staff read the dashboard in (the CCO's default first)."""
    from flask import current_app

    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    used = db.session.scalars(
        sa.select(User.locale)
        .where(User.role.in_([Role.ADMIN, Role.CARE_TEAM]), User.locale.is_not(None))
        .group_by(User.locale)
    )
    return list(dict.fromkeys([default, *used]))


def run(*, echo: Callable[[str], None] = click.echo) -> int:
    """Compute the rollup for today's default period; returns the rows written."""
    first, last = default_period()
    chosen = registry.all_measures()
    locales = staff_locales()
    written = 0
    started = time.perf_counter()
    for scope in rollup_scopes(first, last):
        rows = []
        for locale in locales:
            with force_locale(locale):
                for measure in chosen:
                    rows.append(
                        {
                            "measure": measure.key,
                            "first_day": first,
                            "last_day": last,
                            "scope_key": scope_key(scope),
                            "locale": locale,
                            "computed_at": utcnow(),
                            "result": dump(measure.compute(scope)),
                        }
                    )
        db.session.execute(
            sa.delete(MetricRollup).where(
                MetricRollup.first_day == first,
                MetricRollup.last_day == last,
                MetricRollup.scope_key == scope_key(scope),
            )
        )
        db.session.execute(sa.insert(MetricRollup), rows)
        db.session.commit()
        written += len(rows)
    # Earlier periods are no one's default any more.
    db.session.execute(
        sa.delete(MetricRollup).where(
            sa.or_(MetricRollup.first_day != first, MetricRollup.last_day != last)
        )
    )
    db.session.commit()
    echo(
        f"Rolled up {len(chosen)} measures for {first} to {last}: {written} rows "
        f"({', '.join(locales)}) in {time.perf_counter() - started:.1f} s."
    )
    return written


def is_current() -> bool:
    """Whether today's default period is rolled up already (its whole-CCO rows are there)."""
    first, last = default_period()
    return (
        db.session.scalar(
            sa.select(MetricRollup.id)
            .where(
                MetricRollup.first_day == first,
                MetricRollup.last_day == last,
                MetricRollup.scope_key == "-:-",
            )
            .limit(1)
        )
        is not None
    )


@bp.cli.command("rollup")
@click.option("--if-stale", is_flag=True, help="Do nothing when today's rollup is there.")
def rollup_command(if_stale: bool) -> None:
    """Compute the dashboard's nightly rollup (run after midnight in the CCO's time zone)."""
    if if_stale and is_current():
        click.echo("Today's rollup is there already.")
        return
    run()
