"""POST /fhir: a transaction or batch Bundle (or one resource) from an integration client with
the "import" scope. The same service as `flask fhir import` (app.fhir.inbound), in the request's
one transaction: a transaction-response or batch-response Bundle with an entry per input entry,
or an OperationOutcome (400 unreadable, 413 too big, 415 not JSON, 422 not importable) and
nothing written."""

from __future__ import annotations

from flask import abort, current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from app.core import audit
from app.core.access import no_patient_data
from app.extensions import db
from app.fhir import bp
from app.fhir.clients import FHIR_JSON, client_required, operation_outcome
from app.fhir.inbound import ImportRejected, default_coordinator, import_data, load_json

ACCEPTED_TYPES = ("application/fhir+json", "application/json")


def _outcome(status: int, outcome: dict):
    response = jsonify(outcome)
    response.status_code = status
    response.mimetype = FHIR_JSON
    return response


@bp.url_value_preprocessor
def cap_the_bundle(endpoint: str | None, values: dict | None) -> None:
    """Before anything reads the body (the app's hooks look at the form): a Bundle may be up to
    FHIR_MAX_BUNDLE_BYTES, not the app-wide MAX_CONTENT_LENGTH of the forms; a bigger one is a
    413 OperationOutcome, unread."""
    if endpoint != "fhir.import_bundle" or request.method != "POST":
        return
    cap = current_app.config["FHIR_MAX_BUNDLE_BYTES"]
    request.max_content_length = cap  # also caps a body sent without a length
    if (request.content_length or 0) > cap:
        abort(operation_outcome(413, "too-costly", f"A Bundle may be at most {cap} bytes."))


@bp.post("")
@no_patient_data("an integration client's Bundle: the import audits every record it writes")
@client_required("import")
def import_bundle():
    """Import what an EHR sent. Rolled back whole on any refusal; committed here on success."""
    if request.mimetype not in ACCEPTED_TYPES:
        return operation_outcome(
            415, "not-supported", "Send application/fhir+json (or application/json)."
        )
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return operation_outcome(413, "too-costly", "The Bundle is too big.")
    try:
        data = load_json(raw)
        report = _import_once(data)
    except ImportRejected as rejected:
        db.session.rollback()
        return _outcome(rejected.status, rejected.outcome)
    # Committed with its audit events by the request hook (app.core.uow), in one transaction.
    current_app.logger.info(
        "fhir import: client=%s created=%d updated=%d unchanged=%d skipped=%d",
        getattr(g.get("fhir_client"), "id", None),
        sum(report.created.values()),
        sum(report.updated.values()),
        sum(report.unchanged.values()),
        sum(report.skipped.values()),
    )
    return _outcome(200, report.response_bundle())


def _import_once(data: dict):
    """The import; if the same records went in from a concurrent request first (a double post
    at the same moment: a unique key collides), once more, which then finds them and changes
    nothing. The first attempt's audit events go with its rollback."""
    before = len(audit.pending_events())
    try:
        return import_data(data, coordinator=default_coordinator())
    except IntegrityError:
        db.session.rollback()
        g.pending_audit = audit.pending_events()[:before]
        return import_data(data, coordinator=default_coordinator())
