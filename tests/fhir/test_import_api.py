"""POST /fhir: an integration client's Bundle, through the same import service: a response
Bundle per entry, OperationOutcomes for what cannot be taken, nothing partly written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.careplan.items.models import PlanItem
from app.extensions import db
from app.fhir import clients as fhir_clients
from app.fhir.sources import FhirSource
from app.patients.models import Patient
from tests.fhir.test_import import bundle

SYNTHEA = Path(__file__).resolve().parents[3] / "shared" / "fhir-examples" / "synthea"
FHIR_JSON = "application/fhir+json"


@pytest.fixture
def importer(app):
    _client, token = fhir_clients.create("salem-ehr", ["import"])
    db.session.commit()
    return token


def post(app, token, body, content_type=FHIR_JSON, **headers):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return app.test_client().post(
        "/fhir",
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type, **headers},
    )


def total(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_transaction_answers_a_transaction_response(app, importer):
    response = post(app, importer, bundle())
    assert response.status_code == 200 and response.mimetype == FHIR_JSON
    answer = response.get_json()
    assert answer["resourceType"] == "Bundle" and answer["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert len(statuses) == len(bundle()["entry"])
    assert statuses[1] == "201 Created"
    assert answer["entry"][1]["response"]["location"] == "Patient/pat-ana"
    assert total(Patient) == 1 and total(PlanItem) == 3


def test_a_double_post_leaves_one_copy(app, importer):
    first = post(app, importer, bundle())
    before = (total(Patient), total(PlanItem), total(FhirSource))
    second = post(app, importer, bundle())
    assert first.status_code == second.status_code == 200
    assert (total(Patient), total(PlanItem), total(FhirSource)) == before
    assert second.get_json()["entry"][1]["response"]["status"] == "200 OK"


@pytest.mark.skipif(not SYNTHEA.is_dir(), reason="../shared/fhir-examples absent")
def test_a_synthea_bundle_posted_twice_is_one_patient(app, importer):
    raw = next(SYNTHEA.glob("Denny_Bins_*.json")).read_bytes()
    assert post(app, importer, raw).status_code == 200
    items = total(PlanItem)
    assert post(app, importer, raw, content_type="application/json").status_code == 200
    assert total(Patient) == 1 and total(PlanItem) == items > 0


def test_an_invalid_entry_is_a_400_outcome_and_nothing_is_written(app, importer):
    bad = bundle()
    bad["entry"][4]["resource"]["lifecycleStatus"] = 7
    response = post(app, importer, bad)
    assert response.status_code == 400
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "Bundle.entry[4]" in outcome["issue"][0]["diagnostics"]
    assert "Goal.lifecycleStatus" in outcome["issue"][0]["diagnostics"]
    assert total(Patient) == 0 and total(FhirSource) == 0


def test_a_patient_we_cannot_take_is_a_422_and_nothing_is_written(app, importer):
    bad = bundle()
    del bad["entry"][1]["resource"]["birthDate"]
    response = post(app, importer, bad)
    assert response.status_code == 422
    assert "birthDate" in json.dumps(response.get_json())
    assert total(Patient) == 0 and total(PlanItem) == 0


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"not json", FHIR_JSON, 400),
        (b'{"resourceType": "Patient", "id": "x\\u0000"}', FHIR_JSON, 400),
        (b"[" * 200_000 + b"]" * 200_000, FHIR_JSON, 400),
        (b"{}", "text/plain", 415),
        (b"name=x", "application/x-www-form-urlencoded", 415),
    ],
    ids=["not-json", "nul", "deep", "text", "form"],
)
def test_hostile_bodies_are_clear_4xx(app, importer, body, content_type, status):
    response = post(app, importer, body, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["resourceType"] == "OperationOutcome"
    assert total(Patient) == 0


def test_a_body_over_the_cap_is_a_413(app, importer):
    app.config["FHIR_MAX_BUNDLE_BYTES"] = 1000
    response = post(app, importer, b" " * 2000 + b"{}")
    assert response.status_code == 413
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_a_50_mb_body_is_refused_without_reading_it(app, importer):
    body = b"[" * (50 * 1024 * 1024)
    response = post(app, importer, body)
    assert response.status_code == 413
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_a_bundle_bigger_than_the_forms_limit_is_taken(app, importer):
    """2 MB: over the app-wide MAX_CONTENT_LENGTH of forms (1 MB), under FHIR_MAX_BUNDLE_BYTES."""
    big = bundle()
    big["entry"][5]["resource"]["note"] = [{"text": "x" * (2 * 1024 * 1024)}]
    assert len(json.dumps(big)) > app.config["MAX_CONTENT_LENGTH"]
    assert post(app, importer, big).status_code == 200
    assert total(Patient) == 1


def test_tokens_without_the_import_scope_or_none_are_refused(app):
    _reader, token = fhir_clients.create("reader", ["read"])
    db.session.commit()
    assert post(app, token, bundle()).status_code == 403
    assert post(app, "not-a-token", bundle()).status_code == 401
    response = app.test_client().post("/fhir", data=b"{}", content_type=FHIR_JSON)
    assert response.status_code == 401
    assert total(Patient) == 0


def test_a_post_that_loses_a_race_is_retried_and_finds_the_winners_rows(app, importer, monkeypatch):
    """Two posts of one Bundle at the same moment: the second's insert collides on a unique
    key once the first commits; it is rolled back (with its audit events) and run again."""
    from sqlalchemy.exc import IntegrityError

    from app.careplan.models import PlanChange
    from app.core.audit import AuditEvent
    from app.fhir import import_api, inbound

    assert post(app, importer, bundle()).status_code == 200  # the winner
    audit_before, changes_before = total(AuditEvent), total(PlanChange)
    calls = []

    def collide_once(data, **kw):
        calls.append(1)
        if len(calls) == 1:  # work that writes changes and audit events, then the collision
            other = bundle()
            other["entry"][3]["resource"]["dosageInstruction"] = [{"text": "3 tablets"}]
            inbound.import_data(other, **kw)
            raise IntegrityError("INSERT", {}, Exception("duplicate key"))
        return inbound.import_data(data, **kw)

    monkeypatch.setattr(import_api, "import_data", collide_once)
    response = post(app, importer, bundle())
    assert response.status_code == 200 and len(calls) == 2
    assert response.get_json()["entry"][1]["response"]["status"] == "200 OK"
    assert total(Patient) == 1 and total(PlanItem) == 3
    dose = db.session.scalar(sa.select(PlanItem.dose).where(PlanItem.dose.is_not(None)))
    assert dose == "1 tablet twice a day"
    assert total(PlanChange) == changes_before
    assert total(AuditEvent) == audit_before  # nothing claims the rolled-back change
