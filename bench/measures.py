"""How long each measure takes computed live, without the nightly rollup (issue 18).

    make bench-measures                                  # DATABASE_URL, else the demo database
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_100k make bench-measures
    .venv/bin/python bench/measures.py --repeat 3 --measure plan_reviewed caregivers

Times `compute(scope)` of every registered measure, in process, for the default period (the
last 12 weeks ending yesterday) and three scopes: the whole CCO, the organization with the most
patients, and the care team member with the biggest panel. Each figure is the median of
`--repeat` runs after one warm-up run (the database's caches warm, as for the dashboard during
the day). Read-only: nothing is written. docs/performance.md ("Measures computed live").
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.metrics import measures as registry
from app.metrics.forms import cco_zone, default_period
from app.metrics.measures import Scope
from app.patients.models import Patient
from app.team.models import CareTeamAssignment


def scopes() -> list[tuple[str, Scope]]:
    first, last = default_period()
    zone = cco_zone()
    biggest_org = db.session.execute(
        sa.select(Patient.organization_id, sa.func.count())
        .where(Patient.organization_id.is_not(None))
        .group_by(Patient.organization_id)
        .order_by(sa.func.count().desc())
        .limit(1)
    ).first()
    biggest_panel = db.session.execute(
        sa.select(CareTeamAssignment.member_id, sa.func.count())
        .group_by(CareTeamAssignment.member_id)
        .order_by(sa.func.count().desc())
        .limit(1)
    ).first()
    out = [("whole CCO", Scope(first, last, zone=zone))]
    if biggest_org:
        out.append(
            (
                f"organization ({biggest_org[1]:,} patients)",
                Scope(first, last, organization_id=biggest_org[0], zone=zone),
            )
        )
    if biggest_panel:
        out.append(
            (
                f"panel ({biggest_panel[1]:,} patients)",
                Scope(first, last, member_id=biggest_panel[0], zone=zone),
            )
        )
    return out


def timed(compute, scope: Scope, repeat: int) -> float:
    compute(scope)  # warm-up
    db.session.rollback()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        compute(scope)
        runs.append(time.perf_counter() - started)
        db.session.rollback()
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 3)))
    parser.add_argument("--measure", nargs="*", help="only these measures (keys)")
    args = parser.parse_args()
    overrides = {"LOG_LEVEL": "WARNING"}
    url = os.environ.get("DATABASE_URL")
    if url:
        from config import normalise_database_url

        overrides["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    app = create_app("development", overrides)
    with app.app_context(), app.test_request_context():
        chosen = [m for m in registry.all_measures() if not args.measure or m.key in args.measure]
        patients = db.session.scalar(sa.select(sa.func.count(Patient.id)))
        first, last = default_period()
        print(
            f"{app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}: {patients:,} patients; "
            f"{first} to {last}; median of {args.repeat} after a warm-up; in-process seconds"
        )
        columns = scopes()
        header = ["measure", *[name for name, _ in columns]]
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        totals = [0.0] * len(columns)
        for measure in chosen:
            cells = []
            for index, (_name, scope) in enumerate(columns):
                seconds = timed(measure.compute, scope, args.repeat)
                totals[index] += seconds
                cells.append(f"{seconds:.3f}")
            print(f"| {measure.key} | " + " | ".join(cells) + " |", flush=True)
        print("| **total** | " + " | ".join(f"**{t:.2f}**" for t in totals) + " |")


if __name__ == "__main__":
    main()
