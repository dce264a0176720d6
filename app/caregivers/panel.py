"""What a caregiver may see and do for one person, in plain words: the "What you can see and do
for Jim" panel (`caregivers/_scope_panel.html`) on the caregiver's home and on "People I help".

It reads the grant the policy decides with (`queries.current_grant`) and the categories the
policy hides (`policy.hidden_for`, or the request's `g.actor` when it is this caregiver acting
for this person), so the panel never promises more than the policy allows nor less.

It says "Some of Jim's care is private and not shown to you" when anything is hidden from this
caregiver, and never which category, nor how many items: its words depend on the grant and the
age rules only, never on what the record holds, so it cannot tell a caregiver that something
private exists. (Every caregiver has something hidden: the private threads a patient keeps with
their team, `policy.ALWAYS_HIDDEN_FROM_CAREGIVERS`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import g
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import Role
from app.caregivers import bp, grants
from app.caregivers.models import CaregiverGrant, GrantKind, Scope
from app.caregivers.policy import hidden_for
from app.caregivers.queries import current_grant
from app.caregivers.rules import adult_age, birthday_start
from app.core.db import utcnow
from app.core.privacy import Capacity, current_actor
from app.patients.models import Patient


@dataclass(frozen=True)
class ScopePanel:
    """One caregiver's access to one person, worded for the caregiver."""

    #: The person's preferred (or given) name.
    name: str
    #: What the caregiver may see and do ("See Jim's care plan, goals and decisions").
    can: tuple[str, ...]
    #: What they may not, as whole sentences ("You cannot change Jim's contact details...").
    cannot: tuple[str, ...]
    #: Short names of what the grant opens ("Plan", "Messages"), for a one-line summary.
    areas: tuple[str, ...]
    #: Something is hidden from this caregiver (never which category, nor how much).
    private: bool
    #: The last day of access in the person's calendar (None: no end date).
    last_day: date | None
    #: The care team set the access up (a parent, guardian or legal representative), so the
    #: team changes it; otherwise only the person does.
    set_by_team: bool


def _scope_words(name: str) -> dict[Scope, tuple[tuple[str, ...], str, str]]:
    """Per scope: what it lets the caregiver do, the sentence when the grant leaves it out, and
    its short name. Built per call: the words are in the viewer's language."""
    return {
        Scope.PLAN: (
            (
                _("See %(name)s's care plan, goals and decisions", name=name),
                _("Mark %(name)s's tasks done", name=name),
            ),
            _("You cannot see %(name)s's care plan.", name=name),
            _("Plan"),
        ),
        Scope.MESSAGES: (
            (_("Send and read messages with %(name)s's care team", name=name),),
            _("You cannot read or send %(name)s's messages.", name=name),
            _("Messages"),
        ),
        Scope.REMINDERS: (
            (_("Get text reminders for %(name)s", name=name),),
            _("You do not get text reminders for %(name)s.", name=name),
            _("Reminders"),
        ),
        Scope.APPOINTMENTS: (
            (_("Help with %(name)s's appointments", name=name),),
            _("You cannot help with %(name)s's appointments.", name=name),
            _("Appointments"),
        ),
        Scope.GOALS: (
            (
                _("Change %(name)s's goals and preferences", name=name),
                _("Answer the questions about %(name)s's needs", name=name),
            ),
            _("You cannot change %(name)s's goals or preferences.", name=name),
            _("Goals"),
        ),
        Scope.DECISIONS: (
            (_("Take part in decisions about %(name)s's care", name=name),),
            _("You cannot take part in decisions about %(name)s's care.", name=name),
            _("Decisions"),
        ),
    }


def _effective_end(grant: CaregiverGrant, patient: Patient) -> datetime | None:
    """When the access ends: its end date, or for a parent's or guardian's grant without a
    continuing authority the person's ADULT_AGE birthday if that comes first (the age rules)."""
    ends_at = grant.ends_at
    if grant.kind is GrantKind.GUARDIAN and not grant.continuing_authority:
        adult = birthday_start(patient, adult_age())
        ends_at = adult if ends_at is None else min(ends_at, adult)
    return ends_at


def _hidden(grant: CaregiverGrant, patient: Patient, now: datetime) -> frozenset[str]:
    actor = current_actor()
    if (
        actor.capacity is Capacity.CAREGIVER
        and actor.user_id == grant.caregiver_id
        and actor.patient is not None
        and actor.patient.id == patient.id
    ):
        return actor.hidden  # what patient_route put on the request, from the same policy
    return hidden_for(grant, patient, now)


def panel_for(grant: CaregiverGrant, patient: Patient, now: datetime | None = None) -> ScopePanel:
    """The panel for this grant (in force: the caller found it with `grants_in_force`)."""
    now = now or utcnow()
    name = patient.display_name
    scopes = set(grant.scopes or [])
    can = [_("See %(name)s's details and care team", name=name)]
    cannot = []
    areas = []
    for scope, (lines, missing, short) in _scope_words(name).items():
        if scope.value in scopes:
            can.extend(lines)
            areas.append(short)
        else:
            cannot.append(missing)
    # Contact details and text settings are the patient's alone, whatever the grant.
    cannot.append(_("You cannot change %(name)s's contact details or text settings.", name=name))
    return ScopePanel(
        name=name,
        can=tuple(can),
        cannot=tuple(cannot),
        areas=tuple(areas),
        private=bool(_hidden(grant, patient, now)),
        last_day=grants.last_day(patient, _effective_end(grant, patient)),
        set_by_team=grant.kind is not GrantKind.DELEGATE,
    )


@bp.app_template_global()
def what_i_may(patient: Patient | None, grant: CaregiverGrant | None = None) -> ScopePanel | None:
    """What the signed-in caregiver may see and do for `patient`, or None for anyone else (the
    patient, the care team, an administrator, a caregiver without a grant in force).

    `grant`: the caregiver's grant in force for this patient when the caller has it already
    (a list of people); otherwise it is looked up once per request and patient."""
    if (
        patient is None
        or not current_user.is_authenticated
        or current_user.role is not Role.CAREGIVER
    ):
        return None
    if grant is not None and (
        grant.caregiver_id != current_user.id or grant.patient_id != patient.id
    ):
        return None
    cache = g.setdefault("_cc_scope_panels", {})
    key = (current_user.id, patient.id)
    if key not in cache:
        grant = grant or current_grant(current_user.id, patient.id)
        cache[key] = panel_for(grant, patient) if grant is not None else None
    return cache[key]
