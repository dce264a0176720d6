"""Names the whole plan shares, and how its audit resources read on "Who has seen my record"."""

from flask_babel import get_locale, lazy_pgettext
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

#: Units the plan names (readings, goal targets), as each language writes them ("кг", "كغ").
#: Keys are what is stored; anything else (a unit the team typed) is shown as it was typed.
UNIT_LABELS = {
    "kg": lazy_pgettext("unit", "kg"),
    "lb": lazy_pgettext("unit", "lb"),
    "mmHg": lazy_pgettext("unit", "mmHg"),
    "mg/dL": lazy_pgettext("unit", "mg/dL"),
    "mmol/L": lazy_pgettext("unit", "mmol/L"),
    "steps": _l("steps"),
    "minutes": lazy_pgettext("unit", "minutes"),
    "hours": lazy_pgettext("unit", "hours"),
    "days": lazy_pgettext("unit", "days"),
    "times a week": lazy_pgettext("unit", "times a week"),
    "visits a week": lazy_pgettext("unit", "visits a week"),
}


def unit_label(unit: str | None) -> str:
    """A stored unit in the reader's language, or as typed when the plan does not know it."""
    if not unit:
        return ""
    return str(UNIT_LABELS.get(unit.strip(), unit))


#: The active ingredients the plan knows (the demo, the data generator, the checks), by their
#: stored English key. Flags still match on the key; only the display is translated.
INGREDIENT_LABELS = {
    "acetaminophen": lazy_pgettext("ingredient", "acetaminophen"),
    "albuterol": lazy_pgettext("ingredient", "albuterol"),
    "amlodipine": lazy_pgettext("ingredient", "amlodipine"),
    "apixaban": lazy_pgettext("ingredient", "apixaban"),
    "aspirin": lazy_pgettext("ingredient", "aspirin"),
    "atorvastatin": lazy_pgettext("ingredient", "atorvastatin"),
    "carvedilol": lazy_pgettext("ingredient", "carvedilol"),
    "cholecalciferol": lazy_pgettext("ingredient", "cholecalciferol"),
    "fluoxetine": lazy_pgettext("ingredient", "fluoxetine"),
    "fluticasone": lazy_pgettext("ingredient", "fluticasone"),
    "furosemide": lazy_pgettext("ingredient", "furosemide"),
    "gabapentin": lazy_pgettext("ingredient", "gabapentin"),
    "ibuprofen": lazy_pgettext("ingredient", "ibuprofen"),
    "insulin glargine": lazy_pgettext("ingredient", "insulin glargine"),
    "levothyroxine": lazy_pgettext("ingredient", "levothyroxine"),
    "lisinopril": lazy_pgettext("ingredient", "lisinopril"),
    "losartan": lazy_pgettext("ingredient", "losartan"),
    "metformin": lazy_pgettext("ingredient", "metformin"),
    "montelukast": lazy_pgettext("ingredient", "montelukast"),
    "omeprazole": lazy_pgettext("ingredient", "omeprazole"),
    "prenatal multivitamin": lazy_pgettext("ingredient", "prenatal multivitamin"),
    "sertraline": lazy_pgettext("ingredient", "sertraline"),
}


def ingredient_names(stored) -> str:
    """Ingredients (a list, or the comma-joined text a flag keeps) in the reader's language,
    each one the plan does not know shown as stored; joined as the language lists things."""
    from babel.lists import format_list

    names = stored.split(",") if isinstance(stored, str) else list(stored or [])
    shown = [str(INGREDIENT_LABELS.get(n.strip().lower(), n.strip())) for n in names if n.strip()]
    if not shown:
        return ""
    return format_list(shown, style="standard", locale=get_locale() or "en")


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
    # The care team recorded a past visit (items/attendance.py): neutral words, the patient
    # reads them too.
    "appointment_attended": _l("The visit took place"),
    "appointment_not_attended": _l("The visit did not take place"),
    # The care team translated it (careplan.translations): "translated:<language>".
    "translated:en": _l("Translated into English"),
    "translated:es": _l("Translated into Spanish"),
    "translated:vi": _l("Translated into Vietnamese"),
    "translated:ru": _l("Translated into Russian"),
    "translated:zh": _l("Translated into Chinese"),
    "translated:ar": _l("Translated into Arabic"),
    "translated:so": _l("Translated into Somali"),
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
    "careplan.translation": _l("A translation of your care plan"),
}
