"""How the record's own audit resources read on "Who has seen my record"."""

from flask_babel import lazy_gettext as _l

AUDIT_RESOURCES = {
    "patient.summary": _l("Your summary page"),
    "patient.home": _l("Your home page"),
    "patient.more": _l("The More page of your record"),
    "patient.profile": _l("Your profile"),
    "patient.access_log": _l("The list of who has seen your record"),
    "patient.preferences": _l("Your preferences"),
}
