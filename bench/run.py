"""Foundation benchmarks: Argon2id cost, and page latency with a realistic amount of data.

    make bench                       # SQLite
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test make bench

Builds its own data in a throwaway SQLite file or a throwaway PostgreSQL schema: 2,000
patients, a 6-person care team each, and 200,000 audit events, then times pages through the
WSGI app in-process (no network), so the numbers are the app's and the database's own.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyotp
import sqlalchemy as sa

from app import create_app
from app.auth.models import Role, User
from app.auth.passwords import hash_password, verify_password
from app.careplan.items.models import PlanItem
from app.core import audit
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import Patient
from app.team.models import (
    CareTeamAssignment,
    CareTeamMember,
    Discipline,
    Organization,
    OrganizationKind,
)

PATIENTS = int(os.environ.get("BENCH_PATIENTS", 2000))
EVENTS = int(os.environ.get("BENCH_EVENTS", 200_000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 200))
PASSWORD = "benchmark password"  # noqa: S105
BENCH_MFA_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105
NO_DETAILS = {
    "acting_for_patient_id": None,
    "resource_id": None,
    "endpoint": None,
    "ip_address": None,
}


def build(app) -> dict:
    rng = random.Random(7)
    with app.app_context():
        db.create_all()
        pw = hash_password(PASSWORD)
        org = Organization(name="Clinic", kind=OrganizationKind.PRIMARY_CARE)
        db.session.add(org)
        db.session.flush()
        staff_users = [
            User(
                email=f"staff{i}@bench.test",
                full_name=f"Staff {i}",
                role=Role.CARE_TEAM,
                password_hash=pw,
                mfa_secret=BENCH_MFA_SECRET,  # staff must use two-step sign-in
                mfa_enabled_at=utcnow(),
            )
            for i in range(60)
        ]
        db.session.add_all(staff_users)
        db.session.flush()
        members = [
            CareTeamMember(
                user_id=u.id,
                organization_id=org.id,
                discipline=list(Discipline)[i % 7],
                title="Title",
            )
            for i, u in enumerate(staff_users)
        ]
        db.session.add_all(members)
        db.session.flush()
        patient_users = [
            User(
                email=f"p{i}@bench.test",
                full_name=f"Patient {i}",
                role=Role.PATIENT,
                password_hash=pw,
            )
            for i in range(PATIENTS)
        ]
        db.session.add_all(patient_users)
        db.session.flush()
        patients = [
            Patient(
                user_id=u.id,
                given_name="P",
                family_name=str(i),
                date_of_birth=date(1950, 1, 1) + timedelta(days=i),
            )
            for i, u in enumerate(patient_users)
        ]
        db.session.add_all(patients)
        db.session.flush()
        rows = []
        for p in patients:
            for j, m in enumerate(rng.sample(members, 6)):
                rows.append(
                    {
                        "patient_id": p.id,
                        "member_id": m.id,
                        "is_coordinator": j == 0,
                        "added_at": utcnow(),
                    }
                )
        db.session.execute(sa.insert(CareTeamAssignment), rows)
        now = utcnow()
        batch = []
        for k in range(EVENTS):
            batch.append(
                {
                    "occurred_at": now - timedelta(minutes=k),
                    "actor_id": rng.choice(staff_users).id,
                    "capacity": "care_team",
                    "patient_id": rng.choice(patients).id,
                    "action": "view",
                    "resource": "patient.summary",
                    **NO_DETAILS,
                }
            )
            if len(batch) == 10_000:
                audit.write(db.session, batch)  # linked into the hash chain, as the app does
                batch = []
        if batch:
            audit.write(db.session, batch)
        # A care plan of 10 items for every patient, 60 for the one we time.
        item_rows = []
        for p in patients:
            for k in range(60 if p is patients[0] else 10):
                kind = ["task", "medication", "appointment", "test", "referral"][k % 5]
                item_rows.append(
                    {
                        "patient_id": p.id,
                        "kind": kind,
                        "title": f"Item {k}",
                        "area": "daily_living",
                        "status": "active",
                        "discipline": "nursing",
                        "source_organization_id": org.id,
                        "owner_kind": "patient",
                        "schedule": "daily" if kind == "task" else None,
                        "medication_name": f"Med {k}" if kind == "medication" else None,
                        "ingredients": [f"ing{k}"] if kind == "medication" else None,
                        "prescriber_name": "Dr. B" if kind == "medication" else None,
                        "starts_at": now + timedelta(days=k % 7, hours=2)
                        if kind == "appointment"
                        else None,
                        "code": f"{k}-1" if kind == "test" else None,
                        "referral_status": "sent" if kind == "referral" else None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        db.session.execute(sa.insert(PlanItem), item_rows)
        db.session.commit()
        return {
            "patient_id": patients[0].id,
            "email": patient_users[0].email,
            "staff_email": staff_users[0].email,
        }


def timed(client, url, n) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return out


def summary(label, samples) -> str:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    rate = 1000 / statistics.mean(samples)
    return f"| {label} | {statistics.median(samples):.1f} | {p95:.1f} | {rate:.0f} |"


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    schema = None
    tmp = tempfile.TemporaryDirectory()
    if url.startswith("postgres"):
        from config import normalise_database_url

        schema = f"cc_bench_{uuid.uuid4().hex[:8]}"
        url = normalise_database_url(url)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        overrides = {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
        }
    else:
        overrides = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp.name}/bench.db"}
    overrides.update({"RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    app = create_app("testing", overrides)
    backend = "PostgreSQL" if schema else "SQLite"
    try:
        start = time.perf_counter()
        ids = build(app)
        print(
            f"built {PATIENTS} patients, {EVENTS} audit events on {backend} "
            f"in {time.perf_counter() - start:.1f}s"
        )
        # Argon2id with the production parameters
        prod = create_app(
            "testing", {**overrides, "ARGON2_TIME_COST": 3, "ARGON2_MEMORY_COST_KIB": 65536}
        )
        with prod.app_context():
            hashed = hash_password(PASSWORD)
            argon = []
            for _ in range(10):
                t = time.perf_counter()
                verify_password(hashed, PASSWORD)
                argon.append((time.perf_counter() - t) * 1000)
        client = app.test_client()
        client.post("/auth/login", data={"email": ids["email"], "password": PASSWORD})
        pid = ids["patient_id"]
        rows = [
            summary("Argon2id verify (t=3, m=64 MiB)", argon),
            summary("patient summary page", timed(client, f"/patients/{pid}", REQUESTS)),
            summary(
                "who has seen my record (page 1)",
                timed(client, f"/patients/{pid}/access-log", REQUESTS),
            ),
        ]
        staff = app.test_client()
        staff.post("/auth/login", data={"email": ids["staff_email"], "password": PASSWORD})
        staff.post("/auth/mfa", data={"code": pyotp.TOTP(BENCH_MFA_SECRET).now()})
        rows.append(
            summary("care team: my patients (page 1)", timed(staff, "/team/patients", REQUESTS))
        )
        for label, path in (("Today (60-item plan)", "today"), ("My plan (60 items)", "plan")):
            rows.append(summary(label, timed(client, f"/patients/{pid}/{path}", REQUESTS)))
        print(f"\n{backend}, {PATIENTS} patients, {EVENTS} audit events, {REQUESTS} requests each")
        print("| what | median ms | p95 ms | per second (1 worker) |")
        print("|---|---|---|---|")
        print("\n".join(rows))
    finally:
        with app.app_context():
            db.engine.dispose()
        if schema:
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        tmp.cleanup()


if __name__ == "__main__":
    main()
