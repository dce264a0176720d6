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

from app.auth.models import User
from app.caregivers.models import CaregiverGrant, Scope
from app.caregivers.policy import hidden_for
from app.caregivers.queries import current_grant, grants_in_force
from app.careplan.goals.models import Goal
from app.careplan.items.models import PlanItem
from app.core.i18n import recipient_locale
from app.core.privacy import is_visible
from app.extensions import db
from app.patients.models import REMINDER_KINDS, Patient, PatientPreferences
from app.patients.queries import preferences
from app.reminders.models import ReminderSchedule
from app.texting.models import OutboundSms
from app.texting.optout import is_opted_out

#: Texts limited by the frequency caps (reminders.caps); others answer something the person did.
CAPPED_PURPOSES = frozenset({"appointment", "medication", "task", "goal"})
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
    if phone and "sms" in (prefs.contact_channels or []) and not is_opted_out(phone):
        found.append(
            Recipient(
                phone=phone,
                locale=recipient_locale(patient),
                timezone=patient.timezone,
                quiet_start=prefs.quiet_start,
                quiet_end=prefs.quiet_end,
                user_id=patient.user_id,
                is_patient=True,
                detailed=bool(prefs.detailed_texts),
            )
        )
    if kind == "team_replied":
        return found  # the team's answer is told to caregivers by email (messages scope)
    for grant in grants_in_force(patient_id=patient.id):
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
