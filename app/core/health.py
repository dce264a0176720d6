"""`GET /healthz`: the load balancer's probe, and the benchmarks' yardstick (docs/performance.md
gives every figure as a ratio to it, measured in the same run). It asks the database one
trivial question and says nothing else."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from app.core.access import no_patient_data
from app.extensions import db


@no_patient_data("a health probe: answers ok when the database answers")
def healthz():
    db.session.execute(sa.text("SELECT 1"))
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


def register(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
