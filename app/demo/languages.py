"""Demo: Lan Nguyễn reads Vietnamese; her son Minh, who helps her, reads English. Each gets
the texts about her appointment in their own language (issue 16: per-recipient languages).

Idempotent: an existing Lan is left alone. Adds and flushes only; the caller commits.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.auth.models import Role
from app.caregivers.grants import grant_access
from app.caregivers.models import Scope
from app.careplan.items.models import Area, ItemKind, OwnerKind, PlanItem
from app.core.db import utcnow
from app.demo import accounts
from app.demo.accounts import Demo
from app.demo.plan import _add, at
from app.extensions import db
from app.team.models import Discipline


def seed(demo: Demo, password_hash: str) -> None:
    lan_user = accounts._user("lan", "Lan Nguyễn", Role.PATIENT, "vi", password_hash)
    minh = accounts._user("minh", "Minh Nguyễn", Role.CAREGIVER, "en", password_hash)
    clinic = demo.orgs["Riverbend Family Clinic"]
    lan = accounts._patient(
        "WVCP-102118",
        user_id=lan_user.id,
        given_name="Lan",
        family_name="Nguyễn",
        preferred_name="Lan",
        pronouns=None,
        date_of_birth=date(1956, 9, 21),
        language="vi",
        interpreter_needed=True,
        timezone="America/Los_Angeles",
        mobile_phone="+15035550104",
        organization_id=demo.orgs["Willamette Valley Care Partners"].id,
    )
    demo.patients["lan"] = lan
    demo.users.update(lan=lan_user, minh=minh)
    if db.session.scalar(sa.select(PlanItem.id).where(PlanItem.patient_id == lan.id).limit(1)):
        return  # seeded before
    if minh.mobile_phone is None:
        minh.mobile_phone = "+15035550105"
        minh.mobile_phone_verified_at = utcnow()
    accounts._assign(lan, demo.members["nurse"], coordinator=True)
    accounts._assign(lan, demo.members["doctor"])
    accounts._prefs(
        lan,
        contact_channels=["sms", "portal"],
        reminder_lead_hours=[48, 2],
        what_matters_most="Khỏe mạnh để chăm sóc vườn rau và các cháu.",
        preferred_pharmacy="Hillside Community Pharmacy",
        decision_involvement="Con trai tôi, Minh.",
    )
    db.session.flush()
    grant_access(
        lan,
        minh,
        relationship="son",
        scopes=[Scope.PLAN.value, Scope.REMINDERS.value, Scope.APPOINTMENTS.value],
    )
    nurse = demo.members["nurse"]
    _add(
        lan,
        demo.users["doctor"],
        kind=ItemKind.APPOINTMENT,
        title="Khám sức khỏe định kỳ",
        starts_at=at(lan, 3, 9, 30),
        location="Riverbend Family Clinic, 120 Main St, Salem",
        with_whom="Dr. Samuel Okafor",
        interpreter_booked=True,
        preparation="Mang theo tất cả thuốc quý vị đang dùng.",
        why_it_matters="Bác sĩ xem lại huyết áp và thuốc của quý vị.",
        area=Area.PHYSICAL_HEALTH,
        discipline=Discipline.PRIMARY_CARE,
        source_organization_id=clinic.id,
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=nurse.id,
    )
    db.session.flush()
