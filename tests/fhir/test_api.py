"""The FHIR read API: what it serves is valid R4 (fhir.resources R4B models), reads and searches
agree with $everything, paging is bounded and complete, hostile input is a 400 with an
OperationOutcome, queries do not grow with the CCO, and every read is audited."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.extensions import db
from app.fhir import outbound
from app.fhir.clients import create
from tests.fhir.fhir_world import bearer, validate
from tests.fixtures.plan import add


def get(app, url, token, status=200) -> dict:
    response = app.test_client().get(url, headers=bearer(token))
    assert response.status_code == status, (url, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/fhir+json"
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def everything(app, w) -> list[dict]:
    body = get(app, f"/fhir/Patient/{w.bravo.patient.id}/$everything", w.token)
    validate(body)
    return [entry["resource"] for entry in body["entry"]]


def test_everything_is_valid_r4_and_has_every_part_of_the_record(app, fhir_world):
    w = fhir_world
    resources = everything(app, w)
    for resource in resources:
        validate(resource)
    types = {r["resourceType"] for r in resources}
    assert types == set(outbound.EVERYTHING_ORDER)
    by_type = lambda t: [r for r in resources if r["resourceType"] == t]  # noqa: E731
    (patient,) = by_type("Patient")
    assert patient["name"][0] == {"use": "official", "family": "Testpatient", "given": ["Bravo"]}
    assert patient["birthDate"] == "1980-05-17"
    assert patient["communication"][0]["preferred"] is True
    (plan,) = by_type("CarePlan")
    # Every plan item is an activity, referencing the resource of its kind.
    assert len(plan["activity"]) == len(w.bravo.items) + 1  # + the counseling item
    kinds = {a["reference"]["reference"].split("/")[0] for a in plan["activity"]}
    assert kinds == {
        "MedicationRequest",
        "Appointment",
        "ServiceRequest",
        "Task",
        "CommunicationRequest",
    }
    goal = next(g for g in by_type("Goal") if g["id"] == str(w.bravo.goal.id))
    assert goal["expressedBy"]["reference"] == f"Patient/{w.bravo.patient.id}"
    assert goal["target"][0]["detailQuantity"] == {"value": 5000.0, "unit": "steps"}
    (team,) = by_type("CareTeam")
    assert team["participant"][0]["member"]["display"] == "Bravo Nurse"
    (person,) = by_type("RelatedPerson")
    (consent,) = by_type("Consent")
    assert consent["provision"]["actor"][0]["reference"]["reference"] == (
        f"RelatedPerson/{person['id']}"
    )
    # Every reference inside the Bundle resolves inside the Bundle.
    present = {f"{r['resourceType']}/{r['id']}" for r in resources}
    for reference in references(resources):
        assert reference in present, reference


def references(value):
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value["reference"]
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def test_sensitive_items_carry_security_labels(app, fhir_world):
    w = fhir_world
    resources = everything(app, w)
    counseling = next(
        r for r in resources if r["resourceType"] == "Task" and "counseling" in r["code"]["text"]
    )
    assert counseling["meta"]["security"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "PSY",
            "display": "psychiatry information sensitivity",
        }
    ]
    plain = next(r for r in resources if r["resourceType"] == "MedicationRequest")
    assert "security" not in plain["meta"]


def test_read_and_search_serve_the_same_resources_as_everything(app, fhir_world):
    w = fhir_world
    resources = everything(app, w)
    for resource_type in outbound.READ_TYPES:
        expected = [r for r in resources if r["resourceType"] == resource_type]
        assert expected, resource_type
        for resource in expected:
            read = get(app, f"/fhir/{resource_type}/{resource['id']}", w.token)
            validate(read)
            assert read == resource
        body = get(app, f"/fhir/{resource_type}?patient={w.bravo.patient.id}", w.token)
        validate(body)
        assert [e["resource"] for e in body["entry"]] == expected
        assert body["type"] == "searchset"
    # The reference form of the patient parameter, and _format=json, work too.
    body = get(app, f"/fhir/Goal?patient=Patient/{w.bravo.patient.id}&_format=json", w.token)
    assert len(body["entry"]) == 2


def test_search_pages_with_a_next_link_until_everything_was_seen(app, fhir_world):
    w = fhir_world
    url = f"/fhir/ServiceRequest?patient={w.bravo.patient.id}&_count=2"
    seen, pages = [], 0
    while url:
        body = get(app, url, w.token)
        validate(body)
        pages += 1
        assert len(body["entry"]) <= 2
        seen += [e["resource"]["id"] for e in body["entry"]]
        nxt = [link["url"] for link in body["link"] if link["relation"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
    assert pages == 2 and len(seen) == len(set(seen)) == 3


@pytest.mark.parametrize(
    "query",
    [
        "patient=99999999999999999999",
        "patient=0",
        "patient=-1",
        "patient=abc",
        "patient=1%00",
        "patient=1&_count=0",
        "patient=1&_count=101",
        "patient=1&_count=abc",
        "patient=1&_cursor=99999999999",
        "patient=1&_format=xml",
        "patient=1&subject=2",
        "_lastUpdated=2026",
        "",
    ],
)
def test_hostile_search_parameters_are_a_400_outcome(app, fhir_world, query):
    w = fhir_world
    body = get(app, f"/fhir/Goal?{query}", w.token, status=400)
    validate(body)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"


@pytest.mark.parametrize(
    "query",
    [
        "birthdate=1980-13-40",
        "birthdate=" + "9" * 30,
        "family=" + "x" * 81,
        "family=",
        "given=Br%00avo",
        "_id=99999999999",
        "name=Bravo",
        "_count=5",
    ],
)
def test_hostile_patient_searches_are_a_400_outcome(app, fhir_world, query):
    body = get(app, f"/fhir/Patient?{query}", fhir_world.token, status=400)
    validate(body)


def test_huge_or_odd_ids_in_a_read_are_404_outcomes(app, fhir_world):
    w = fhir_world
    for url in (
        "/fhir/Goal/99999999999999999999",
        "/fhir/Goal/0",
        "/fhir/Goal/1.5",
        "/fhir/Observation/1",
        "/fhir/Patient/abc/$everything",
    ):
        body = get(app, url, w.token, status=404)
        validate(body)


def test_patient_search_by_what_an_integration_client_matches_members_on(app, fhir_world):
    w = fhir_world
    bravo = w.bravo.patient
    bravo.member_number = "OHP-123456"
    db.session.commit()
    for query in (
        "identifier=OHP-123456",
        f"identifier={outbound.MEMBER_NUMBER_SYSTEM}|OHP-123456",
        "family=testpat",
        "given=BRAVO",
        "birthdate=1980-05-17",
        "family=Testpatient&given=Bra&birthdate=eq1980-05-17",
        f"_id={bravo.id}",
    ):
        body = get(app, f"/fhir/Patient?{query}", w.token)
        validate(body)
        assert [e["resource"]["id"] for e in body["entry"]] == [str(bravo.id)], query
    for query in (
        "identifier=OHP-999",
        "identifier=http://other.example|OHP-123456",
        "given=Charlie",
        "birthdate=1980-05-18",
        "family=%25",  # a LIKE wildcard is a letter, not "anything"
    ):
        body = get(app, f"/fhir/Patient?{query}", w.token)
        assert body.get("entry", []) == [], query


def test_every_read_is_audited_as_the_client(app, fhir_world):
    w = fhir_world
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    get(app, f"/fhir/Goal/{w.bravo.goal.id}", w.token)
    get(app, "/fhir/Patient?family=Testpatient", w.token)
    get(app, f"/fhir/Patient/{w.bravo.patient.id}/$everything", w.token)
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.resource, e.resource_id) for e in events] == [
        ("view", "fhir.read", f"Goal/{w.bravo.goal.id}"),
        ("view", "fhir.read", None),
        ("view", "fhir.export", None),
    ]
    assert {(e.capacity, e.actor_id, e.client_id, e.patient_id) for e in events} == {
        ("integration", None, w.client.id, w.bravo.patient.id)
    }
    from app.core import audit

    assert audit.verify(db.session).ok  # the client's rows are links of the chain


def test_the_patient_sees_the_client_on_who_has_seen_my_record(app, fhir_world, new_browser):
    from tests.fixtures.browser import signed_in

    w = fhir_world
    get(app, f"/fhir/Patient/{w.bravo.patient.id}/$everything", w.token)
    browser = signed_in(new_browser, w.bravo.user)
    page = browser.page(f"/patients/{w.bravo.patient.id}/access-log")
    assert "Connected health record system" in page
    assert "A copy of your whole record" in page


def test_metadata_lists_exactly_what_is_implemented(app, fhir_world):
    body = app.test_client().get("/fhir/metadata").get_json()
    validate(body)
    (rest,) = body["rest"]
    assert [r["type"] for r in rest["resource"]] == sorted(outbound.READ_TYPES)
    w = fhir_world
    for resource in rest["resource"]:
        assert [i["code"] for i in resource["interaction"]] == ["read", "search-type"]
        # Every search parameter it lists is accepted; the resource type is served.
        for param in resource["searchParam"]:
            value = {
                "patient": str(w.bravo.patient.id),
                "birthdate": "1980-05-17",
                "_id": str(w.bravo.patient.id),
            }.get(param["name"], "Bravo")
            get(app, f"/fhir/{resource['type']}?{param['name']}={value}", w.token)
    patient = next(r for r in rest["resource"] if r["type"] == "Patient")
    assert [o["name"] for o in patient["operation"]] == ["everything"]
    # The import (POST /fhir) is listed as what it is, a transaction or batch interaction.
    assert [i["code"] for i in rest["interaction"]] == ["transaction", "batch"]
    rules = {(r.rule, m) for r in app.url_map.iter_rules() for m in r.methods}
    assert ("/fhir", "POST") in rules
    fhir_gets = sorted(
        r.rule
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/fhir") and "GET" in r.methods
    )
    assert fhir_gets == [
        "/fhir/<resource_type>",
        "/fhir/<resource_type>/<resource_id>",
        "/fhir/Patient/<resource_id>/$everything",
        "/fhir/metadata",
    ]
    # What it does not list is not there.
    get(app, f"/fhir/Observation?patient={w.bravo.patient.id}", w.token, status=404)
    get(app, f"/fhir/Practitioner/{w.bravo.member.id}", w.token, status=404)


def _grow_the_cco(make_patient, make_org, bravo_patient, clinic) -> None:
    """Ten more patients with plans, and more of Bravo's own items: nothing a search or an
    $everything of one patient should pay for per row."""
    for n in range(10):
        other = make_patient(given=f"Extra{n}", family="Testpatient", dob=date(1990, 1, n + 1))
        for k in range(3):
            add(other, clinic, title=f"Extra{n} task {k}", commit=False)
    for k in range(5):
        add(bravo_patient, clinic, title=f"Bravo more {k}", commit=False)
    db.session.commit()


def test_query_counts_do_not_grow_with_the_cco_or_the_record(
    app, fhir_world, count_queries, make_patient, make_org
):
    w = fhir_world
    _all, token = create("cco-wide", ["read"], all_patients=True)
    db.session.commit()
    urls = {
        "search": f"/fhir/Task?patient={w.bravo.patient.id}&_count=100",
        "patients": "/fhir/Patient?family=Testpatient&_count=100",
        "everything": f"/fhir/Patient/{w.bravo.patient.id}/$everything",
        "read": f"/fhir/Goal/{w.bravo.goal.id}",
    }

    def measure() -> dict[str, int]:
        found = {}
        for name, url in urls.items():
            with count_queries() as counter:
                get(app, url, token)
            found[name] = counter.count
        return found

    measure()  # the client's first use is written once (last_used_at), then once a minute
    before = measure()
    _grow_the_cco(make_patient, make_org, w.bravo.patient, w.bravo.orgs[0])
    after = measure()
    assert after == before
    # Pinned, on SQLite and PostgreSQL alike: a new query per request is a decision, made
    # here. ($everything: session, client, patient, policy, the type-by-type reads, the
    # source identifiers, audit.)
    assert before == {"search": 7, "patients": 6, "everything": 16, "read": 10}
