"""Who gets a reminder text, in which language, and whether they still should.

The patient, if they chose texts, have a number and did not text STOP; and each caregiver
whose current grant includes the reminders scope, who proved their own mobile number, and
who may see what the reminder is about (a reminder about a behavioral health appointment never
goes to a caregiver the patient did not include in that category). Everyone gets texts in
their own language, in their own quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import sqlalchemy as sa

from app.auth.models import User
from app.caregivers.models import CaregiverGrant, Scope
from app.caregivers.policy import hidden_for
from app.caregivers.queries import current_grant, grants_in_force
from app.careplan.goals.models import Goal
from app.careplan.items.models import PlanItem
from app.core.i18n import recipient_locale
from app.core.privacy import Sensitivity, is_visible
from app.extensions import db
from app.patients.models import REMINDER_KINDS, Patient, PatientPreferences
from app.patients.queries import preferences
from app.reminders.models import ReminderSchedule
from app.texting.models import OutboundSms
from app.texting.optout import is_opted_out

#: Texts limited by the frequency caps (reminders.caps); others answer something the person did.
CAPPED_PURPOSES = frozenset({"appointment", "medication", "task", "goal"})
EVERY_CATEGORY = frozenset(s.value for s in Sensitivity)
#: Caregivers' quiet hours: the same default the patient starts with.
DEFAULT_QUIET = (time(20, 0), time(9, 0))


@dataclass(frozen=True)
class Recipient:
    phone: str
    locale: str
    timezone: str
    quiet_start: time
    quiet_end: time
    #: The account that receives it (the patient's own, or the caregiver's).
    user_id: int | None
    is_patient: bool
    #: Texts may name the medicine or clinic (only the patient's own, if they opted in).
    detailed: bool


def recipients_for(
    patient: Patient,
    kind: str,
    sensitivity: str | None = None,
    prefs: PatientPreferences | None = None,
) -> list[Recipient]:
    assert kind in REMINDER_KINDS, kind
    prefs = prefs or preferences(patient.id)
    if kind not in (prefs.reminder_kinds or []):
        return []
    found: list[Recipient] = []
    phone = patient.mobile_phone
    grants = grants_in_force(patient_id=patient.id)
    shared, hidden_on_phone = _other_holders(patient, phone, grants)
    if (
        phone
        and "sms" in (prefs.contact_channels or [])
        and not is_opted_out(phone)
        and is_visible(sensitivity, hidden_on_phone)
    ):
        found.append(
            Recipient(
                phone=phone,
                locale=recipient_locale(patient),
                timezone=patient.timezone,
                quiet_start=prefs.quiet_start,
                quiet_end=prefs.quiet_end,
                user_id=patient.user_id,
                is_patient=True,
                # a phone someone else also holds is not private: discreet texts only
                detailed=bool(prefs.detailed_texts) and not shared,
            )
        )
    if kind == "team_replied":
        return found  # the team's answer is told to caregivers by email (messages scope)
    for grant in grants:
        caregiver = grant.caregiver
        if not _caregiver_may_get(grant, caregiver, sensitivity):
            continue
        if any(r.phone == caregiver.mobile_phone for r in found):
            continue
        found.append(
            Recipient(
                phone=caregiver.mobile_phone,
                locale=recipient_locale(caregiver),
                timezone=caregiver.timezone,
                quiet_start=DEFAULT_QUIET[0],
                quiet_end=DEFAULT_QUIET[1],
                user_id=caregiver.id,
                is_patient=False,
                detailed=False,
            )
        )
    return found


def _other_holders(patient: Patient, phone: str | None, grants) -> tuple[bool, frozenset[str]]:
    """Whether another account holds the patient's number (a family phone), and what those
    holders may not see: what a text to that number must not be about. A holder without a
    grant in force may see nothing sensitive."""
    if not phone:
        return False, frozenset()
    holders = set(
        db.session.scalars(
            sa.select(User.id).where(User.mobile_phone == phone, User.id != patient.user_id)
        )
    )
    if not holders:
        return False, frozenset()
    hidden: set[str] = set()
    by_caregiver = {g.caregiver_id: g for g in grants}
    for user_id in holders:
        grant = by_caregiver.get(user_id)
        hidden |= hidden_for(grant, patient) if grant is not None else EVERY_CATEGORY
    return True, frozenset(hidden)


def _caregiver_may_get(grant: CaregiverGrant, caregiver: User, sensitivity: str | None) -> bool:
    return (
        Scope.REMINDERS.value in (grant.scopes or [])
        and caregiver.active
        and bool(caregiver.mobile_phone)
        and caregiver.mobile_phone_verified_at is not None
        and is_visible(sensitivity, hidden_for(grant))
        and not is_opted_out(caregiver.mobile_phone)
    )


def still_wanted(row: OutboundSms) -> str | None:
    """Checked by the dispatcher just before sending a planned reminder: None if it should go,
    else why not. Settings and access may have changed since it was planned."""
    if row.purpose not in REMINDER_KINDS or row.patient_id is None:
        return None
    patient = db.session.get(Patient, row.patient_id)
    if patient is None:
        return "no_patient"
    prefs = preferences(patient.id)
    if row.purpose not in (prefs.reminder_kinds or []):
        return "turned_off"
    if row.user_id is None or row.user_id == patient.user_id:
        if "sms" not in (prefs.contact_channels or []) or row.to_number != patient.mobile_phone:
            return "turned_off"
        _shared, hidden_on_phone = _other_holders(
            patient, patient.mobile_phone, grants_in_force(patient_id=patient.id)
        )
        if not is_visible(_sensitivity(row), hidden_on_phone):
            return "no_access"  # someone who may not see it also holds this number now
        return None
    grant = current_grant(row.user_id, patient.id)
    caregiver = db.session.get(User, row.user_id)
    if grant is None or caregiver is None or caregiver.mobile_phone != row.to_number:
        return "no_access"
    if not _caregiver_may_get(grant, caregiver, _sensitivity(row)):
        return "no_access"
    return None


def _sensitivity(row: OutboundSms) -> str | None:
    """The sensitive category of what a reminder is about, if any."""
    if row.plan_item_id is not None:
        item = db.session.get(PlanItem, row.plan_item_id)
        return item.sensitivity.value if item is not None and item.sensitivity else None
    if row.schedule_id is not None:
        schedule = db.session.get(ReminderSchedule, row.schedule_id)
        if schedule is not None and schedule.goal_id is not None:
            goal = db.session.get(Goal, schedule.goal_id)
            return goal.sensitivity.value if goal is not None and goal.sensitivity else None
    return None
