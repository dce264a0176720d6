"""Load -> check -> act for every patient-scoped route.

`patient_route` is the only way a view gets a patient: it loads the patient named in the URL,
asks the one access policy, answers 404 both for "doesn't exist" and "not yours", records the
audit event, and sets `g.actor` (who, in which capacity, for whom, what is hidden). The policy
itself lives with delegated access (`app.caregivers.policy`) and is installed by the app
factory, so this module stays domain-free.

Every endpoint must say what it is: `patient_route(...)`, `finds_patients(...)` (a page that
finds patients itself, such as a list of names, and records a view of each) or
`no_patient_data(...)`; a test walks the URL map and fails on any endpoint that says none. A
refused request is recorded as "denied" (never shown to the patient; the administrators'
security page lists them).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Protocol

from flask import abort, current_app, g, request
from flask_login import current_user, login_required

from app.core import audit
from app.core.errors import RuleError
from app.core.privacy import Actor, Capacity

log = logging.getLogger(__name__)


class Permission(enum.StrEnum):
    VIEW_SUMMARY = "view_summary"  # name, contact, language, care team
    VIEW_AUDIT_LOG = "view_audit_log"  # "Who has seen my record"
    EDIT_PROFILE = "edit_profile"
    VIEW_PLAN = "view_plan"
    VIEW_GOALS = "view_goals"  # the goals pages (with the plan, or to work on goals)
    VIEW_DECISIONS = "view_decisions"  # the decision pages (with the plan, or to take part)
    EDIT_PLAN = "edit_plan"  # care team only
    VIEW_MESSAGES = "view_messages"
    SEND_MESSAGES = "send_messages"
    MANAGE_APPOINTMENTS = "manage_appointments"
    EDIT_GOALS = "edit_goals"
    EDIT_PREFERENCES = "edit_preferences"
    #: The patient's own contact and text settings: how we may reach them, which texts, when,
    #: how detailed. The patient's alone; nobody changes them for the patient.
    TEXT_SETTINGS = "text_settings"
    #: The patient's mobile number: the patient, their care team or an administrator, always
    #: proven with a code texted to the new number (the old number is told).
    CHANGE_PHONE = "change_phone"
    TAKE_PART_IN_DECISIONS = "take_part_in_decisions"
    VIEW_CAREGIVERS = "view_caregivers"
    MANAGE_CAREGIVERS = "manage_caregivers"
    COMPLETE_TASKS = "complete_tasks"  # tick off self-care tasks
    MANAGE_DECISIONS = "manage_decisions"  # open, answer and settle shared decisions (team)
    TRIAGE_MESSAGES = "triage_messages"  # claim, assign, note and resolve threads (team)
    VIEW_TEXTS = "view_texts"  # the history of texts sent about this patient
    MANAGE_CARE_TEAM = "manage_care_team"
    #: Set up a parent's, guardian's or legal representative's access (care team only).
    GRANT_LEGAL_ACCESS = "grant_legal_access"
    #: "Download my data": the whole record as a FHIR Bundle (app.fhir.download). The patient,
    #: and a parent, guardian or legal representative (filtered like their pages).
    DOWNLOAD_RECORD = "download_record"
    #: Give a record without a login (e.g. one imported from an EHR) its patient's account and
    #: email them the link to set a password (care team and administrators).
    INVITE_TO_PORTAL = "invite_to_portal"
    #: Answer the social needs screening (app.screening): the patient, the care team for them,
    #: and a caregiver whose grant lets them change goals and preferences (never the safety
    #: questions: those are asked of the patient or the team only).
    ANSWER_SCREENING = "answer_screening"
    #: Read the screening's answers, the safety ones included: the patient and the care team.
    VIEW_SCREENING = "view_screening"


@dataclass(frozen=True)
class Decision:
    capacity: Capacity
    #: Sensitive categories this user must not see for this patient (e.g. behavioral health
    #: for a caregiver the patient did not include it for).
    hidden: frozenset[str] = frozenset()


class Policy(Protocol):
    def decide(self, user: Any, permission: Permission, patient: Any) -> Decision | None: ...

    def load_patient(self, patient_id: int) -> Any | None: ...


def install(app, policy: Policy) -> None:
    app.extensions["carecircle.policy"] = policy


def _policy() -> Policy:
    return current_app.extensions["carecircle.policy"]


def decide(user, permission: Permission, patient) -> Decision | None:
    """Deny by default: anything the policy does not explicitly allow is refused."""
    if user is None or not getattr(user, "is_authenticated", False) or patient is None:
        return None
    if not isinstance(permission, Permission):
        return None
    return _policy().decide(user, permission, patient)


def can(user, permission: Permission, patient) -> bool:
    return decide(user, permission, patient) is not None


def load_patient(patient_id: int):
    """The patient with this id, or None (for endpoints that find patients themselves)."""
    return _policy().load_patient(patient_id)


def patient_route(permission: Permission, resource: str, action: str | None = None):
    """Decorate a view taking `patient_id` from the URL; the view receives `patient=`.

    Signed-out visitors go to the sign-in page, like `login_required`.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, patient_id: int, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            patient = _policy().load_patient(patient_id)
            decision = decide(current_user, permission, patient)
            if decision is None:
                log.info(
                    "access denied user=%s permission=%s patient_id=%s endpoint=%s",
                    current_user.id,
                    permission.value,
                    patient_id,
                    request.endpoint,
                )
                audit.record_denied(
                    resource=resource,
                    patient_id=patient.id if patient is not None else None,
                    requested_id=patient_id,
                    actor_id=current_user.id,
                    capacity=current_user.role.value,
                )
                abort(404)
            g.actor = Actor(
                user_id=current_user.id,
                capacity=decision.capacity,
                patient=patient,
                hidden=decision.hidden,
            )
            if request.method in ("GET", "HEAD"):
                audit.record(action=action or "view", resource=resource, patient_id=patient.id)
                return view(*args, patient=patient, **kwargs)
            # A change: the view (or its service) records what it changed. If it recorded
            # nothing, record the request as a change when it succeeded and as a view (the
            # form came back with the record's data) when it did not. A request the rules
            # refused changed nothing: it is a view, whatever was recorded on the way.
            before = len(audit.pending_events())
            try:
                response = current_app.make_response(view(*args, patient=patient, **kwargs))
            except RuleError:
                audit.record(action="view", resource=resource, patient_id=patient.id)
                raise
            if len(audit.pending_events()) == before:
                changed = response.status_code < 400
                audit.record(
                    action=(action or "update") if changed else "view",
                    resource=resource,
                    patient_id=patient.id,
                )
            return response

        wrapper.access_rule = ("patient", permission)  # type: ignore[attr-defined]
        return wrapper

    return decorator


def no_patient_data(reason: str):
    """Mark an endpoint that touches no single patient's record, with the reason why."""

    def decorator(view: Callable) -> Callable:
        view.access_rule = ("none", reason)  # type: ignore[attr-defined]
        return view

    return decorator


def finds_patients(reason: str):
    """Mark an endpoint that finds patients itself rather than from a `patient_id` in its URL
    (a list of names, a short link to a record): it asks the policy where it leads into a
    record and records a view of each patient it shows (`audit.record_listed`)."""

    def decorator(view: Callable) -> Callable:
        view.access_rule = ("finds", reason)  # type: ignore[attr-defined]
        return view

    return decorator


def role_required(*roles: enum.Enum):
    """Signed in, and in one of `roles`; anyone else gets 404 (the page is not theirs)."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user.role not in allowed:
                abort(404)
            return view(*args, **kwargs)

        return login_required(wrapper)

    return decorator
