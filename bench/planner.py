"""How long a planning round takes: the worker plans the next day of chosen-time reminders.

    .venv/bin/python bench/planner.py                                   # SQLite
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/planner.py

Builds N patients (default 1,000), each with a medicine and a twice-daily reminder schedule,
then times `plan_due`: the first round plans every text (caps, keys, short links); a round a
minute later finds nothing new (the steady state of `flask reminders plan`, every minute: one
indexed query on planned_until); a round 12 hours later plans what came within the horizon
since; a full round (every schedule, hourly) is timed for comparison with the old planner,
which did a full round every minute (41-50 s for 10,000 schedules).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from app import create_app
from app.careplan.items.models import Area, ItemKind, OwnerKind, PlanItem
from app.extensions import db
from app.patients.models import Patient, PatientPreferences
from app.reminders.models import ReminderSchedule, TextConsent
from app.reminders.recurring import plan_due
from app.team.models import Discipline, Organization, OrganizationKind
from app.texting.models import OutboundSms

PATIENTS = int(os.environ.get("BENCH_PATIENTS", 1000))


def make_app():
    url = os.environ.get("DATABASE_URL")
    overrides = {"LOG_LEVEL": "WARNING"}
    if url:
        from config import normalise_database_url

        schema = f"cc_bench_plan_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(normalise_database_url(url))
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        overrides |= {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(url),
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
        }
        return create_app("testing", overrides), lambda: _drop(admin, schema), "PostgreSQL"
    path = Path(tempfile.mkdtemp()) / "plan.db"
    overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    return create_app("testing", overrides), lambda: None, "SQLite"


def _drop(engine, schema: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def build() -> None:
    db.create_all()
    org = Organization(name="Clinic", kind=OrganizationKind.PRIMARY_CARE)
    db.session.add(org)
    db.session.flush()
    for i in range(PATIENTS):
        patient = Patient(
            given_name=f"P{i}",
            family_name="Bench",
            date_of_birth=date(1960, 1, 1),
            mobile_phone=f"+1503{i:07d}",
        )
        db.session.add(patient)
        db.session.flush()
        db.session.add(PatientPreferences(patient_id=patient.id))
        db.session.add(TextConsent(patient_id=patient.id, given=True, wording="b", locale="en"))
        item = PlanItem(
            patient_id=patient.id,
            kind=ItemKind.MEDICATION,
            title="Take a pill",
            medication_name="Pill",
            area=Area.MEDICINES,
            discipline=Discipline.PRIMARY_CARE,
            source_organization_id=org.id,
            owner_kind=OwnerKind.PATIENT,
        )
        db.session.add(item)
        db.session.flush()
        db.session.add(
            ReminderSchedule(patient_id=patient.id, plan_item_id=item.id, times=["10:00", "18:00"])
        )
    db.session.commit()


def timed(now, full=False) -> tuple[int, float, int]:
    statements = []

    def count(*_args) -> None:
        statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    start = time.perf_counter()
    try:
        planned = plan_due(now=now, full=full)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return planned, time.perf_counter() - start, len(statements)


def main() -> None:
    app, cleanup, engine = make_app()
    now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    rounds = [
        ("first round", now, False),
        ("a minute later (steady)", now + timedelta(minutes=1), False),
        ("12 hours later", now + timedelta(hours=12), False),
        ("full round (hourly)", now + timedelta(hours=12, minutes=1), True),
    ]
    results = []
    try:
        with app.app_context():
            build()
            for name, at, full in rounds:
                results.append((name, *timed(at, full)))
            rows = db.session.scalar(sa.select(sa.func.count(OutboundSms.id)))
            db.session.remove()
            db.engine.dispose()
    finally:
        cleanup()
    print(f"{engine}: {PATIENTS} schedules, {rows} outbox rows at the end")
    print("| round | texts planned | seconds | SQL statements |\n|---|---|---|---|")
    for name, planned, seconds, statements in results:
        print(f"| {name} | {planned} | {seconds:.2f} | {statements} |")


if __name__ == "__main__":
    main()
