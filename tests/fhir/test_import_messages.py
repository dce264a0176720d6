"""Issue 17: Communication into the patient's threads (grouped, deduped by FHIR id, no texts or
emails), Appointment fulfilled / noshow as attendance, and every /fhir error an
OperationOutcome with its status (unknown URL, method, too big, bad JSON, unknown type)."""

from __future__ import annotations

import copy
import json

import pytest
import sqlalchemy as sa

from app.careplan.items.models import Attendance, PlanItem
from app.extensions import db
from app.fhir import clients as fhir_clients
from app.fhir.sources import FhirSource
from app.messaging.models import Message, Thread, ThreadStatus
from app.texting.models import OutboundSms
from tests.fhir.test_import import PATIENT, ana, bundle, run
from tests.fhir.test_import_api import post
from tests.fixtures.mail import outbox_emails

FHIR_JSON = "application/fhir+json"
THREAD = "https://fhir.carecircle.org/sid/message-thread"


def message(n: int, body: str, sender: dict, *, thread="t-1", answers=None, **more) -> dict:
    resource = {
        "resourceType": "Communication",
        "id": f"msg-{n}",
        "status": "completed",
        "subject": {"reference": PATIENT},
        "sent": f"2025-11-0{n}T10:00:00Z",
        "sender": sender,
        "payload": [{"contentString": body}],
        "topic": {"text": "Question about metformin"},
    }
    if thread:
        resource["identifier"] = [{"system": THREAD, "value": thread}]
    if answers:
        resource["inResponseTo"] = [{"reference": f"Communication/{answers}"}]
    resource.update(more)
    return {"fullUrl": f"https://salem.example/fhir/Communication/msg-{n}", "resource": resource}


def total(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_messages_become_one_quiet_thread_and_a_reimport_adds_nothing(app, make_member):
    team = {"display": "Salem nurse"}
    messages = [
        message(1, "Can I take metformin with food?", {"reference": PATIENT}),
        message(
            2,
            "Yes, with dinner.",
            team,
            thread=None,
            answers="msg-1",
            recipient=[{"reference": PATIENT}],
        ),
        message(3, "Thank you", {"reference": PATIENT}, thread=None, answers="msg-2"),
    ]
    report = run(bundle(*messages), coordinator=make_member())
    assert report.created["Communication"] == 3
    patient = ana()
    (thread,) = db.session.scalars(sa.select(Thread).where(Thread.patient_id == patient.id))
    assert thread.subject == "Question about metformin" and thread.status is ThreadStatus.RESOLVED
    bodies = db.session.execute(
        sa.select(Message.body, Message.capacity)
        .where(Message.thread_id == thread.id)
        .order_by(Message.created_at)
    ).all()
    assert bodies == [
        ("Can I take metformin with food?", "patient"),
        ("Yes, with dinner.", "care_team"),
        ("Thank you", "patient"),
    ]
    assert total(OutboundSms) == 0 and outbox_emails() == []  # history: nobody is told
    again = run(bundle(*messages))
    assert again.unchanged["Communication"] == 3 and total(Message) == 3 and total(Thread) == 1


@pytest.mark.parametrize(
    "change, why",
    [
        ({"payload": [{"contentString": "x" * 20_001}]}, "at most"),
        ({"sent": "9999-01-01T00:00:00Z"}, "future"),
        ({"payload": [{"contentString": "   "}]}, "needs words"),
    ],
)
def test_a_bad_message_is_refused_and_nothing_is_written(app, change, why):
    bad = message(1, "hello", {"reference": PATIENT})
    bad["resource"].update(change)
    from app.fhir.inbound import ImportRejected, import_data

    with pytest.raises(ImportRejected) as refused:
        import_data(copy.deepcopy(bundle(bad)))
    db.session.rollback()
    assert refused.value.status == 422 and why in json.dumps(refused.value.outcome)
    assert total(Message) == total(Thread) == total(FhirSource) == 0


def appointment(status: str) -> dict:
    return {
        "fullUrl": "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-0000000000c1",
        "resource": {
            "resourceType": "Appointment",
            "id": "appt-1",
            "status": status,
            "description": "Diabetes check",
            "start": "2025-10-01T16:00:00Z",
            "end": "2025-10-01T16:30:00Z",
            "participant": [{"actor": {"reference": PATIENT}, "status": "accepted"}],
        },
    }


def test_appointment_fulfilled_and_noshow_are_attendance_both_ways(app, make_member):
    from app.fhir.outbound import Reader, Record

    run(bundle(appointment("noshow")), coordinator=make_member())
    item = db.session.scalar(sa.select(PlanItem).where(PlanItem.title == "Diabetes check"))
    assert item.attendance is Attendance.NO_SHOW and item.attendance_recorded_at is not None
    run(bundle(appointment("fulfilled")))
    db.session.expire_all()
    item = db.session.get(PlanItem, item.id)
    assert item.attendance is Attendance.ATTENDED
    from app.core.access import Permission

    record = Record(ana(), Reader(frozenset(Permission)))
    (exported,) = record.resources("Appointment")
    assert exported["status"] == "fulfilled"
    item.attendance = Attendance.NO_SHOW
    db.session.commit()
    record = Record(ana(), Reader(frozenset(Permission)))
    assert record.resources("Appointment")[0]["status"] == "noshow"


# ------------------------------------------------------------------ /fhir errors


@pytest.fixture
def token(app):
    _client, token = fhir_clients.create("errors", ["import", "read"], all_patients=True)
    db.session.commit()
    return token


def outcome(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:200]
    assert response.mimetype == FHIR_JSON
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["severity"] == "error"
    return body


def test_every_fhir_error_is_an_operation_outcome(app, token):
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    outcome(client.get("/fhir/no/such/url/here", headers=auth), 404)
    outcome(client.get("/fhir/no/such/url/here"), 404)  # before any token is asked for
    outcome(client.get("/fhir/Bogus/1", headers=auth), 404)
    outcome(client.get("/fhir/Bogus?patient=1", headers=auth), 404)
    response = client.delete("/fhir/Patient/1", headers=auth)
    outcome(response, 405)
    assert "GET" in response.headers["Allow"]
    outcome(client.put("/fhir/metadata"), 405)
    big = b"{" + b" " * (app.config["FHIR_MAX_BUNDLE_BYTES"] + 10) + b"}"
    outcome(post(app, token, big), 413)
    outcome(client.post("/fhir/Patient", data=big, headers=auth, content_type=FHIR_JSON), 413)
    outcome(post(app, token, b'{"resourceType": "Bundle", '), 400)
    unknown = outcome(post(app, token, {"resourceType": "Nope", "id": "1"}), 400)
    assert "not a FHIR R4 resource type" in unknown["issue"][0]["diagnostics"]
    in_bundle = copy.deepcopy(bundle())
    in_bundle["entry"].append({"resource": {"resourceType": "Bogus\u0001", "id": "x"}})
    outcome(post(app, token, in_bundle), 400)
    outcome(post(app, token, b'{"resourceType": "Patient", "id": "a\\u0000"}'), 400)
    assert total(FhirSource) == 0  # nothing written by any of them
    outcome(post(app, token, {"x": 1}, content_type="text/plain"), 415)
