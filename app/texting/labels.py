"""How a text's status, purpose and reason for not going out read, for the patient's history
of texts and the administrators' delivery page."""

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "queued": _l("Waiting to be sent"),
    "sending": _l("Being sent"),
    "stored": _l("Kept in the outbox (test server)"),
    "accepted": _l("Sent"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "read": _l("Delivered"),
    "undelivered": _l("Not delivered"),
    "failed": _l("Not delivered"),
    "skipped": _l("Not sent"),
}

#: Why a planned text was not sent (error_code of a skipped or failed row).
REASON_LABELS = {
    "daily_limit": _l("the daily limit of reminder texts was reached"),
    "weekly_limit": _l("the weekly limit of reminder texts was reached"),
    "turned_off": _l("you turned these texts off"),
    "no_access": _l("the helper's access changed"),
    "opted_out": _l("this number texted STOP"),
}

PURPOSE_LABELS = {
    "appointment": _l("Appointment reminder"),
    "medication": _l("Medicine reminder"),
    "task": _l("Reminder of something to do"),
    "goal": _l("Goal check-in reminder"),
    "caregiver_invite": _l("Invitation to a helper"),
    "caregiver_expiry": _l("A helper's access is ending"),
    "team_replied": _l("New message from your care team"),
    "verify": _l("Code to check your phone number"),
    "number_changed": _l("Notice that your mobile number changed"),
}

AUDIT_RESOURCES = {
    "texting.delivery": _l("Whether a text to you went out (not what it said)"),
    "texting.short_link": _l("A link in a text to you"),
}
