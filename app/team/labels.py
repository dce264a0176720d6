import re

from flask_babel import lazy_gettext as _l

from app.team.models import CareRole, Discipline

DISCIPLINE_LABELS = {
    Discipline.PRIMARY_CARE: _l("Primary care"),
    Discipline.NURSING: _l("Nursing and care coordination"),
    Discipline.BEHAVIORAL_HEALTH: _l("Behavioral health"),
    Discipline.PHARMACY: _l("Pharmacy"),
    Discipline.SPECIALTY: _l("Specialty care"),
    Discipline.DENTAL: _l("Dental"),
    Discipline.SOCIAL_SERVICES: _l("Social services and community health"),
}

#: A member's role, translated; shown first, with their own free-text title under it.
ROLE_LABELS = {
    CareRole.CARE_COORDINATOR: _l("Care coordinator (nurse)"),
    CareRole.NURSE: _l("Nurse"),
    CareRole.PHYSICIAN: _l("Doctor"),
    CareRole.NURSE_PRACTITIONER: _l("Nurse practitioner"),
    CareRole.PHYSICIAN_ASSISTANT: _l("Physician assistant"),
    CareRole.PHARMACIST: _l("Pharmacist"),
    CareRole.COUNSELOR: _l("Counselor"),
    CareRole.PSYCHIATRIST: _l("Psychiatrist"),
    CareRole.SOCIAL_WORKER: _l("Social worker"),
    CareRole.COMMUNITY_HEALTH_WORKER: _l("Community health worker"),
    CareRole.DENTIST: _l("Dentist"),
    CareRole.DENTAL_HYGIENIST: _l("Dental hygienist"),
    CareRole.SPECIALIST: _l("Specialist"),
    CareRole.MEDICAL_ASSISTANT: _l("Medical assistant"),
    CareRole.PEER_SUPPORT: _l("Peer support specialist"),
    CareRole.OTHER: _l("Care team"),
}

#: Words a free title may use for its role without adding anything (English titles as staff
#: write them: "RN Care Coordinator" says no more than "Care coordinator (nurse)").
_ROLE_WORDS = {
    CareRole.CARE_COORDINATOR: {"rn", "care", "coordinator", "nurse", "registered"},
    CareRole.NURSE: {"rn", "nurse", "registered", "lpn"},
    CareRole.PHYSICIAN: {"dr", "doctor", "physician", "md", "do"},
    CareRole.NURSE_PRACTITIONER: {"np", "nurse", "practitioner", "fnp"},
    CareRole.PHYSICIAN_ASSISTANT: {"pa", "c", "physician", "assistant"},
    CareRole.PHARMACIST: {"pharmacist", "pharmd", "rph"},
    CareRole.COUNSELOR: {"counselor", "behavioral", "health", "clinician"},
    CareRole.PSYCHIATRIST: {"psychiatrist", "dr", "md"},
    CareRole.SOCIAL_WORKER: {"licensed", "clinical", "social", "worker", "lcsw"},
    CareRole.COMMUNITY_HEALTH_WORKER: {"community", "health", "worker", "chw"},
    CareRole.DENTIST: {"dentist", "dds", "dmd", "dr"},
    CareRole.DENTAL_HYGIENIST: {"dental", "hygienist", "rdh"},
    CareRole.SPECIALIST: {"specialist", "doctor", "physician", "dr", "md"},
    CareRole.MEDICAL_ASSISTANT: {"medical", "assistant", "ma"},
    CareRole.PEER_SUPPORT: {"peer", "support", "specialist"},
    CareRole.OTHER: set(),
}


def role_label(member) -> str:
    """The member's role in the reader's language ("Farmacéutico")."""
    return str(ROLE_LABELS.get(member.role, ROLE_LABELS[CareRole.OTHER]))


def title_note(member) -> str | None:
    """The member's own title, when it says more than their translated role does.

    "RN Care Coordinator" under "Care coordinator (nurse)" repeats it (and would put English on
    a Spanish page); "Clinical Pharmacist" under "Pharmacist" adds "Clinical" and is kept.
    """
    title = (member.title or "").strip()
    if not title:
        return None
    words = set(re.findall(r"\w+", title.casefold()))
    shown = set(re.findall(r"\w+", role_label(member).casefold()))
    if words <= (_ROLE_WORDS.get(member.role, set()) | shown):
        return None
    return title


AUDIT_RESOURCES = {
    "team.panel": _l("Your name, in their list of patients"),
}
