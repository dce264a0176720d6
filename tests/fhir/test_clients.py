"""Integration clients: `flask clients ...`, bearer tokens and what each refusal looks like.

Attacks: no token, a wrong one, a revoked one, one without the scope, a token in the query
string, and a client asking for a patient outside its grant (404, as on the web)."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.extensions import db
from app.fhir.clients import FhirClient, create, hash_token
from tests.fhir.fhir_world import bearer


def outcome(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    return body


def test_cli_creates_a_client_prints_the_token_once_and_keeps_only_its_hash(app, runner):
    result = runner.invoke(args=["clients", "create", "salem-ehr", "--scope", "read"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert len(token) >= 40
    client = db.session.scalar(sa.select(FhirClient).where(FhirClient.name == "salem-ehr"))
    assert client.token_hash == hash_token(token)
    assert token not in repr(client.__dict__)
    assert "may read nobody yet" in result.output  # a read client without a grant is told

    listed = runner.invoke(args=["clients", "list"])
    assert "salem-ehr" in listed.output and "active" in listed.output
    assert token not in listed.output and client.token_hash not in listed.output

    again = runner.invoke(args=["clients", "create", "salem-ehr", "--scope", "read"])
    assert again.exit_code != 0 and "exists already" in again.output


def test_cli_grants_an_organization_and_revokes(app, runner, fhir_world):
    w = fhir_world
    clinic = w.bravo.orgs[0]
    result = runner.invoke(
        args=["clients", "create", "clinic-ehr", "--scope", "read", "--organization", clinic.name]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    c = app.test_client()
    # Bravo's coordinator works for the clinic: Bravo is in the grant, Charlie is not.
    assert c.get(f"/fhir/Patient/{w.bravo.patient.id}", headers=bearer(token)).status_code == 200
    assert c.get(f"/fhir/Patient/{w.charlie.patient.id}", headers=bearer(token)).status_code == 404
    (line,) = [
        x for x in runner.invoke(args=["clients", "list"]).output.splitlines() if "clinic-ehr" in x
    ]
    assert "last used=never" not in line and "organization Bravo Family Clinic" in line

    revoked = runner.invoke(args=["clients", "revoke", "clinic-ehr"])
    assert revoked.exit_code == 0
    response = c.get(f"/fhir/Patient/{w.bravo.patient.id}", headers=bearer(token))
    outcome(response, 401)
    assert "revoked" in runner.invoke(args=["clients", "list"]).output

    unknown = runner.invoke(
        args=["clients", "create", "x", "--scope", "read", "--organization", "No Such Clinic"]
    )
    assert unknown.exit_code != 0


def test_no_token_is_401_with_an_operation_outcome_and_a_bearer_challenge(app, fhir_world):
    c = app.test_client()
    url = f"/fhir/Patient/{fhir_world.bravo.patient.id}"
    response = c.get(url)
    body = outcome(response, 401)
    assert body["issue"][0]["code"] == "login"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Bravo" not in response.get_data(as_text=True)
    for header in ("Basic abc", "Bearer", "Bearer ", "bearer" + " x" * 300, "Token abc"):
        outcome(c.get(url, headers={"Authorization": header}), 401)


def test_a_wrong_or_revoked_token_is_401_and_never_logged(app, fhir_world, caplog):
    w = fhir_world
    c = app.test_client()
    url = f"/fhir/Patient/{w.bravo.patient.id}"
    caplog.set_level(logging.DEBUG)
    outcome(c.get(url, headers=bearer(w.token[:-2] + "xx")), 401)
    assert c.get(url, headers=bearer(w.token)).status_code == 200
    w.client.revoked_at = w.client.created_at
    db.session.commit()
    outcome(c.get(url, headers=bearer(w.token)), 401)
    assert w.token not in caplog.text and w.token[:-2] not in caplog.text


def test_a_client_without_the_read_scope_is_403(app, fhir_world):
    w = fhir_world
    _importer, token = create("importer", ["import"], patient_ids=[w.bravo.patient.id])
    db.session.commit()
    response = app.test_client().get(f"/fhir/Patient/{w.bravo.patient.id}", headers=bearer(token))
    body = outcome(response, 403)
    assert body["issue"][0]["code"] == "forbidden"
    assert "Bravo" not in response.get_data(as_text=True)


def test_a_token_in_the_query_string_is_refused_even_with_a_good_header(app, fhir_world):
    w = fhir_world
    c = app.test_client()
    url = f"/fhir/Patient/{w.bravo.patient.id}"
    for name in ("access_token", "token"):
        response = c.get(f"{url}?{name}={w.token}", headers=bearer(w.token))
        body = outcome(response, 400)
        assert "Authorization header" in body["issue"][0]["diagnostics"]
        outcome(c.get(f"{url}?{name}={w.token}"), 400)


def test_a_patient_outside_the_grant_is_404_like_one_that_does_not_exist(app, fhir_world):
    w = fhir_world
    c = app.test_client()
    charlie = w.charlie
    urls = [
        f"/fhir/Patient/{charlie.patient.id}",
        f"/fhir/Patient/{charlie.patient.id}/$everything",
        f"/fhir/CarePlan/{charlie.patient.id}",
        f"/fhir/Goal/{charlie.goal.id}",
        f"/fhir/Communication/{charlie.messages[0].id}",
        f"/fhir/MedicationRequest/{charlie.items['medication'].id}",
        f"/fhir/Consent/{charlie.grant.id}",
        f"/fhir/Goal?patient={charlie.patient.id}",
        "/fhir/Patient/999999",
    ]
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    answers = []
    for url in urls:
        response = c.get(url, headers=bearer(w.token))
        outcome(response, 404)
        assert "Charlie" not in response.get_data(as_text=True)
        answers.append(response.get_data())
    assert len(set(answers)) == 1  # not yours reads exactly like does not exist
    # Searching by name finds only granted patients.
    response = c.get("/fhir/Patient?family=Testpatient", headers=bearer(w.token))
    names = [e["resource"]["name"][0]["given"][0] for e in response.get_json()["entry"]]
    assert names == ["Bravo"]
    # Each refusal left a "denied" trace naming the client, and no view of Charlie.
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.patient_id == charlie.patient.id, AuditEvent.id > before
        )
    ).all()
    assert events and {e.action for e in events} == {"denied"}
    assert {e.client_id for e in events} == {w.client.id}


def test_the_rate_limit_answers_429_as_an_operation_outcome(app, fhir_world):
    w = fhir_world
    app.config["FHIR_RATE_LIMIT"] = "3 per minute"
    c = app.test_client()
    url = f"/fhir/Patient/{w.bravo.patient.id}"
    assert [c.get(url, headers=bearer(w.token)).status_code for _ in range(3)] == [200] * 3
    body = outcome(c.get(url, headers=bearer(w.token)), 429)
    assert body["issue"][0]["code"] == "throttled"
    # Another client has its own allowance.
    _other, token = create("other", ["read"], patient_ids=[w.bravo.patient.id])
    db.session.commit()
    assert c.get(url, headers=bearer(token)).status_code == 200
