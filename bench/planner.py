"""How long a planning round takes: the worker plans the next day of chosen-time reminders.

    .venv/bin/python bench/planner.py                                   # SQLite
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/planner.py

Builds N patients (default 1,000), each with a medicine and a twice-daily reminder schedule,
then times `plan_due` twice: the first round plans every text (caps, keys, short links), the
second finds everything planned already (the steady state, every --plan-every seconds).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from datetime import date
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


def main() -> None:
    app, cleanup, engine = make_app()
    try:
        with app.app_context():
            build()
            start = time.perf_counter()
            first = plan_due()
            first_s = time.perf_counter() - start
            start = time.perf_counter()
            second = plan_due()
            second_s = time.perf_counter() - start
            rows = db.session.scalar(sa.select(sa.func.count(OutboundSms.id)))
            db.session.remove()
            db.engine.dispose()
    finally:
        cleanup()
    print(f"{engine}: {PATIENTS} schedules")
    print(f"  first round:  {first} texts planned in {first_s:.1f} s ({first / first_s:.0f}/s)")
    print(f"  steady state: {second} planned, {second_s:.2f} s per round")
    print(f"  outbox rows: {rows}")


if __name__ == "__main__":
    main()
