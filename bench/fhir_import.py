"""How fast a Synthea bundle imports (issue 17: under a second each; goal 10 bundles a second).

    make bench-fhir                          # SQLite in a throwaway file
    make bench-fhir BENCH_PG_URL=postgresql://postgres@127.0.0.1:5432/test   # and PostgreSQL

In-process, through the same service as `flask fhir import` and `POST /fhir`
(app.fhir.inbound): read the bytes, parse, skip the unused types, validate, write, commit. Each
round imports the four bundles of ../shared/fhir-examples/synthea/ as new records (a source
system per round, so nothing matches) and then again unchanged (the re-import path). Prints
the median and worst time per bundle and bundles per second for both.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from app import create_app
from app.core.privacy import Actor, acting_as
from app.extensions import db
from app.fhir.inbound import import_data, load_json
from config import normalise_database_url

SYNTHEA = Path(__file__).resolve().parents[2] / "shared" / "fhir-examples" / "synthea"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))


def _time(raw: bytes, source: str) -> float:
    start = time.perf_counter()
    with acting_as(Actor.system()):
        import_data(load_json(raw), source_system=source)
    db.session.commit()
    return time.perf_counter() - start


def run(label: str, uri: str, options: dict | None = None) -> None:
    config = {"SQLALCHEMY_DATABASE_URI": uri}
    if options:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app = create_app("testing", config)
    bundles = [(p.name.split("_")[0], p.read_bytes()) for p in sorted(SYNTHEA.glob("*.json"))]
    with app.app_context():
        db.create_all()
        _time(bundles[0][1], "warm-up")  # imports, validators and caches built once
        first, again = [], []
        for round_ in range(ROUNDS):
            for _name, raw in bundles:
                first.append(_time(raw, f"bench-{round_}"))
            for _name, raw in bundles:
                again.append(_time(raw, f"bench-{round_}"))
        db.session.remove()
        db.engine.dispose()
    sizes = ", ".join(f"{len(raw) // 1024} kB" for _n, raw in bundles)
    print(f"\n{label}: {len(bundles)} bundles ({sizes}), {ROUNDS} rounds")
    print("| import | median per bundle | worst | bundles per second |")
    print("|---|---|---|---|")
    for name, times in (("new records", first), ("the same again (unchanged)", again)):
        median = statistics.median(times)
        print(
            f"| {name} | {median * 1000:.0f} ms | {max(times) * 1000:.0f} ms "
            f"| {len(times) / sum(times):.1f} |"
        )


def main() -> None:
    if not SYNTHEA.is_dir():
        sys.exit(f"{SYNTHEA} is absent: nothing to import")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/fhir.db")
    url = os.environ.get("BENCH_PG_URL")
    if url:
        schema = f"bench_fhir_{os.getpid()}"
        engine = sa.create_engine(normalise_database_url(url))
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        try:
            run(
                "PostgreSQL",
                normalise_database_url(url),
                {"connect_args": {"options": f"-csearch_path={schema}"}},
            )
        finally:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            engine.dispose()


if __name__ == "__main__":
    main()
