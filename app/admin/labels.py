"""How the administrators' Delivery page words a text's or an email's status, and why a text
waits or did not go out. Plain words for whoever watches delivery; never what a message says."""

from flask_babel import lazy_gettext as _l

#: The status of a text, as the Delivery page says it (a status not listed reads as its group
#: in `TEXT_STATUS_FALLBACK`).
TEXT_STATUS = {
    "queued": _l("Waiting"),
    "sending": _l("Sending"),
    "stored": _l("Kept on the test server"),
    "accepted": _l("Sent"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "read": _l("Delivered"),
    "undelivered": _l("Not delivered"),
    "failed": _l("Not sent"),
    "skipped": _l("Not sent"),
}
#: A status the provider may report that we do not know by name yet.
TEXT_STATUS_FALLBACK = _l("Sent")

#: Why a text did not go out (its error_code). Twilio's numbered codes are in `PROVIDER_CODES`.
TEXT_REASONS = {
    "daily_limit": _l("the daily limit of reminder texts was reached"),
    "weekly_limit": _l("the weekly limit of reminder texts was reached"),
    "turned_off": _l("the person turned these texts off"),
    "no_access": _l("who may get this text changed (a helper's access, or a shared phone)"),
    "no_patient": _l("the record it was about is gone"),
    "opted_out": _l("this number texted STOP"),
    "check_error": _l("a check before sending failed (see the server log)"),
    "retries": _l("the text service did not take it after several tries"),
}

#: Twilio's error codes seen most often, in plain words (www.twilio.com/docs/api/errors).
PROVIDER_CODES = {
    "21211": _l("the number is not a valid phone number"),
    "21408": _l("texts to this country are not turned on"),
    "21610": _l("this number texted STOP"),
    "21614": _l("the number is not a mobile phone"),
    "30003": _l("the phone was off or out of reach"),
    "30004": _l("the phone company blocked it"),
    "30005": _l("the phone company does not know this number"),
    "30006": _l("the number is a landline or cannot get texts"),
    "30007": _l("the phone company filtered it as spam"),
    "30008": _l("the phone company had an unknown error"),
}

EMAIL_STATUS = {
    "queued": _l("Waiting"),
    "stored": _l("Kept on the test server"),
    "sent": _l("Sent"),
    "failed": _l("Not sent: the mail server did not take it"),
}
