"""How the FHIR domain's audit resources read on "Who has seen my record"."""

from flask_babel import lazy_gettext as _l

from app.core import audit

AUDIT_RESOURCES = {
    "fhir.read": _l("Your record, read by a connected health record system"),
    "fhir.export": _l("A copy of your whole record"),
    "fhir.import": _l("Your record, brought in from another clinic's system"),
    "fhir.proposal": _l("Someone another clinic's record names as helping you"),
}


def register() -> None:
    audit.register_labels(resources=AUDIT_RESOURCES)
