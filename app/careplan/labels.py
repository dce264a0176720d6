"""Names the whole plan shares, and how its audit resources read on "Who has seen my record"."""

from flask_babel import lazy_gettext as _l

from app.core.privacy import Capacity

WEEKDAY_LABELS = [
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
]

#: Who wrote or did something, as a role word next to a name ("by Ana (caregiver)").
CAPACITY_LABELS = {
    Capacity.PATIENT.value: _l("patient"),
    Capacity.CAREGIVER.value: _l("caregiver"),
    Capacity.CARE_TEAM.value: _l("care team"),
}

#: What the patient side did, for "What changed": a marker a service puts in PlanChange.fields
#: (items/appointments.py), shown instead of "1 detail changed".
CHANGE_EVENT_LABELS = {
    "appointment_confirmed": _l("Confirmed: will come"),
    "appointment_cancelled": _l("Cancelled: cannot come"),
    "appointment_change_asked": _l("Asked to change the time"),
}

AUDIT_RESOURCES = {
    "careplan.today": _l("Today's plan"),
    "careplan.plan": _l("Your care plan"),
    "careplan.item": _l("An item in your care plan"),
    "careplan.changes": _l("What changed in your plan"),
    "careplan.flag": _l("A check on two items in your plan"),
    "careplan.goal": _l("Your goals"),
    "careplan.goals": _l("Your goals"),
    "careplan.decision": _l("A decision about your care"),
    "careplan.decisions": _l("Decisions about your care"),
}
