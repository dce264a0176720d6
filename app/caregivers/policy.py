"""The one access policy: who may do what with a patient's data.

Relationships, not roles, decide: a user is the patient, a caregiver with a current grant, a
member of that patient's care team, or an admin, and each capacity has a fixed set of
permissions. Anything not listed is denied. Decisions are cached for the request so a page that
asks several times costs one query per relationship.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, has_request_context

from app.auth.models import Role
from app.caregivers.models import CaregiverGrant, Scope, SensitiveCategory
from app.core.access import Capacity, Decision, Permission
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import Patient
from app.team.models import CareTeamAssignment, CareTeamMember

P = Permission

PATIENT_PERMISSIONS = frozenset(
    set(Permission) - {P.EDIT_PLAN, P.MANAGE_CARE_TEAM, P.MANAGE_DECISIONS, P.TRIAGE_MESSAGES}
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


def current_grant(caregiver_id: int, patient_id: int) -> CaregiverGrant | None:
    now = utcnow()
    return db.session.scalars(
        sa.select(CaregiverGrant)
        .where(
            CaregiverGrant.caregiver_id == caregiver_id,
            CaregiverGrant.patient_id == patient_id,
            CaregiverGrant.current_at(now),
        )
        .order_by(CaregiverGrant.id.desc())
        .limit(1)
    ).first()


def caregiver_permissions(grant: CaregiverGrant) -> frozenset[Permission]:
    allowed = {P.VIEW_SUMMARY}
    for scope_value in grant.scopes or []:
        try:
            allowed |= SCOPE_PERMISSIONS[Scope(scope_value)]
        except ValueError:
            continue  # an unknown scope grants nothing
    return frozenset(allowed)


def hidden_for(grant: CaregiverGrant) -> frozenset[str]:
    """Sensitive categories are hidden from a caregiver unless the patient included them."""
    included = set(grant.sensitive_categories or [])
    return frozenset(c.value for c in SensitiveCategory if c.value not in included)


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
            grant = current_grant(user.id, patient.id)
            if grant is not None:
                return Capacity.CAREGIVER, caregiver_permissions(grant), hidden_for(grant)
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
