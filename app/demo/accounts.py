"""The demo CCO: its organizations, care team, admin, three patients with their preferences,
two caregivers' accounts, and each patient's care team."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from app.auth import mfa
from app.auth.models import Role, User
from app.auth.services import create_account
from app.core.db import utcnow
from app.core.display import TextSize
from app.extensions import db
from app.patients.models import Patient, PatientPreferences
from app.team.models import (
    CareRole,
    CareTeamAssignment,
    CareTeamMember,
    Discipline,
    Organization,
    OrganizationKind,
)

DEMO_PASSWORD = "carecircle-demo"  # noqa: S105 - published in the README on purpose
DOMAIN = "demo.carecircle.test"


@dataclass
class Demo:
    """What the demo modules build on: people by short name."""

    orgs: dict[str, Organization] = field(default_factory=dict)
    members: dict[str, CareTeamMember] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    patients: dict[str, Patient] = field(default_factory=dict)


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


#: Each demo member's role, shown translated before their own title.
STAFF_ROLES = {
    "nurse": CareRole.CARE_COORDINATOR,
    "doctor": CareRole.PHYSICIAN,
    "therapist": CareRole.SOCIAL_WORKER,
    "pharmacist": CareRole.PHARMACIST,
    "chw": CareRole.COMMUNITY_HEALTH_WORKER,
    "dentist": CareRole.DENTIST,
    "cardiologist": CareRole.SPECIALIST,
}


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
        user = create_account(
            email=email, full_name=name, role=role, locale=locale, password_hash=password_hash
        )
    if mfa.required_for(user) and not user.mfa_enabled:
        mfa.enrol_for_demo(user)  # the published demo key (README); refused in production
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


def _prefs(patient: Patient, **fields) -> None:
    exists = db.session.scalar(
        sa.select(PatientPreferences.id).where(PatientPreferences.patient_id == patient.id)
    )
    if exists is None:
        db.session.add(PatientPreferences(patient_id=patient.id, **fields))
        if patient.user_id is not None:
            # What they asked for shows on their own screen (app.core.display): James reads
            # his pages in larger text.
            user = db.session.get(User, patient.user_id)
            if fields.get("large_text"):
                user.text_size = TextSize.LARGE
            if fields.get("high_contrast"):
                user.high_contrast = True


def seed(password_hash: str) -> Demo:
    """The organizations, the care team, the admin, the patients and caregivers' accounts."""
    demo = Demo()
    cco = None
    for name, kind, phone in ORGANIZATIONS:
        org = db.session.scalar(sa.select(Organization).where(Organization.name == name))
        if org is None:
            org = Organization(name=name, kind=kind, phone=phone, parent_id=cco.id if cco else None)
            db.session.add(org)
            db.session.flush()
        demo.orgs[name] = org
        cco = cco or org

    for spec in STAFF:
        user = _user(spec.local, spec.name, Role.CARE_TEAM, spec.locale, password_hash)
        member = db.session.scalar(
            sa.select(CareTeamMember).where(CareTeamMember.user_id == user.id)
        )
        if member is None:
            member = CareTeamMember(
                user_id=user.id,
                organization_id=demo.orgs[spec.org].id,
                discipline=spec.discipline,
                role=STAFF_ROLES[spec.local],
                title=spec.title,
            )
            db.session.add(member)
            db.session.flush()
        demo.members[spec.local] = member
        demo.users[spec.local] = user

    demo.users["admin"] = _user("admin", "Alex Morgan", Role.ADMIN, "en", password_hash)

    maria_user = _user("maria", "María López", Role.PATIENT, "es", password_hash)
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
    james_user = _user("james", "James Carter", Role.PATIENT, "en", password_hash)
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
    leo_user = _user("leo", "Leo Martínez", Role.PATIENT, "en", password_hash)
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
    demo.patients.update(maria=maria, james=james, leo=leo)
    demo.users.update(
        maria=maria_user,
        james=james_user,
        leo=leo_user,
        ana=_user("ana", "Ana Carter", Role.CAREGIVER, "en", password_hash),
        rosa=_user("rosa", "Rosa Martínez", Role.CAREGIVER, "es", password_hash),
    )

    members = demo.members
    _assign(maria, members["nurse"], coordinator=True)
    for key in ("doctor", "pharmacist", "chw", "therapist"):
        _assign(maria, members[key])
    _assign(james, members["nurse"], coordinator=True)
    for key in ("doctor", "pharmacist", "cardiologist", "therapist"):
        _assign(james, members[key])
    _assign(leo, members["nurse"], coordinator=True)
    for key in ("doctor", "dentist", "therapist"):
        _assign(leo, members[key])

    _prefs(
        maria,
        contact_channels=["sms", "portal"],
        reminder_lead_hours=[48, 2],
        what_matters_most="Estar sana para cuidar a mis nietos y seguir trabajando.",
        preferred_pharmacy="Hillside Community Pharmacy",
        decision_involvement="Mi hija Lucía, cuando se trate de medicinas nuevas.",
    )
    _prefs(
        james,
        contact_channels=["sms", "email", "portal"],
        reminder_lead_hours=[48, 2],
        large_text=True,
        what_matters_most="Keep gardening and living in my own home.",
        preferred_pharmacy="Hillside Community Pharmacy",
        decision_involvement="My daughter Ana.",
    )
    _prefs(
        leo,
        contact_channels=["portal"],
        reminder_lead_hours=[24],
        what_matters_most="Playing soccer with my team.",
        decision_involvement="My mom, Rosa.",
    )
    db.session.flush()
    return demo
