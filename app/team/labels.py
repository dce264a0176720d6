from flask_babel import lazy_gettext as _l

from app.team.models import Discipline

DISCIPLINE_LABELS = {
    Discipline.PRIMARY_CARE: _l("Primary care"),
    Discipline.NURSING: _l("Nursing and care coordination"),
    Discipline.BEHAVIORAL_HEALTH: _l("Behavioral health"),
    Discipline.PHARMACY: _l("Pharmacy"),
    Discipline.SPECIALTY: _l("Specialty care"),
    Discipline.DENTAL: _l("Dental"),
    Discipline.SOCIAL_SERVICES: _l("Social services and community health"),
}

AUDIT_RESOURCES = {
    "team.panel": _l("Your name, in their list of patients"),
}
