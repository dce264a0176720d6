"""How the reminder pages' audit resources read on "Who has seen my record"."""

from flask_babel import lazy_gettext as _l

AUDIT_RESOURCES = {
    "reminders.texts": _l("The texts we sent you"),
    "patient.reminders": _l("Your text reminders"),
}
