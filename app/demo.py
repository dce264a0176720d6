"""`flask demo seed`: the demo CCO, its care team, three patients, two caregivers, an admin.

Idempotent: running it twice changes nothing. Refuses to run when APP_ENV=production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.caregivers.models import CaregiverGrant, GrantKind, Scope
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

DEMO_PASSWORD = "carecircle-demo"  # noqa: S105 - published in the README on purpose
DOMAIN = "demo.carecircle.test"

demo = AppGroup("demo", help="Demo data for trying CareCircle locally.")

ORGANIZATIONS = [
    ("Willamette Valley Care Partners", OrganizationKind.CCO, "+15035550100"),
    ("Riverbend Family Clinic", OrganizationKind.PRIMARY_CARE, "+15035550110"),
    ("Cascade Behavioral Health", OrganizationKind.BEHAVIORAL_HEALTH, "+15035550120"),
    ("Hillside Community Pharmacy", OrganizationKind.PHARMACY, "+15035550130"),
    ("Community Connections", OrganizationKind.SOCIAL_SERVICES, "+15035550140"),
    ("Valley Smiles Dental", OrganizationKind.DENTAL, "+15035550150"),
    ("Salem Heart and Vascular", OrganizationKind.SPECIALTY, "+15035550160"),
]


@dataclass(frozen=True)
class StaffSpec:
    local: str
    name: str
    org: str
    discipline: Discipline
    title: str
    locale: str = "en"


STAFF = [
    StaffSpec(
        "nurse", "Nina Patel", "Riverbend Family Clinic", Discipline.NURSING, "RN Care Coordinator"
    ),
    StaffSpec(
        "doctor",
        "Dr. Samuel Okafor",
        "Riverbend Family Clinic",
        Discipline.PRIMARY_CARE,
        "Family Physician",
    ),
    StaffSpec(
        "therapist",
        "Leah Cohen",
        "Cascade Behavioral Health",
        Discipline.BEHAVIORAL_HEALTH,
        "Licensed Clinical Social Worker",
    ),
    StaffSpec(
        "pharmacist",
        "Dev Sharma",
        "Hillside Community Pharmacy",
        Discipline.PHARMACY,
        "Clinical Pharmacist",
    ),
    StaffSpec(
        "chw",
        "Lupe Fernández",
        "Community Connections",
        Discipline.SOCIAL_SERVICES,
        "Community Health Worker",
        "es",
    ),
    StaffSpec("dentist", "Dr. Grace Kim", "Valley Smiles Dental", Discipline.DENTAL, "Dentist"),
    StaffSpec(
        "cardiologist",
        "Dr. Henry Walsh",
        "Salem Heart and Vascular",
        Discipline.SPECIALTY,
        "Cardiologist",
    ),
]


def years_ago(years: int, days: int = 0) -> date:
    today = utcnow().date()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    return birthday - timedelta(days=days)


def _user(local: str, name: str, role: Role, locale: str, password_hash: str) -> User:
    email = f"{local}@{DOMAIN}"
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            full_name=name,
            role=role,
            locale=locale,
            password_hash=password_hash,
            password_changed_at=utcnow(),
        )
        db.session.add(user)
        db.session.flush()
    return user


def _patient(member_number: str, **fields) -> Patient:
    patient = db.session.scalar(sa.select(Patient).where(Patient.member_number == member_number))
    if patient is None:
        patient = Patient(member_number=member_number, **fields)
        db.session.add(patient)
        db.session.flush()
    return patient


def _assign(patient: Patient, member: CareTeamMember, coordinator: bool = False) -> None:
    exists = db.session.scalar(
        sa.select(CareTeamAssignment.id).where(
            CareTeamAssignment.patient_id == patient.id,
            CareTeamAssignment.member_id == member.id,
        )
    )
    if exists is None:
        db.session.add(
            CareTeamAssignment(
                patient_id=patient.id, member_id=member.id, is_coordinator=coordinator
            )
        )


def _grant(patient: Patient, caregiver: User, **fields) -> None:
    exists = db.session.scalar(
        sa.select(CaregiverGrant.id).where(
            CaregiverGrant.patient_id == patient.id, CaregiverGrant.caregiver_id == caregiver.id
        )
    )
    if exists is None:
        db.session.add(CaregiverGrant(patient_id=patient.id, caregiver_id=caregiver.id, **fields))


def seed() -> bool:
    """Create the demo data if it is not there. Returns True when anything was created."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("The demo data must never be loaded in production.")
    already = (
        db.session.scalar(sa.select(User.id).where(User.email == f"admin@{DOMAIN}")) is not None
    )
    pw = hash_password(DEMO_PASSWORD)

    orgs: dict[str, Organization] = {}
    cco = None
    for name, kind, phone in ORGANIZATIONS:
        org = db.session.scalar(sa.select(Organization).where(Organization.name == name))
        if org is None:
            org = Organization(name=name, kind=kind, phone=phone, parent_id=cco.id if cco else None)
            db.session.add(org)
            db.session.flush()
        orgs[name] = org
        cco = cco or org

    members: dict[str, CareTeamMember] = {}
    for spec in STAFF:
        user = _user(spec.local, spec.name, Role.CARE_TEAM, spec.locale, pw)
        member = db.session.scalar(
            sa.select(CareTeamMember).where(CareTeamMember.user_id == user.id)
        )
        if member is None:
            member = CareTeamMember(
                user_id=user.id,
                organization_id=orgs[spec.org].id,
                discipline=spec.discipline,
                title=spec.title,
            )
            db.session.add(member)
            db.session.flush()
        members[spec.local] = member

    _user("admin", "Alex Morgan", Role.ADMIN, "en", pw)

    maria_user = _user("maria", "María López", Role.PATIENT, "es", pw)
    maria_user.timezone = "America/Los_Angeles"
    maria = _patient(
        "WVCP-100234",
        user_id=maria_user.id,
        given_name="María",
        family_name="López",
        preferred_name="María",
        pronouns="ella",
        date_of_birth=date(1979, 3, 14),
        language="es",
        interpreter_needed=True,
        timezone="America/Los_Angeles",
        mobile_phone="+15035550101",
        organization_id=cco.id,
    )
    james_user = _user("james", "James Carter", Role.PATIENT, "en", pw)
    james = _patient(
        "WVCP-100871",
        user_id=james_user.id,
        given_name="James",
        family_name="Carter",
        preferred_name="Jim",
        pronouns="he/him",
        date_of_birth=date(1944, 8, 2),
        language="en",
        timezone="America/Los_Angeles",
        mobile_phone="+15035550102",
        organization_id=cco.id,
    )
    # Leo is 15: he has his own login, and a private thread with his care team.
    leo_user = _user("leo", "Leo Martínez", Role.PATIENT, "en", pw)
    leo = _patient(
        "WVCP-101502",
        user_id=leo_user.id,
        given_name="Leo",
        family_name="Martínez",
        preferred_name=None,
        pronouns="he/him",
        date_of_birth=years_ago(15, days=120),
        language="en",
        timezone="America/Los_Angeles",
        mobile_phone=None,
        organization_id=cco.id,
    )

    ana = _user("ana", "Ana Carter", Role.CAREGIVER, "en", pw)
    rosa = _user("rosa", "Rosa Martínez", Role.CAREGIVER, "es", pw)

    _assign(maria, members["nurse"], coordinator=True)
    for key in ("doctor", "pharmacist", "chw", "therapist"):
        _assign(maria, members[key])
    _assign(james, members["nurse"], coordinator=True)
    for key in ("doctor", "pharmacist", "cardiologist", "therapist"):
        _assign(james, members[key])
    _assign(leo, members["nurse"], coordinator=True)
    for key in ("doctor", "dentist", "therapist"):
        _assign(leo, members[key])

    _grant(
        james,
        ana,
        relationship_label="daughter",
        scopes=[
            Scope.PLAN.value,
            Scope.MESSAGES.value,
            Scope.REMINDERS.value,
            Scope.APPOINTMENTS.value,
            Scope.DECISIONS.value,
        ],
        sensitive_categories=[],
    )
    # Rosa is Leo's parent: the care team set her access up on a legal footing. As Leo is
    # a teen, she does not see his confidential care, whatever the grant says.
    _grant(
        leo,
        rosa,
        relationship_label="mother",
        kind=GrantKind.GUARDIAN,
        scopes=[s.value for s in Scope],
        sensitive_categories=[],
        legal_authority="Parent of a minor",
        document_reference="Birth certificate, scanned into the chart",
        granted_by_id=members["nurse"].user_id,
    )
    db.session.flush()

    from app.careplan import demo_decisions, demo_goals, demo_plan

    people = {"maria": maria, "james": james, "leo": leo}
    users = {spec.local: members[spec.local].user_id for spec in STAFF}
    users = {key: db.session.get(User, uid) for key, uid in users.items()}
    users.update(
        {
            "maria": maria_user,
            "james": james_user,
            "leo": leo_user,
            "ana": ana,
            "rosa": rosa,
            "admin": db.session.scalar(sa.select(User).where(User.email == f"admin@{DOMAIN}")),
        }
    )
    demo_plan.seed(people, users, members, orgs)
    demo_goals.seed(people, users, members)
    demo_decisions.seed(people, users, members)
    db.session.flush()
    return not already


@demo.command("seed")
def seed_command() -> None:
    """Load the demo data (safe to run again)."""
    created = seed()
    db.session.commit()
    if created:
        click.echo(f"Demo data loaded. Every demo login uses the password {DEMO_PASSWORD!r}.")
    else:
        click.echo("Demo data already present; nothing to do.")
