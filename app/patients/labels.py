"""How the record's own audit resources read on "Who has seen my record"."""

from flask_babel import lazy_gettext as _l

#: The common pronouns, offered as choices and shown in the reader's language; stored by these
#: keys. Anything else is the patient's own words ("Prefer to self-describe"), shown as typed.
PRONOUN_LABELS = {
    "she/her": _l("she/her"),
    "he/him": _l("he/him"),
    "they/them": _l("they/them"),
}


def pronouns_label(value: str | None) -> str:
    if not value:
        return ""
    return str(PRONOUN_LABELS.get(value.strip().lower(), value))


AUDIT_RESOURCES = {
    "patient.summary": _l("Your summary page"),
    "patient.home": _l("Your home page"),
    "patient.more": _l("The More page of your record"),
    "patient.profile": _l("Your profile"),
    "patient.access_log": _l("The list of who has seen your record"),
    "patient.preferences": _l("Your preferences"),
}
