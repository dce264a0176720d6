"""The CapabilityStatement at /fhir/metadata: exactly what this server implements (the read
API in views.py, the import in import_api.py), nothing more. A test compares it with the URL
map and the search parameters the views accept."""

from __future__ import annotations

from app.core.db import utcnow

#: Search parameters by type, beyond `patient` (which every type has) and _count/_format.
PATIENT_SEARCH = (
    ("_id", "token", "The patient's logical id."),
    ("identifier", "token", "The CCO member number ([system|]value)."),
    ("family", "string", "Family name, starts with (case-insensitive)."),
    ("given", "string", "Given name, starts with (case-insensitive)."),
    ("birthdate", "date", "Date of birth (YYYY-MM-DD, exact)."),
)

SECURITY_TEXT = (
    "Bearer tokens for integration clients created by a CareCircle administrator "
    "(`flask clients create`), in the Authorization header only. Scopes: read (read, search, "
    "$everything on the patients the client was granted), import (POST /fhir). A patient "
    "outside the client's grant is 404, like one that does not exist. Every read is audited."
)


def resource(resource_type: str) -> dict:
    params = [
        {
            "name": "patient",
            "type": "reference",
            "documentation": "The patient whose record it is (an id or Patient/<id>).",
        }
    ]
    if resource_type == "Patient":
        params += [{"name": n, "type": t, "documentation": d} for n, t, d in PATIENT_SEARCH]
    found = {
        "type": resource_type,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
        "searchParam": params,
    }
    if resource_type == "Patient":
        found["operation"] = [
            {
                "name": "everything",
                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                "documentation": "The whole record the client may read, as a searchset Bundle "
                "(no parameters but _format).",
            }
        ]
    return found


def statement(base: str) -> dict:
    from app.fhir.inbound import SUPPORTED
    from app.fhir.outbound import READ_TYPES

    rest = {
        "mode": "server",
        "security": {
            "cors": False,
            "service": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                            "code": "OAuth",
                            "display": "OAuth",
                        }
                    ],
                    "text": "Static bearer tokens (RFC 6750 header form)",
                }
            ],
            "description": SECURITY_TEXT,
        },
        "resource": [resource(t) for t in sorted(READ_TYPES)],
    }
    # POST /fhir (app.fhir.import_api): a transaction, batch or collection Bundle, or one
    # resource, with the "import" scope.
    text = (
        f"POST {base} (app.fhir.import_api) with the import scope: "
        + ", ".join(sorted(SUPPORTED))
        + " are imported; other FHIR types are skipped and counted, a type FHIR R4 does not "
        "define is a 400. An invalid entry rejects the whole Bundle with an OperationOutcome. "
        "RelatedPerson with a permitting Consent is offered to the patient as an invitation "
        "(never a grant); Communication goes into the patient's message threads as history "
        "(nobody is notified); Appointment fulfilled/noshow is the attendance."
    )
    rest["interaction"] = [
        {"code": "transaction", "documentation": text},
        {"code": "batch", "documentation": text},
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": utcnow().date().isoformat(),
        "publisher": "CareCircle",
        "kind": "instance",
        "software": {"name": "CareCircle"},
        "implementation": {"description": "CareCircle FHIR API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [rest],
    }
