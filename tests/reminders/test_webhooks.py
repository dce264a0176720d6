"""Twilio webhooks: signatures, delivery statuses, and every inbound keyword."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from app.careplan.items.models import ItemKind, PlanItem
from app.core.db import utcnow
from app.extensions import db
from app.messaging.models import Message, Thread
from app.texting.models import InboundSms, OutboundSms, PhoneOptOut
from tests.fixtures.plan import add

TOKEN = "test-auth-token-0123456789abcdef"
BASE = "http://carecircle.test"
MARIA = "+15035550101"


@pytest.fixture(autouse=True)
def twilio_token(app):
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN


def signed_post(client, path, params, token=TOKEN, base=BASE):
    signature = RequestValidator(token).compute_signature(base + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def maria(make_patient, make_org):
    patient = make_patient(given="María", family="López", mobile_phone=MARIA, language="es")
    org = make_org()
    appt = add(
        patient,
        org,
        kind=ItemKind.APPOINTMENT,
        title="Cita de control",
        starts_at=utcnow() + timedelta(days=1),
        location="Clinic",
    )
    add(
        patient,
        org,
        kind=ItemKind.APPOINTMENT,
        title="Later visit",
        starts_at=utcnow() + timedelta(days=9),
        location="Clinic",
    )
    return {"patient": patient, "appointment": appt}


_n = {"i": 0}


def inbound(client, body, sender=MARIA, sid=None):
    _n["i"] += 1
    return signed_post(
        client,
        "/sms/inbound",
        {
            "MessageSid": sid or f"SM{_n['i']:032d}",
            "From": sender,
            "Body": body,
            "To": "+15035550100",
        },
    )


def counts():
    db.session.expire_all()
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (InboundSms, PhoneOptOut, Thread, Message)
    )


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "  Stop! ", "STOPALL", "unsubscribe", "Cancel.", "END", "quit"]
)
def test_stop_words_opt_the_number_out_with_a_confirmation(client, maria, word):
    response = inbound(client, word)
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert "no recibirá más mensajes" in response.get_data(as_text=True)  # in Spanish
    assert db.session.scalar(sa.select(PhoneOptOut.opted_out)) is True


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_start_words_opt_back_in(client, maria, word):
    inbound(client, "STOP")
    response = inbound(client, word)
    assert "Reply STOP" in response.get_data(as_text=True) or "STOP" in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.scalar(sa.select(PhoneOptOut.opted_out)) is False


def test_help_gives_the_cco_contact_line(app, client, maria):
    text = inbound(client, "help").get_data(as_text=True)
    assert app.config["CCO_CONTACT_PHONE"] in text


@pytest.mark.parametrize("word", ["C", "c", "1", " 1. "])
def test_c_or_1_confirms_the_next_appointment(client, maria, word):
    text = inbound(client, word).get_data(as_text=True)
    assert "confirmada" in text
    db.session.expire_all()
    confirmed = db.session.scalars(
        sa.select(PlanItem.title).where(PlanItem.patient_confirmed_at.is_not(None))
    ).all()
    assert confirmed == ["Cita de control"]  # the next one, not the later one


@pytest.mark.parametrize("word", ["R", "2"])
def test_r_or_2_asks_the_team_to_reschedule(client, maria, word):
    inbound(client, word)
    thread = db.session.scalar(sa.select(Thread))
    assert thread.topic.value == "appointment" and thread.awaiting_since is not None
    assert "cambiar" in thread.subject.lower()


def test_anything_else_becomes_a_message_for_the_team(client, maria):
    inbound(client, "Hola, tengo una pregunta sobre mi cita")
    inbound(client, "y otra cosa")
    assert db.session.scalar(sa.select(sa.func.count(Thread.id))) == 1
    bodies = db.session.scalars(sa.select(Message.body).order_by(Message.id)).all()
    assert bodies == ["Hola, tengo una pregunta sobre mi cita", "y otra cosa"]


def test_unknown_numbers_get_a_polite_answer_and_no_data(client, maria):
    text = inbound(client, "C", sender="+15035550999").get_data(as_text=True)
    assert "could not match" in text
    assert "Cita" not in text and "María" not in text
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(PlanItem.patient_confirmed_at).where(PlanItem.title == "Cita de control")
        )
        is None
    )


def test_a_retried_webhook_is_handled_once(client, maria):
    first = inbound(client, "R", sid="SMretry").get_data(as_text=True)
    second = inbound(client, "R", sid="SMretry").get_data(as_text=True)
    assert first == second
    assert db.session.scalar(sa.select(sa.func.count(Thread.id))) == 1


@pytest.mark.parametrize("path", ["/sms/inbound", "/sms/status"])
def test_missing_or_wrong_signature_is_403_and_writes_nothing(client, maria, path):
    before = counts()
    params = {"MessageSid": "SMx", "From": MARIA, "Body": "STOP", "MessageStatus": "delivered"}
    assert client.post(path, data=params).status_code == 403
    assert signed_post(client, path, params, token="wrong-token").status_code == 403
    assert signed_post(client, path, params, base="http://evil.example").status_code == 403
    tampered = dict(params, Body="START")
    sig = RequestValidator(TOKEN).compute_signature(BASE + path, params)
    assert client.post(path, data=tampered, headers={"X-Twilio-Signature": sig}).status_code == 403
    assert counts() == before


def test_signature_uses_the_public_url_behind_a_proxy(app, client, maria):
    """Twilio signs the public https URL; the app sees an internal one behind the proxy."""
    app.config["PUBLIC_BASE_URL"] = "https://portal.example.org"
    response = signed_post(
        client,
        "/sms/inbound",
        {"MessageSid": "SMproxy", "From": MARIA, "Body": "HELP"},
        base="https://portal.example.org",
    )
    assert response.status_code == 200


def _text(sid="SMout1", status="sent"):
    row = OutboundSms(
        to_number=MARIA,
        purpose="team_replied",
        locale="es",
        body="x",
        status=status,
        provider_sid=sid,
    )
    db.session.add(row)
    db.session.commit()
    return row


def status(client, sid, value, code=None):
    params = {"MessageSid": sid, "MessageStatus": value}
    if code:
        params["ErrorCode"] = code
    return signed_post(client, "/sms/status", params)


def test_status_moves_forward_only_and_duplicates_change_nothing(client, maria):
    row = _text()
    assert status(client, "SMout1", "delivered").status_code == 204
    assert status(client, "SMout1", "sent").status_code == 204  # late, out of order
    assert status(client, "SMout1", "delivered").status_code == 204  # duplicate
    db.session.expire_all()
    assert db.session.get(OutboundSms, row.id).status == "delivered"


def test_failed_with_unsubscribed_code_opts_the_number_out(client, maria):
    _text("SMout2")
    status(client, "SMout2", "failed", code="21610")
    db.session.expire_all()
    row = db.session.scalar(sa.select(OutboundSms).where(OutboundSms.provider_sid == "SMout2"))
    assert (row.status, row.error_code) == ("failed", "21610")
    assert db.session.scalar(sa.select(PhoneOptOut.opted_out)) is True


def test_bad_or_unknown_status_callbacks(client, maria):
    assert status(client, "SMnobody", "delivered").status_code == 204  # not ours
    assert status(client, "SMout1", "exploded").status_code == 400
    assert signed_post(client, "/sms/status", {"MessageStatus": "sent"}).status_code == 400


def test_after_stop_no_text_is_queued(client, maria, make_member, assign, new_browser):
    from app.auth.models import User
    from app.patients.models import PatientPreferences

    db.session.add(
        PatientPreferences(patient_id=maria["patient"].id, contact_channels=["sms", "portal"])
    )
    member = make_member()
    assign(maria["patient"], member)
    inbound(client, "STOP")
    inbound(client, "Una pregunta")  # still reaches the team
    nurse = new_browser()
    nurse.login(db.session.get(User, member.user_id).email)
    thread = db.session.scalar(sa.select(Thread))
    nurse.post(f"/patients/{maria['patient'].id}/messages/{thread.id}", {"body": "Hola"})
    assert (
        db.session.scalars(
            sa.select(OutboundSms).where(OutboundSms.purpose == "team_replied")
        ).all()
        == []
    )
