"""The FHIR read API (JSON, application/fhir+json) for integration clients with a bearer token.

GET /fhir/metadata                       the CapabilityStatement (capability.py), public
GET /fhir/<Type>/<id>                    read
GET /fhir/<Type>?patient=<id>            search by patient (every type)
GET /fhir/Patient?identifier=|family=|given=|birthdate=   find members (within the grant)
GET /fhir/Patient/<id>/$everything       the whole record, a searchset Bundle

Load -> check -> act, as on the web: find whose record the asked-for resource is (a 404 when
none), ask the one policy for that patient (`outbound.reader_for` -> `access.decide`; an
integration client's grant is part of the policy), answer 404 for "not yours" as for "doesn't
exist", and audit every read (capacity "integration", the client in `audit_events.client_id`).
A search never lists a patient a read would refuse: the grant is a condition of its SQL.
"""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from flask import g, request, url_for
from werkzeug.exceptions import HTTPException

from app.core import audit
from app.core.access import finds_patients, no_patient_data
from app.core.privacy import Actor, Capacity
from app.core.urls import MAX_ID
from app.extensions import db
from app.fhir import bp, capability, outbound
from app.fhir.clients import (
    FHIR_JSON,
    ClientScope,
    client_required,
    fhir_json,
    granted,
    operation_outcome,
)

#: Types served by read and search, and the table each one's id names (None: the patient's).
SEARCH_PARAMS = {"_count", "_cursor", "_format"}
DEFAULT_COUNT = 20
MAX_COUNT = 100
ID_PATTERN = re.compile(r"[0-9]{1,10}")


class BadRequest(Exception):
    def __init__(self, diagnostics: str, expression: str | None = None) -> None:
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.expression = expression


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest):
    return operation_outcome(
        400,
        "invalid",
        error.diagnostics,
        expression=[error.expression] if error.expression else None,
    )


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Every error on /fhir as an OperationOutcome (a NUL byte refused before the view, a
    429 from the rate limit, a 405...)."""
    code = error.code or 500
    kinds = {
        400: "invalid",
        404: "not-found",
        405: "not-supported",
        413: "too-costly",
        415: "not-supported",
        429: "throttled",
    }
    diagnostics = {
        404: "Not found: no such URL on this FHIR server (see /fhir/metadata).",
        405: f"{request.method} is not allowed here (see /fhir/metadata).",
        413: "The request body is too big.",
    }.get(code, error.name)
    response = operation_outcome(code, kinds.get(code, "exception"), diagnostics)
    if code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def fhir_response(body: dict, status: int = 200):
    return fhir_json(body, status)


def check_format() -> None:
    wanted = request.args.get("_format")
    if wanted is not None and wanted not in ("json", FHIR_JSON, "application/json"):
        raise BadRequest("Only JSON is served (_format=json).", "_format")


def parse_id(value: str, name: str) -> int:
    """An id in a search parameter: "12" or "Patient/12"; anything else is a 400."""
    if "/" in value:
        value = value.rsplit("/", 1)[1]
    if not ID_PATTERN.fullmatch(value) or not 1 <= int(value) <= MAX_ID:
        raise BadRequest(f"{name} must be an id (1 to {MAX_ID}).", name)
    return int(value)


def parse_count() -> int:
    raw = request.args.get("_count")
    if raw is None:
        return DEFAULT_COUNT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise BadRequest(f"_count must be 1 to {MAX_COUNT}.", "_count")
    return int(raw)


def parse_cursor() -> int:
    raw = request.args.get("_cursor")
    return 0 if raw is None else parse_id(raw, "_cursor")


def client_actor(patient=None, hidden=frozenset()) -> Actor:
    return Actor(
        user_id=None,
        capacity=Capacity.INTEGRATION,
        patient=patient,
        hidden=hidden,
        client_id=g.fhir_client.id,
    )


def record_for(patient) -> outbound.Record | None:
    """The patient's record as this client may see it, or None (404) with a denied trace."""
    client = g.fhir_client
    reader = outbound.reader_for(client, patient) if patient is not None else None
    if reader is None:
        audit.record_denied(
            resource="fhir.read",
            patient_id=patient.id if patient is not None else None,
            requested_id=request.path,
            actor_id=None,
            capacity=Capacity.INTEGRATION.value,
        )
        return None
    g.actor = client_actor(patient, reader.hidden)
    return outbound.Record(patient, reader)


def not_found(diagnostics: str = "Not found."):
    return operation_outcome(404, "not-found", diagnostics)


def base_url() -> str:
    return url_for("fhir.capabilities", _external=True).rsplit("/metadata", 1)[0]


# ------------------------------------------------------------------ whose record a row is


def _owner_query(resource_type: str, row_id: int):
    """The patient id a resource of this type and id belongs to (SQL), or None when the id
    names the patient itself."""
    from app.caregivers.models import CaregiverGrant
    from app.careplan.goals.models import Goal
    from app.careplan.items.models import PlanItem
    from app.messaging.models import Message, Thread

    kinds = {
        "MedicationRequest": ("medication",),
        "Appointment": ("appointment",),
        "ServiceRequest": ("referral", "test"),
        "Task": ("task",),
        "CommunicationRequest": ("education",),
    }
    if resource_type in ("Patient", "CarePlan", "CareTeam"):
        return None
    if resource_type in kinds:
        return sa.select(PlanItem.patient_id).where(
            PlanItem.id == row_id, PlanItem.kind.in_(kinds[resource_type])
        )
    if resource_type == "Goal":
        return sa.select(Goal.patient_id).where(Goal.id == row_id)
    if resource_type in ("RelatedPerson", "Consent"):
        return sa.select(CaregiverGrant.patient_id).where(CaregiverGrant.id == row_id)
    if resource_type == "Communication":
        return (
            sa.select(Thread.patient_id)
            .join(Message, Message.thread_id == Thread.id)
            .where(Message.id == row_id, Message.internal.is_(False))
        )
    raise KeyError(resource_type)


def load_patient(patient_id: int):
    from app.patients.models import Patient

    return db.session.get(Patient, patient_id)


# ------------------------------------------------------------------ endpoints


@bp.get("/metadata")
@no_patient_data("the server's CapabilityStatement: what it implements, public as FHIR says")
def capabilities():
    check_format()
    return fhir_response(capability.statement(base_url()))


@bp.get("/<resource_type>/<resource_id>")
@finds_patients("FHIR read: finds whose record the resource is, asks the policy, audits")
@client_required(ClientScope.READ)
def read(resource_type: str, resource_id: str):
    check_format()
    if resource_type not in outbound.READ_TYPES:
        return not_found(f"Unknown or unsupported resource type: {resource_type[:40]}.")
    if not ID_PATTERN.fullmatch(resource_id) or not 1 <= int(resource_id) <= MAX_ID:
        return not_found()
    row_id = int(resource_id)
    owner = _owner_query(resource_type, row_id)
    patient_id = row_id if owner is None else db.session.scalar(owner)
    patient = load_patient(patient_id) if patient_id is not None else None
    record = record_for(patient)
    if record is None:
        return not_found()
    found = [r for r in record.resources(resource_type) if r["id"] == resource_id]
    if not found:  # hidden from this reader, or a type it may not see: as if it did not exist
        return not_found()
    audit.record(
        action="view",
        resource="fhir.read",
        patient_id=patient.id,
        resource_id=f"{resource_type}/{resource_id}",
    )
    return fhir_response(found[0])


@bp.get("/<resource_type>")
@finds_patients(
    "FHIR search: by patient (asks the policy) or Patient by name, identifier or "
    "birth date within the client's grant; audits each patient listed"
)
@client_required(ClientScope.READ)
def search(resource_type: str):
    check_format()
    if resource_type not in outbound.READ_TYPES:
        return not_found(f"Unknown or unsupported resource type: {resource_type[:40]}.")
    allowed = SEARCH_PARAMS | {"patient"}
    if resource_type == "Patient":
        allowed |= {"identifier", "family", "given", "birthdate", "_id"}
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise BadRequest(f"Unsupported search parameter: {unknown[0][:40]}.", unknown[0][:40])
    count, cursor = parse_count(), parse_cursor()
    if resource_type == "Patient" and "patient" not in request.args:
        return search_patients(count, cursor)
    if "patient" not in request.args:
        raise BadRequest("Search by patient: ?patient=<id>.", "patient")
    patient = load_patient(parse_id(request.args["patient"], "patient"))
    record = record_for(patient)
    if record is None:
        return not_found()
    matches = [r for r in record.resources(resource_type) if int(r["id"]) > cursor]
    page = matches[:count]
    links = [("self", request.url)]
    if len(matches) > count:
        links.append(("next", next_url(page[-1]["id"])))
    audit.record(
        action="view",
        resource="fhir.read",
        patient_id=patient.id,
        resource_id=f"{resource_type}?patient",
    )
    return fhir_response(outbound.bundle("searchset", page, base_url(), links=links))


def next_url(last_id: str) -> str:
    args = request.args.to_dict()
    args["_cursor"] = last_id
    return url_for(request.endpoint, **request.view_args, **args, _external=True)


def _birthdate(raw: str) -> date:
    if raw.startswith("eq"):
        raw = raw[2:]
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest("birthdate must be a date (YYYY-MM-DD).", "birthdate") from None


def _text(name: str) -> str | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    raw = raw.strip()
    if not raw or len(raw) > 80:
        raise BadRequest(f"{name} must be 1 to 80 characters.", name)
    return raw


def search_patients(count: int, cursor: int):
    """Patients by identifier, family, given, birthdate (all given must match), within the
    client's grant, a page at a time by id. Needs at least one criterion: a client lists no
    one by accident."""
    from app.patients.models import Patient

    conditions = [granted(g.fhir_client, Patient.id), Patient.id > cursor]
    criteria = 0
    if "_id" in request.args:
        conditions.append(Patient.id == parse_id(request.args["_id"], "_id"))
        criteria += 1
    identifier = _text("identifier")
    if identifier is not None:
        system, bar, value = identifier.rpartition("|")
        if bar and system and system != outbound.MEMBER_NUMBER_SYSTEM:
            conditions.append(sa.false())  # an identifier system we do not keep
        conditions.append(Patient.member_number == (value if bar else identifier))
        criteria += 1
    for name, column in (("family", Patient.family_name), ("given", Patient.given_name)):
        value = _text(name)
        if value is not None:
            # FHIR string search: starts with, ignoring case.
            escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(sa.func.lower(column).like(f"{escaped}%", escape="\\"))
            criteria += 1
    if "birthdate" in request.args:
        conditions.append(Patient.date_of_birth == _birthdate(request.args["birthdate"]))
        criteria += 1
    if not criteria:
        raise BadRequest(
            "Give at least one of identifier, family, given, birthdate or _id.", "Patient"
        )
    rows = list(
        db.session.scalars(
            sa.select(Patient).where(*conditions).order_by(Patient.id).limit(count + 1)
        )
    )
    page = rows[:count]
    resources = outbound.patients_page(page) if page else []
    audit.record_listed(
        "fhir.read",
        [p.id for p in page],
        actor_id=None,
        capacity=Capacity.INTEGRATION.value,
    )
    links = [("self", request.url)]
    if len(rows) > count:
        links.append(("next", next_url(str(page[-1].id))))
    return fhir_response(outbound.bundle("searchset", resources, base_url(), links=links))


@bp.get("/Patient/<resource_id>/$everything")
@finds_patients("FHIR $everything: the whole record of one patient the policy allows, audited")
@client_required(ClientScope.READ)
def everything(resource_id: str):
    check_format()
    unknown = sorted(set(request.args) - {"_format"})
    if unknown:
        raise BadRequest(f"Unsupported parameter: {unknown[0][:40]}.", unknown[0][:40])
    patient = None
    if ID_PATTERN.fullmatch(resource_id) and 1 <= int(resource_id) <= MAX_ID:
        patient = load_patient(int(resource_id))
    record = record_for(patient)
    if record is None:
        return not_found()
    audit.record(action="view", resource="fhir.export", patient_id=patient.id)
    resources = record.everything()
    return fhir_response(
        outbound.bundle(
            "searchset", resources, base_url(), links=[("self", request.url)], total=len(resources)
        )
    )
