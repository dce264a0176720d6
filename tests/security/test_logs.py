"""No phone number or message body in the logs (issue 12, finding 9).

A database error's message carries the statement's bound values and PostgreSQL's DETAIL ("Key
(phone)=(+1503...) already exists", "Failing row contains (... the message ...)"); SQLAlchemy
logs result rows at DEBUG. Every logger is turned up to DEBUG here, every record is formatted
as a handler would (message and traceback), and none may hold a number or a body.
"""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from app.auth.models import User
from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.messaging import services as messaging
from app.messaging.models import Message, Thread, Topic
from app.patients.models import Patient
from app.texting.models import PhoneOptOut
from tests.fixtures.app import ON_POSTGRES
from tests.fixtures.browser import signed_in

PHONE = "+15035550177"
BODY = "Quokka-7731: the lump under my arm is bigger and I am scared"
TOKEN = "test-auth-token-0123456789abcdef"


@pytest.fixture
def all_logs(caplog):
    """Every logger at DEBUG, captured."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "app", "flask", "werkzeug"):
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.clear()
    return caplog


def logged(caplog) -> str:
    formatter = logging.Formatter()
    return "\n".join(formatter.format(record) for record in caplog.records)


def variants(phone: str) -> list[str]:
    """The ways a number shows up: E.164, its ten digits, and 503-555-0177."""
    digits = phone.removeprefix("+1")
    return [phone, digits, f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"]


def leaks(text: str, phones, bodies) -> list[str]:
    found = [p for phone in phones for p in variants(phone) if p in text]
    found += [body[:40] for body in bodies if body[:40] in text]
    return found


# ------------------------------------------------------------------ a 500 with values in it


def _unique_phone(**kw):
    db.session.add(PhoneOptOut(phone=PHONE, reason="STOP"))  # the number is there already
    db.session.flush()


def _no_thread(*, body, **kw):
    # NOT NULL: PostgreSQL's DETAIL quotes the whole failing row, the body in it.
    db.session.add(Message(thread_id=None, body=body, capacity="patient"))
    db.session.flush()


def _too_long(*, body, patient_id, **kw):
    # PostgreSQL only (SQLite does not check lengths): the subject column holds 160.
    db.session.add(Thread(patient_id=patient_id, topic=Topic.OTHER, subject=body * 4))
    db.session.flush()


FAULTS = {
    "unique phone number": (_unique_phone, "23505", "SQLITE_CONSTRAINT_UNIQUE"),
    "message body in a failing row": (_no_thread, "23502", "SQLITE_CONSTRAINT_NOTNULL"),
    "message body too long for a column": (_too_long, "22001", None),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_database_error_logs_its_class_and_sqlstate_not_its_values(
    app, two_patients, new_browser, monkeypatch, all_logs, fault
):
    provoke, pg_state, sqlite_state = FAULTS[fault]
    if not ON_POSTGRES and sqlite_state is None:
        pytest.skip("SQLite does not check the length of a string")
    w = two_patients
    db.session.add(PhoneOptOut(phone=PHONE, reason="STOP"))
    db.session.commit()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 page and its log, as in production
    monkeypatch.setattr(messaging, "start_thread", provoke)
    browser = signed_in(new_browser, w.patient_user)
    all_logs.clear()

    answer = browser.post(
        f"/patients/{w.patient.id}/messages/new",
        {"topic": "symptoms", "subject": "A lump", "body": BODY},
    )

    assert answer.status_code == 500
    text = logged(all_logs)
    assert leaks(text, [PHONE], [BODY]) == []
    # What was logged still says what happened, and where.
    state = pg_state if ON_POSTGRES else sqlite_state
    assert re.search(rf"500 on POST messaging.new_thread: \S+Error \(SQLSTATE {state}\)", text)
    assert "test_logs.py" in text  # the traceback's frames are there
    assert "SELECT" in text  # and the engine was logging at DEBUG all along


def test_database_errors_carry_no_values_even_in_their_own_message(app, two_patients):
    """hide_parameters: whatever logs an exception some day, its str() has no values."""
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    db.session.add(PhoneOptOut(phone=PHONE, reason="STOP"))
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError) as caught:
        db.session.add(Message(thread_id=None, body=BODY, capacity="patient"))
        db.session.flush()
    db.session.rollback()
    message = str(caught.value)
    statement = message[message.index("[SQL:") :]
    assert "[SQL parameters hidden due to hide_parameters=True]" in statement
    assert BODY not in statement


# ------------------------------------------------------------------ normal days


def _signed_post(client, path: str, params: dict):
    signature = RequestValidator(TOKEN).compute_signature("http://carecircle.test" + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def test_normal_flows_log_no_demo_phone_or_message(app, seeded, new_browser, all_logs):
    """The demo's people write, answer and text in; nothing they wrote and none of their
    numbers reaches a log line."""
    from app.texting import dispatcher

    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    phones = {p for p in db.session.scalars(sa.select(Patient.mobile_phone)) if p}
    phones |= {p for p in db.session.scalars(sa.select(User.mobile_phone)) if p}
    james = db.session.scalar(sa.select(Patient).where(Patient.given_name == "James"))
    assert james.mobile_phone in phones
    written = [
        "Quokka-1: my feet tingle at night since the new pills",
        "Quokka-2: thank you, I will check them every evening",
        "Quokka-3: texting you from the bus, ankles swollen again",
    ]
    all_logs.clear()

    me = new_browser()
    assert me.login("james@demo.carecircle.test", DEMO_PASSWORD).status_code == 302
    sent = me.post(
        f"/patients/{james.id}/messages/new",
        {"topic": "symptoms", "subject": "Tingling feet", "body": written[0]},
    )
    assert sent.status_code == 302
    thread_url = sent.headers["Location"]
    nurse = new_browser()
    assert nurse.login("nurse@demo.carecircle.test", DEMO_PASSWORD).status_code == 302
    assert nurse.get("/team/inbox").status_code == 200
    assert nurse.post(thread_url, {"body": "Please check your feet."}).status_code == 302
    assert me.post(thread_url, {"body": written[1]}).status_code == 302
    texted = _signed_post(
        app.test_client(),
        "/sms/inbound",
        {"MessageSid": "SM" + "7" * 32, "From": james.mobile_phone, "Body": written[2]},
    )
    assert texted.status_code == 200
    dispatcher.dispatch_once()  # the "a message is waiting" texts, to the demo's phones

    bodies = list(db.session.scalars(sa.select(Message.body))) + written
    assert written[2] in bodies  # the text reached the team
    text = logged(all_logs)
    assert "SELECT" in text  # the engine logged (with its values hidden)
    assert leaks(text, phones, bodies) == []
