"""The one access policy: who may do what with a patient's data.

Relationships, not roles, decide: a user is the patient, a caregiver with a current grant, a
member of that patient's care team, or an admin, and each capacity has a fixed set of
permissions. Anything not listed is denied. Decisions are cached for the request so a page that
asks several times costs one query per relationship.

The age rules are applied here, on every request, from the patient's date of birth in their
own time zone: from ADOLESCENT_AGE a parent's or guardian's grant no longer shows the
MINOR_CONFIDENTIAL_CATEGORIES, and at ADULT_AGE it stops working unless the care team recorded
a continuing legal authority. The scheduled sweep (`lifecycle.sweep`) only records and tells
people what these rules already decided, so nothing depends on it having run.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import current_app, g, has_request_context

from app.auth.models import Role
from app.caregivers.models import CaregiverGrant, GrantKind, Scope, SensitiveCategory
from app.careplan.models import Sensitivity
from app.core.access import Capacity, Decision, Permission
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import Patient
from app.team.models import CareTeamAssignment, CareTeamMember

P = Permission

PATIENT_PERMISSIONS = frozenset(
    set(Permission)
    - {
        P.EDIT_PLAN,
        P.MANAGE_CARE_TEAM,
        P.MANAGE_DECISIONS,
        P.TRIAGE_MESSAGES,
        P.GRANT_LEGAL_ACCESS,
    }
)

CARE_TEAM_PERMISSIONS = frozenset(
    {
        P.VIEW_SUMMARY,
        P.EDIT_PROFILE,
        P.VIEW_PLAN,
        P.EDIT_PLAN,
        P.VIEW_MESSAGES,
        P.SEND_MESSAGES,
        P.MANAGE_APPOINTMENTS,
        P.EDIT_GOALS,
        P.VIEW_CAREGIVERS,
        P.COMPLETE_TASKS,
        P.MANAGE_DECISIONS,
        P.TRIAGE_MESSAGES,
        P.VIEW_TEXTS,
        P.GRANT_LEGAL_ACCESS,
    }
)

#: CCO administrators manage accounts and teams; they see no clinical content
#: (minimum necessary) but can answer "who looked at my record" questions.
ADMIN_PERMISSIONS = frozenset(
    {P.VIEW_SUMMARY, P.VIEW_AUDIT_LOG, P.EDIT_PROFILE, P.MANAGE_CARE_TEAM, P.VIEW_CAREGIVERS}
)

#: What each caregiver scope unlocks; any current grant also shows the summary.
SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.PLAN: frozenset({P.VIEW_PLAN, P.COMPLETE_TASKS}),
    Scope.MESSAGES: frozenset({P.VIEW_MESSAGES, P.SEND_MESSAGES}),
    Scope.REMINDERS: frozenset(),
    Scope.APPOINTMENTS: frozenset({P.MANAGE_APPOINTMENTS}),
    Scope.GOALS: frozenset({P.EDIT_GOALS, P.EDIT_PREFERENCES}),
    Scope.DECISIONS: frozenset({P.TAKE_PART_IN_DECISIONS}),
}

#: Hidden from every caregiver whatever their grant says: what the patient keeps between
#: themselves and the care team (a teen's private thread). No grant can include it.
ALWAYS_HIDDEN_FROM_CAREGIVERS = frozenset({Sensitivity.CONFIDENTIAL.value})


# ------------------------------------------------------------------ age rules


def patient_zone(patient: Patient) -> ZoneInfo:
    try:
        return ZoneInfo(patient.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today(patient: Patient, now: datetime | None = None) -> date:
    """The patient's calendar day at `now`: birthdays start at their midnight, not UTC's."""
    return (now or utcnow()).astimezone(patient_zone(patient)).date()


def age_at(patient: Patient, now: datetime | None = None) -> int:
    return patient.age_on(local_today(patient, now))


def birthday_start(patient: Patient, years: int) -> datetime:
    """The instant the patient turns `years`: midnight of that birthday in their time zone.

    Someone born on 29 February turns a year older on 1 March in common years, as
    `Patient.age_on` counts it.
    """
    dob = patient.date_of_birth
    try:
        day = dob.replace(year=dob.year + years)
    except ValueError:
        day = date(dob.year + years, 3, 1)
    return datetime.combine(day, time(0), tzinfo=patient_zone(patient))


def adolescent_age() -> int:
    return current_app.config["ADOLESCENT_AGE"]


def adult_age() -> int:
    return current_app.config["ADULT_AGE"]


def is_adolescent(patient: Patient, now: datetime | None = None) -> bool:
    """Old enough for privacy from a parent, not yet an adult (ADOLESCENT_AGE..ADULT_AGE-1)."""
    return adolescent_age() <= age_at(patient, now) < adult_age()


def ended_by_age(grant: CaregiverGrant, patient: Patient, now: datetime | None = None) -> bool:
    """A parent's or guardian's access ends when the patient becomes an adult, unless the
    care team recorded a legal authority that continues (e.g. guardianship of an adult)."""
    return (
        grant.kind is GrantKind.GUARDIAN
        and not grant.continuing_authority
        and age_at(patient, now) >= adult_age()
    )


def in_force(grant: CaregiverGrant, patient: Patient, now: datetime | None = None) -> bool:
    """Current (not revoked, started, not past ends_at) and not ended by the age rules."""
    now = now or utcnow()
    return grant.is_current(now) and not ended_by_age(grant, patient, now)


# ------------------------------------------------------------------ grants


def current_grant(
    caregiver_id: int, patient_id: int, now: datetime | None = None
) -> CaregiverGrant | None:
    """The caregiver's newest grant for this patient that is in force right now."""
    now = now or utcnow()
    grants = db.session.scalars(
        sa.select(CaregiverGrant)
        .where(
            CaregiverGrant.caregiver_id == caregiver_id,
            CaregiverGrant.patient_id == patient_id,
            CaregiverGrant.current_at(now),
        )
        .order_by(CaregiverGrant.id.desc())
    ).all()
    if not grants:
        return None
    patient = db.session.get(Patient, patient_id)
    for grant in grants:
        if not ended_by_age(grant, patient, now):
            return grant
    return None


def caregiver_permissions(grant: CaregiverGrant) -> frozenset[Permission]:
    allowed = {P.VIEW_SUMMARY}
    for scope_value in grant.scopes or []:
        try:
            allowed |= SCOPE_PERMISSIONS[Scope(scope_value)]
        except ValueError:
            continue  # an unknown scope grants nothing
    return frozenset(allowed)


def hidden_for(
    grant: CaregiverGrant, patient: Patient | None = None, now: datetime | None = None
) -> frozenset[str]:
    """What this caregiver may not see: every sensitive category the grant does not include,
    always the patient's confidential threads, and, while the patient is a teen, the
    MINOR_CONFIDENTIAL_CATEGORIES for a parent or guardian whatever the grant says."""
    included = set(grant.sensitive_categories or [])
    hidden = {c.value for c in SensitiveCategory if c.value not in included}
    hidden |= ALWAYS_HIDDEN_FROM_CAREGIVERS
    if grant.kind is GrantKind.GUARDIAN:
        patient = patient or db.session.get(Patient, grant.patient_id)
        if patient is not None and is_adolescent(patient, now):
            hidden |= set(current_app.config["MINOR_CONFIDENTIAL_CATEGORIES"])
    return frozenset(hidden)


def on_care_team(user_id: int, patient_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(CareTeamAssignment.id)
            .join(CareTeamMember, CareTeamMember.id == CareTeamAssignment.member_id)
            .where(
                CareTeamAssignment.patient_id == patient_id,
                CareTeamMember.user_id == user_id,
            )
            .limit(1)
        )
        is not None
    )


class CareCirclePolicy:
    def load_patient(self, patient_id: int) -> Patient | None:
        return db.session.get(Patient, patient_id)

    def relationship(
        self, user, patient: Patient
    ) -> tuple[Capacity, frozenset[Permission], frozenset[str]] | None:
        """The user's capacity for this patient, what it allows, and what it hides."""
        if not user.is_active:
            return None
        if patient.user_id is not None and patient.user_id == user.id:
            return Capacity.PATIENT, PATIENT_PERMISSIONS, frozenset()
        if user.role is Role.CAREGIVER:
            now = utcnow()
            grant = current_grant(user.id, patient.id, now)
            if grant is not None:
                return (
                    Capacity.CAREGIVER,
                    caregiver_permissions(grant),
                    hidden_for(grant, patient, now),
                )
            return None
        if user.role is Role.CARE_TEAM:
            if on_care_team(user.id, patient.id):
                return Capacity.CARE_TEAM, CARE_TEAM_PERMISSIONS, frozenset()
            return None
        if user.role is Role.ADMIN:
            return Capacity.ADMIN, ADMIN_PERMISSIONS, frozenset()
        return None

    def decide(self, user, permission: Permission, patient: Patient) -> Decision | None:
        cache = g.setdefault("policy_cache", {}) if has_request_context() else {}
        key = (user.id, patient.id)
        if key not in cache:
            cache[key] = self.relationship(user, patient)
        found = cache[key]
        if found is None:
            return None
        capacity, permissions, hidden = found
        if permission not in permissions:
            return None
        return Decision(capacity, hidden)
