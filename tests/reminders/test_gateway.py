"""The SMS gateway against a fake Twilio API, through the real `twilio` library."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator

from app.core.db import utcnow
from app.texting import gateway
from app.texting.gateway import (
    OutboxBackend,
    PermanentSmsError,
    SmsResult,
    TransientSmsError,
    TwilioBackend,
    get_backend,
)
from tests.fakes.twilio_server import FakeTwilioServer
from tests.fixtures.twilio import AUTH_TOKEN, FROM_NUMBER, MESSAGING_SERVICE_SID

TO = "+15035550101"
BODY = "CareCircle: you have a new message. Sign in to read it."
CALLBACK = "http://carecircle.test/sms/status"


@pytest.fixture
def backend(app, fake_twilio):
    with get_backend(app) as twilio:
        yield twilio


def closed_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ success


def test_send_through_messaging_service(backend, fake_twilio):
    result = backend.send(TO, BODY)

    assert isinstance(result, SmsResult)
    assert result.sid == fake_twilio.sids[0]
    assert result.sid.startswith("SM") and len(result.sid) == 34
    # Twilio says "queued"; here that would mean "not sent yet", so the gateway says accepted.
    assert result.status == "accepted"
    assert fake_twilio.messages == [
        {
            "To": TO,
            "Body": BODY,
            "MessagingServiceSid": MESSAGING_SERVICE_SID,
            "StatusCallback": CALLBACK,
        }
    ]


def test_from_number_when_no_messaging_service(app, fake_twilio):
    app.config["TWILIO_MESSAGING_SERVICE_SID"] = ""
    with get_backend(app) as backend:
        result = backend.send(TO, BODY)

    (sent,) = fake_twilio.messages
    assert sent["From"] == FROM_NUMBER
    assert "MessagingServiceSid" not in sent
    assert sent["StatusCallback"] == CALLBACK
    assert result.sid == fake_twilio.sids[0]


def test_status_callback_ignores_trailing_slash(app, fake_twilio):
    app.config["PUBLIC_BASE_URL"] = "https://portal.example/"
    with get_backend(app) as backend:
        backend.send(TO, BODY)
    assert fake_twilio.messages[0]["StatusCallback"] == "https://portal.example/sms/status"


def test_get_backend_uses_current_app(app, fake_twilio):
    with get_backend() as backend:
        assert isinstance(backend, TwilioBackend)


def test_twilio_statuses_in_app_words():
    assert gateway.normalise_status("queued") == "accepted"
    assert gateway.normalise_status("sending") == "accepted"
    assert gateway.normalise_status("accepted") == "accepted"
    assert gateway.normalise_status("delivered") == "delivered"
    assert gateway.normalise_status("failed") == "failed"


# ------------------------------------------------------------------ failures


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limit_and_server_errors_are_transient(backend, fake_twilio, status):
    fake_twilio.fail_next(status)

    with pytest.raises(TransientSmsError) as info:
        backend.send(TO, BODY)

    assert info.value.http_status == status
    assert fake_twilio.messages == []
    # The next try goes through.
    assert backend.send(TO, BODY).sid == fake_twilio.sids[0]


def test_failures_can_repeat(backend, fake_twilio):
    fake_twilio.fail_next(500, times=2)
    for _ in range(2):
        with pytest.raises(TransientSmsError):
            backend.send(TO, BODY)
    backend.send(TO, BODY)
    assert [r.status for r in fake_twilio.received] == [500, 500, 201]


def test_non_json_gateway_error_is_transient(backend, fake_twilio):
    fake_twilio.fail_next(502, body="<html><body>Bad gateway</body></html>")
    with pytest.raises(TransientSmsError) as info:
        backend.send(TO, BODY)
    assert info.value.http_status == 502


@pytest.mark.parametrize(
    "code",
    [
        gateway.INVALID_NUMBER,
        gateway.UNSUBSCRIBED,
        gateway.NOT_MOBILE,
        gateway.REGION_NOT_ENABLED,
    ],
)
def test_refusals_are_permanent_with_the_twilio_code(backend, fake_twilio, code):
    fake_twilio.fail_next(400, code=int(code))

    with pytest.raises(PermanentSmsError) as info:
        backend.send(TO, BODY)

    assert info.value.code == code
    assert info.value.http_status == 400
    assert not isinstance(info.value, TransientSmsError)
    assert fake_twilio.messages == []


def test_400_defaults_to_invalid_number(backend, fake_twilio):
    fake_twilio.fail_next(400)
    with pytest.raises(PermanentSmsError) as info:
        backend.send(TO, BODY)
    assert info.value.code == "21211"


def test_wrong_credentials_are_permanent(app, fake_twilio):
    app.config["TWILIO_AUTH_TOKEN"] = "not-the-token"
    with get_backend(app) as backend, pytest.raises(PermanentSmsError) as info:
        backend.send(TO, BODY)
    assert info.value.code == "20003"
    assert info.value.http_status == 401
    assert fake_twilio.messages == []


def test_connection_refused_is_transient(app, fake_twilio):
    app.config["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{closed_loopback_port()}"
    with get_backend(app) as backend, pytest.raises(TransientSmsError):
        backend.send(TO, BODY)


def test_stopped_server_is_transient(backend, fake_twilio):
    fake_twilio.stop()
    with pytest.raises(TransientSmsError):
        backend.send(TO, BODY)


@pytest.mark.parametrize("accept", [False, True])
def test_dropped_connection_is_transient(backend, fake_twilio, accept):
    fake_twilio.drop_next(accept=accept)
    with pytest.raises(TransientSmsError):
        backend.send(TO, BODY)
    assert len(fake_twilio.messages) == (1 if accept else 0)


def test_timeout_is_transient(app, fake_twilio):
    fake_twilio.delay_next(0.6)
    with TwilioBackend(app.config, timeout=0.2) as backend, pytest.raises(TransientSmsError):
        backend.send(TO, BODY)


def test_errors_do_not_carry_phone_numbers_or_bodies(backend, fake_twilio, caplog):
    caplog.set_level(logging.DEBUG)
    # Twilio's own message for 21211 quotes the number.
    fake_twilio.fail_next(400, code=21211)
    with pytest.raises(PermanentSmsError) as info:
        backend.send(TO, BODY)
    fake_twilio.fail_next(500)
    with pytest.raises(TransientSmsError):
        backend.send(TO, BODY)
    result = backend.send(TO, BODY)
    assert backend.find_sent(TO, BODY, since=utcnow() - timedelta(minutes=1)) == result

    assert TO not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert result.sid in caplog.text
    assert "21211" in caplog.text
    assert TO not in caplog.text
    assert BODY not in caplog.text


# ------------------------------------------------------------------ finding a lost send


def test_find_sent_adopts_a_message_whose_answer_was_lost(backend, fake_twilio):
    since = utcnow() - timedelta(minutes=1)
    backend.send("+15035550102", BODY)  # another number
    backend.send(TO, "another text")  # another body
    fake_twilio.drop_next(accept=True)
    with pytest.raises(TransientSmsError):
        backend.send(TO, BODY)

    found = backend.find_sent(TO, BODY, since=since)

    assert found == SmsResult(sid=fake_twilio.sids[-1], status="accepted")
    listing = fake_twilio.received[-1]
    assert listing.method == "GET" and listing.form["To"] == TO


def test_find_sent_reports_the_current_status(backend, fake_twilio, client):
    sid = backend.send(TO, BODY).sid
    fake_twilio.set_status(sid, "delivered")
    assert backend.find_sent(TO, BODY, since=utcnow() - timedelta(minutes=1)) == SmsResult(
        sid, "delivered"
    )


def test_find_sent_none_when_not_sent(backend, fake_twilio):
    fake_twilio.drop_next()
    with pytest.raises(TransientSmsError):
        backend.send(TO, BODY)
    assert backend.find_sent(TO, BODY, since=utcnow() - timedelta(minutes=1)) is None


def test_find_sent_ignores_older_messages(backend, fake_twilio):
    backend.send(TO, BODY)
    assert backend.find_sent(TO, BODY, since=utcnow() + timedelta(minutes=1)) is None


def test_find_sent_failures_are_classified(backend, fake_twilio):
    fake_twilio.fail_next(503, on="list")
    with pytest.raises(TransientSmsError):
        backend.find_sent(TO, BODY, since=utcnow())
    fake_twilio.stop()
    with pytest.raises(TransientSmsError):
        backend.find_sent(TO, BODY, since=utcnow())


# ------------------------------------------------------------------ outbox and configuration


def test_outbox_stores_and_sends_nothing(app, fake_twilio, monkeypatch):
    app.config["SMS_BACKEND"] = "outbox"

    def no_connections(self, address):
        raise AssertionError(f"outbox backend opened a connection to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", no_connections)
    with get_backend(app) as backend:
        assert isinstance(backend, OutboxBackend)
        result = backend.send(TO, BODY)
        assert backend.find_sent(TO, BODY, since=utcnow()) is None
    monkeypatch.undo()

    assert result.status == "stored"
    assert result.sid.startswith("OUTBOX") and len(result.sid) == 38
    assert result.sid != OutboxBackend().send(TO, BODY).sid
    assert fake_twilio.received == []


def test_outbox_is_the_default(app):
    assert isinstance(get_backend(app), OutboxBackend)


def test_unknown_backend_is_a_clear_error(app):
    app.config["SMS_BACKEND"] = "carrier-pigeon"
    with pytest.raises(RuntimeError, match="carrier-pigeon"):
        get_backend(app)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("TWILIO_ACCOUNT_SID", "TWILIO_ACCOUNT_SID"),
        ("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN"),
    ],
)
def test_twilio_needs_credentials(app, fake_twilio, setting, message):
    app.config[setting] = ""
    with pytest.raises(RuntimeError, match=message):
        get_backend(app)


def test_twilio_needs_a_sender(app, fake_twilio):
    app.config.update(TWILIO_MESSAGING_SERVICE_SID="", TWILIO_FROM_NUMBER="")
    with pytest.raises(RuntimeError, match="TWILIO_FROM_NUMBER"):
        get_backend(app)


def test_base_url_is_the_library_host(app, fake_twilio):
    with get_backend(app) as backend:
        assert backend.client.api.base_url == fake_twilio.url
        url = backend.client.api.absolute_url("2010-04-01/Accounts/AC1/Messages.json")
    assert url == f"{fake_twilio.url}/2010-04-01/Accounts/AC1/Messages.json"


# ------------------------------------------------------------------ the fake itself


def test_status_callback_helper_signs_for_the_public_url(backend, fake_twilio):
    sid = backend.send(TO, BODY).sid
    seen = {}
    receiver = Flask("receiver")

    @receiver.post("/sms/status")
    def status():
        seen.update(
            url=request.url,
            form=request.form.to_dict(),
            signature=request.headers["X-Twilio-Signature"],
        )
        return "", 204

    response = fake_twilio.send_status_callback(
        receiver.test_client(), sid, "undelivered", error_code=30003
    )

    assert response.status_code == 204
    assert seen["url"] == CALLBACK
    form = seen["form"]
    assert form["MessageSid"] == form["SmsSid"] == sid
    assert form["MessageStatus"] == "undelivered"
    assert form["ErrorCode"] == "30003"
    assert form["To"] == TO
    assert form["MessagingServiceSid"] == MESSAGING_SERVICE_SID
    validator = RequestValidator(AUTH_TOKEN)
    assert validator.validate(CALLBACK, form, seen["signature"])
    assert not RequestValidator("other-token").validate(CALLBACK, form, seen["signature"])
    assert fake_twilio.record(sid)["status"] == "undelivered"


def test_status_callback_helper_posts_to_a_url(fake_twilio):
    """A URL target gets a real HTTP POST (here to the fake itself, which logs it)."""
    url = f"{fake_twilio.url}/sms/status?source=test"
    response = fake_twilio.send_status_callback(url, "SM" + "0" * 32, "delivered")

    assert response.status_code == 404  # the fake has no such route, but saw the request
    seen = fake_twilio.received[-1]
    assert seen.path == "/sms/status?source=test"
    assert RequestValidator(AUTH_TOKEN).validate(url, seen.form, seen.headers["X-Twilio-Signature"])


def test_status_callback_helper_can_sign_wrongly(fake_twilio):
    receiver = Flask("receiver")
    receiver.add_url_rule(
        "/sms/status",
        "status",
        lambda: request.headers["X-Twilio-Signature"],
        methods=["POST"],
    )
    client = receiver.test_client()
    bad_token = fake_twilio.send_status_callback(client, "SM1", "sent", auth_token="nope")
    forged = fake_twilio.send_status_callback(client, "SM1", "sent", signature="forged")
    params = fake_twilio.status_callback_params("SM1", "sent")
    assert bad_token.get_data(as_text=True) == fake_twilio.sign(CALLBACK, params, "nope")
    assert forged.get_data(as_text=True) == "forged"


def test_fake_rejects_missing_credentials(fake_twilio):
    import requests

    response = requests.post(
        f"{fake_twilio.url}/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json",
        data={"To": TO, "Body": BODY, "From": FROM_NUMBER},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["code"] == 20003
    assert fake_twilio.messages == []


def test_fake_server_restarts_cleanly():
    server = FakeTwilioServer()
    with server:
        first = server.url
    assert not server.running
    server.stop()  # twice is fine
    with server:
        assert server.url.startswith("http://127.0.0.1:")
    assert first.startswith("http://127.0.0.1:")
