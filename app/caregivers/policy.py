"""The one access policy: who may do what with a patient's data.

Relationships, not roles, decide: a user is the patient, a caregiver with a current grant, a
member of that patient's care team, or an admin, and each capacity has a fixed set of
permissions. Anything not listed is denied. Decisions are cached for the request so a page that
asks several times costs one query per relationship.

The age rules (`caregivers.rules`) are applied here, on every request, through
`queries.current_grant` and `hidden_for`: from ADOLESCENT_AGE a parent's or guardian's grant no
longer shows the MINOR_CONFIDENTIAL_CATEGORIES, and at ADULT_AGE it stops working unless the
care team recorded a continuing legal authority. The scheduled sweep (`lifecycle.sweep`) only
records and tells people what these rules already decided, so nothing depends on it having run.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g, has_request_context

from app.auth.models import Role
from app.caregivers.models import CaregiverGrant, GrantKind, Scope
from app.caregivers.queries import current_grant
from app.caregivers.rules import is_adolescent
from app.core.access import Decision, Permission
from app.core.db import utcnow
from app.core.privacy import GRANTABLE, Capacity, Sensitivity
from app.extensions import db
from app.patients.models import Patient
from app.team.queries import on_care_team

P = Permission

PATIENT_PERMISSIONS = frozenset(
    set(Permission)
    - {
        P.EDIT_PLAN,
        P.MANAGE_CARE_TEAM,
        P.MANAGE_DECISIONS,
        P.TRIAGE_MESSAGES,
        P.GRANT_LEGAL_ACCESS,
        P.INVITE_TO_PORTAL,
    }
)

CARE_TEAM_PERMISSIONS = frozenset(
    {
        P.VIEW_SUMMARY,
        P.EDIT_PROFILE,
        P.CHANGE_PHONE,
        P.VIEW_PLAN,
        P.VIEW_GOALS,
        P.VIEW_DECISIONS,
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
        P.INVITE_TO_PORTAL,
        P.ANSWER_SCREENING,
        P.VIEW_SCREENING,
    }
)

#: CCO administrators manage accounts and teams; they see no clinical content
#: (minimum necessary) but can answer "who looked at my record" questions.
ADMIN_PERMISSIONS = frozenset(
    {
        P.VIEW_SUMMARY,
        P.VIEW_AUDIT_LOG,
        P.EDIT_PROFILE,
        P.CHANGE_PHONE,
        P.MANAGE_CARE_TEAM,
        P.VIEW_CAREGIVERS,
        P.INVITE_TO_PORTAL,
    }
)

#: An integration client (app.fhir.clients) with the "read" scope, for the patients it was
#: granted: it reads what the FHIR API exports, and changes nothing through it.
INTEGRATION_PERMISSIONS = frozenset(
    {P.VIEW_SUMMARY, P.VIEW_PLAN, P.VIEW_GOALS, P.VIEW_MESSAGES, P.VIEW_CAREGIVERS}
)

#: What each caregiver scope unlocks; any current grant also shows the summary.
SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.PLAN: frozenset({P.VIEW_PLAN, P.VIEW_GOALS, P.VIEW_DECISIONS, P.COMPLETE_TASKS}),
    Scope.MESSAGES: frozenset({P.VIEW_MESSAGES, P.SEND_MESSAGES}),
    Scope.REMINDERS: frozenset(),
    Scope.APPOINTMENTS: frozenset({P.MANAGE_APPOINTMENTS}),
    # The social needs screening is about the person's life, like their goals and preferences
    # (its safety questions are never asked of a caregiver: app.screening.questions).
    Scope.GOALS: frozenset({P.EDIT_GOALS, P.EDIT_PREFERENCES, P.ANSWER_SCREENING}),
    Scope.DECISIONS: frozenset({P.TAKE_PART_IN_DECISIONS}),
}

#: Acting on a thing implies seeing it: a form sent back with an error (422) or a refusal (409)
#: shows the thing again, so whoever may act may see, and every permission set is closed under
#: these (a test walks every combination of scopes).
IMPLIES: dict[Permission, frozenset[Permission]] = {
    P.EDIT_GOALS: frozenset({P.VIEW_GOALS}),
    P.TAKE_PART_IN_DECISIONS: frozenset({P.VIEW_DECISIONS}),
    P.MANAGE_DECISIONS: frozenset({P.VIEW_DECISIONS}),
    P.COMPLETE_TASKS: frozenset({P.VIEW_PLAN}),
    P.EDIT_PLAN: frozenset({P.VIEW_PLAN}),
    P.SEND_MESSAGES: frozenset({P.VIEW_MESSAGES}),
    P.TRIAGE_MESSAGES: frozenset({P.VIEW_MESSAGES}),
    P.MANAGE_CAREGIVERS: frozenset({P.VIEW_CAREGIVERS}),
    P.EDIT_PREFERENCES: frozenset({P.VIEW_SUMMARY}),
    P.TEXT_SETTINGS: frozenset({P.VIEW_SUMMARY}),
    P.CHANGE_PHONE: frozenset({P.VIEW_SUMMARY}),
    P.INVITE_TO_PORTAL: frozenset({P.VIEW_SUMMARY}),
    P.EDIT_PROFILE: frozenset({P.VIEW_SUMMARY}),
    P.DOWNLOAD_RECORD: frozenset({P.VIEW_SUMMARY}),
    P.ANSWER_SCREENING: frozenset({P.VIEW_SUMMARY}),
}


def with_implied(permissions) -> frozenset[Permission]:
    found = set(permissions)
    for permission in list(found):
        found |= IMPLIES.get(permission, frozenset())
    return frozenset(found)


#: Hidden from every caregiver whatever their grant says: what the patient keeps between
#: themselves and the care team (a teen's private thread). No grant can include it.
ALWAYS_HIDDEN_FROM_CAREGIVERS = frozenset({Sensitivity.CONFIDENTIAL.value})


# ------------------------------------------------------------------ grants


#: Grants that make the caregiver the patient's personal representative, who has the
#: patient's right to a copy of the record: "Download my data", filtered like their pages.
#: A helper the patient invited (a delegate) sees the record in the portal only: a
#: downloaded file cannot be taken back when the patient ends their access.
REPRESENTATIVE_KINDS = frozenset({GrantKind.GUARDIAN, GrantKind.LEGAL_REPRESENTATIVE})


def caregiver_permissions(grant: CaregiverGrant) -> frozenset[Permission]:
    allowed = {P.VIEW_SUMMARY}
    if grant.kind in REPRESENTATIVE_KINDS:
        allowed.add(P.DOWNLOAD_RECORD)
    for scope_value in grant.scopes or []:
        try:
            allowed |= SCOPE_PERMISSIONS[Scope(scope_value)]
        except ValueError:
            continue  # an unknown scope grants nothing
    return with_implied(allowed)


def hidden_for(
    grant: CaregiverGrant, patient: Patient | None = None, now: datetime | None = None
) -> frozenset[str]:
    """What this caregiver may not see: every sensitive category the grant does not include,
    always the patient's confidential threads, and, while the patient is a teen, the
    MINOR_CONFIDENTIAL_CATEGORIES for a parent or guardian whatever the grant says."""
    included = set(grant.sensitive_categories or [])
    hidden = {c.value for c in GRANTABLE if c.value not in included}
    hidden |= ALWAYS_HIDDEN_FROM_CAREGIVERS
    if grant.kind is GrantKind.GUARDIAN:
        patient = patient or db.session.get(Patient, grant.patient_id)
        if patient is not None and is_adolescent(patient, now):
            hidden |= set(current_app.config["MINOR_CONFIDENTIAL_CATEGORIES"])
    return frozenset(hidden)


class CareCirclePolicy:
    def load_patient(self, patient_id: int) -> Patient | None:
        return db.session.get(Patient, patient_id)

    def relationship(
        self, user, patient: Patient
    ) -> tuple[Capacity, frozenset[Permission], frozenset[str]] | None:
        """The user's capacity for this patient, what it allows, and what it hides."""
        if not user.is_active:
            return None
        if getattr(user, "is_integration_client", False):
            if user.grants(patient):
                return Capacity.INTEGRATION, INTEGRATION_PERMISSIONS, frozenset()
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
            if on_care_team(patient.id, user_id=user.id):
                return Capacity.CARE_TEAM, CARE_TEAM_PERMISSIONS, frozenset()
            return None
        if user.role is Role.ADMIN:
            return Capacity.ADMIN, ADMIN_PERMISSIONS, frozenset()
        return None

    def decide(self, user, permission: Permission, patient: Patient) -> Decision | None:
        cache = g.setdefault("policy_cache", {}) if has_request_context() else {}
        key = (getattr(user, "policy_key", user.id), patient.id)
        if key not in cache:
            cache[key] = self.relationship(user, patient)
        found = cache[key]
        if found is None:
            return None
        capacity, permissions, hidden = found
        if permission not in permissions:
            return None
        return Decision(capacity, hidden)
