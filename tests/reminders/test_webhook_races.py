"""Twilio webhooks under races, faults and forgeries (issue 12, findings 6, 7 and 10).

What they promise: a delivery status only moves forward, whatever order callbacks arrive in
and even when one arrives before the dispatcher stored the SID; a text, a STOP or a task tick
that arrives twice at once is handled once, with no 500; a signed post with a field out of
shape is a 4xx that writes nothing; an MMS keeps its pictures (for the team only); a big or
unsigned post is refused before its form is read; no phone number reaches the logs.

The races use real threads, each with its own test client, released together by a barrier
against the same database: on PostgreSQL they truly overlap; on SQLite writes serialize, but a
check-then-insert still loses (IntegrityError).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, ngettext
from twilio.request_validator import RequestValidator

from app.careplan.items.models import TaskCompletion
from app.core.db import utcnow
from app.extensions import db
from app.messaging.models import Message, Thread
from app.texting.models import InboundSms, OutboundSms, PhoneOptOut
from tests.fixtures.plan import add

TOKEN = "test-auth-token-0123456789abcdef"
BASE = "http://carecircle.test"
MARIA = "+15035550101"
OUR_NUMBER = "+15035550199"
ACCOUNT = "AC" + "0123456789abcdef" * 2
REPETITIONS = 25
MEDIA = "https://api.twilio.com/2010-04-01/Accounts/{a}/Messages/{m}/Media/ME{n:032x}"


@pytest.fixture(autouse=True)
def twilio_token(app):
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    # As in production: an error is a 500 answer (and a log line), not an exception in the test.
    app.config["PROPAGATE_EXCEPTIONS"] = False


@pytest.fixture
def maria(make_patient):
    return make_patient(given="María", family="López", mobile_phone=MARIA, language="es")


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def signed_post(client, path, params, *, headers=None):
    signature = RequestValidator(TOKEN).compute_signature(BASE + path, params)
    return client.post(
        path, data=params, headers={"X-Twilio-Signature": signature, **(headers or {})}
    )


def inbound_params(body="Hola", sender=MARIA, sid=None, **extra):
    params = {
        "AccountSid": ACCOUNT,
        "ApiVersion": "2010-04-01",
        "MessageSid": sid or new_sid(),
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }
    return {k: v for k, v in params.items() if v is not None}


def status_params(sid, status, code=None):
    params = {
        "AccountSid": ACCOUNT,
        "ApiVersion": "2010-04-01",
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": MARIA,
        "From": OUR_NUMBER,
    }
    if code:
        params["ErrorCode"] = code
    return params


def at_once(app, calls: list[Callable]) -> list:
    """Run each call(client) in its own thread with its own client, released together.
    Returns each one's status code, or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        client = app.test_client()
        try:
            barrier.wait(timeout=20)
            results[i] = call(client).status_code
        except Exception as exc:  # reported in the caller's assertion
            results[i] = repr(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def in_thread(app, work: Callable[[], None]) -> Callable:
    """A call for `at_once` that runs `work` in its own app context (a dispatcher, say)."""

    class Done:
        status_code = 200

    def call(_client):
        with app.app_context():
            try:
                work()
            finally:
                db.session.remove()
        return Done

    return call


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def everything() -> tuple:
    from app.texting.models import SmsStatusEarly

    db.session.expire_all()
    return (
        tuple(count(m) for m in (InboundSms, PhoneOptOut, Thread, Message, SmsStatusEarly)),
        tuple(db.session.execute(sa.select(OutboundSms.id, OutboundSms.status)).all()),
    )


def outbound(sid, status="accepted", to=MARIA) -> OutboundSms:
    row = OutboundSms(
        to_number=to, purpose="team_replied", locale="es", body="x", status=status, provider_sid=sid
    )
    db.session.add(row)
    db.session.commit()
    return row


# ------------------------------------------------------------------ finding 6: statuses


def test_sent_and_delivered_together_end_at_delivered(app, maria):
    """Twilio's `sent` and `delivered` callbacks arriving at the same moment (and twice)."""
    rows = []
    for _ in range(REPETITIONS):
        batch = [outbound(new_sid()) for _ in range(3)]
        rows += batch
        calls = []
        for row in batch:
            for value in ("sent", "delivered", "sent", "delivered"):
                calls.append(
                    lambda c, sid=row.provider_sid, v=value: signed_post(
                        c, "/sms/status", status_params(sid, v)
                    )
                )
        results = at_once(app, calls)
        assert set(results) == {204}, Counter(results)
    db.session.expire_all()
    statuses = Counter(
        db.session.scalars(
            sa.select(OutboundSms.status).where(OutboundSms.id.in_([r.id for r in rows]))
        )
    )
    assert statuses == {"delivered": len(rows)}


def test_a_callback_before_the_sid_is_stored_is_applied_when_it_lands(app, maria, fake_twilio):
    """Twilio calls back before the dispatcher has stored the SID its API answer carried."""
    from app.texting.status import apply_early

    client = app.test_client()
    sid = new_sid()
    url = BASE + "/sms/status"
    assert fake_twilio.send_status_callback(client, sid, "delivered", url=url).status_code == 204
    assert fake_twilio.send_status_callback(client, sid, "sent", url=url).status_code == 204
    row = outbound(sid)  # what the dispatcher does once the API answer is in...
    assert apply_early(row) is True  # ...then this, and commit
    db.session.commit()
    assert row.status == "delivered"
    assert apply_early(row) is False  # applied once, then gone
    db.session.commit()

    # an early "unsubscribed" failure opts the number out when it lands
    other = new_sid()
    assert (
        fake_twilio.send_status_callback(client, other, "failed", 21610, url=url).status_code == 204
    )
    row = outbound(other, to="+15035550177")
    apply_early(row)
    db.session.commit()
    assert (row.status, row.error_code) == ("failed", "21610")
    assert db.session.scalar(
        sa.select(PhoneOptOut.opted_out).where(PhoneOptOut.phone == "+15035550177")
    )


def test_early_callbacks_older_than_a_day_are_dropped(app, maria, frozen_clock):
    from app.texting.models import SmsStatusEarly
    from app.texting.status import apply_early

    client = app.test_client()
    now = utcnow()
    frozen_clock(now - timedelta(days=2))
    assert signed_post(client, "/sms/status", status_params(new_sid(), "sent")).status_code == 204
    frozen_clock(now)
    fresh = new_sid()
    assert signed_post(client, "/sms/status", status_params(fresh, "sent")).status_code == 204
    apply_early(outbound(new_sid()))
    db.session.commit()
    assert db.session.scalars(sa.select(SmsStatusEarly.sid)).all() == [fresh]


def test_a_callback_racing_the_sid_being_stored_is_never_lost(app, maria):
    """The callback and the dispatcher storing the SID (then calling apply_early) at once."""
    from app.texting.status import apply_early

    sids = []
    for _ in range(REPETITIONS):
        sid = new_sid()
        sids.append(sid)

        def dispatcher(sid=sid):
            row = OutboundSms(
                to_number=MARIA,
                purpose="team_replied",
                locale="es",
                body="x",
                status="accepted",
                provider_sid=sid,
            )
            db.session.add(row)
            db.session.commit()
            apply_early(row)
            db.session.commit()

        results = at_once(
            app,
            [
                lambda c, sid=sid: signed_post(c, "/sms/status", status_params(sid, "delivered")),
                in_thread(app, dispatcher),
            ],
        )
        assert results == [204, 200], results
    db.session.expire_all()
    statuses = db.session.scalars(
        sa.select(OutboundSms.status).where(OutboundSms.provider_sid.in_(sids))
    ).all()
    assert Counter(statuses) == {"delivered": REPETITIONS}


# ------------------------------------------------------------------ finding 7: once, no 500


def test_the_same_text_delivered_at_once_is_handled_once(app, maria):
    for i in range(REPETITIONS):
        params = inbound_params(body=f"Pregunta {i}")
        results = at_once(app, [lambda c, p=params: signed_post(c, "/sms/inbound", p)] * 4)
        assert results == [200] * 4, results
    db.session.expire_all()
    assert count(InboundSms) == REPETITIONS
    bodies = db.session.scalars(sa.select(Message.body)).all()
    assert sorted(bodies) == sorted(f"Pregunta {i}" for i in range(REPETITIONS))


def test_stop_from_a_new_number_at_once_leaves_one_opt_out(app, maria):
    for i in range(REPETITIONS):
        number = f"+1971555{i:04d}"
        calls = [
            lambda c, n=number: signed_post(c, "/sms/inbound", inbound_params("STOP", sender=n))
            for _ in range(4)
        ]
        results = at_once(app, calls)
        assert results == [200] * 4, results
    db.session.expire_all()
    rows = db.session.execute(sa.select(PhoneOptOut.phone, PhoneOptOut.opted_out)).all()
    assert len(rows) == REPETITIONS and all(opted for _phone, opted in rows)
    assert count(InboundSms) == 4 * REPETITIONS


def test_a_task_ticked_twice_at_once_is_ticked_once(app, make_patient, make_org, new_browser):
    from app.auth.models import User

    patient = make_patient()
    task = add(patient, make_org(), title="Walk after lunch")
    me = new_browser()
    me.login(db.session.get(User, patient.user_id).email)
    today = f"/patients/{patient.id}/today"
    token = me.token(today)
    url = f"/patients/{patient.id}/plan/items/{task.id}/done"
    day = patient.today().isoformat()
    cookies = list(me.client._cookies.values())  # the same signed-in session on every phone

    def tap(client):
        for cookie in cookies:
            client.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        return client.post(url, data={"csrf_token": token, "day": day})

    for _ in range(REPETITIONS):
        results = at_once(app, [tap] * 3)
        assert results == [302] * 3, results
        assert count(TaskCompletion) == 1
        db.session.execute(sa.delete(TaskCompletion))
        db.session.commit()


MALFORMED_INBOUND = {
    "a From longer than 16": {"From": "+15035550101123456", "Body": "STOP"},
    "a From that is no number": {"From": "Maria", "Body": "STOP"},
    "a From without +": {"From": "15035550101", "Body": "STOP"},
    "a From in other digits": {"From": "+١٥٠٣٥٥٥٠١٠١", "Body": "STOP"},
    "a To that is no number": {"To": "x" * 40},
    "a SID of another shape": {"MessageSid": "XX" + "0" * 32},
    "a SID longer than 64": {"MessageSid": "SM" + "a" * 70},
    "no SID": {"MessageSid": None},
    "a NUL in the body": {"Body": "ST\x00OP"},
    "a NUL in From": {"From": MARIA + "\x00"},
    "an escape in the body": {"Body": "Hola \x1b[31m"},
    "a media count that is no number": {"NumMedia": "two"},
    "too many media": {"NumMedia": "11"},
    "a media link elsewhere": {"NumMedia": "1", "MediaUrl0": "https://evil.example/x.jpg"},
    "a media link missing": {"NumMedia": "1"},
    "a media link that is script": {"NumMedia": "1", "MediaUrl0": "javascript:alert(1)"},
}


def test_signed_posts_with_fields_out_of_shape_are_4xx_and_write_nothing(app, maria):
    """Twilio never sends these; a signed one (a leaked token, a bug) must not get a 500, or
    store what does not fit."""
    client = app.test_client()
    before = everything()
    answers = {}
    for name, fields in MALFORMED_INBOUND.items():
        answers[name] = signed_post(client, "/sms/inbound", inbound_params(**fields)).status_code
    # the replay of a long SID (was: a second insert of the same truncated SID, a 500)
    replay = inbound_params("Hola", sid="SM" + "b" * 70)
    answers["long SID, again"] = signed_post(client, "/sms/inbound", replay).status_code
    row = outbound(new_sid())
    before = everything()
    for name, params in {
        "status: a SID longer than 64": status_params("SM" + "c" * 70, "delivered"),
        "status: a NUL in the SID": status_params(row.provider_sid + "\x00", "delivered"),
        "status: an error code that is no code": status_params(
            row.provider_sid, "failed", code="21610; +15035550101"
        ),
    }.items():
        answers[name] = signed_post(client, "/sms/status", params).status_code
    assert {name: code for name, code in answers.items() if not 400 <= code < 500} == {}
    assert everything() == before


def _mms(client, body, n, sid=None):
    sid = sid or new_sid("MM")
    media = {}
    for i in range(n):
        media[f"MediaUrl{i}"] = MEDIA.format(a=ACCOUNT, m=sid, n=i)
        media[f"MediaContentType{i}"] = "image/jpeg"
    params = inbound_params(body, sid=sid, NumMedia=str(n), **media)
    return signed_post(client, "/sms/inbound", params)


def test_an_mms_whose_pictures_cannot_be_fetched_yet_keeps_them_to_retry(
    app, maria, make_member, assign, new_browser
):
    """Twilio's media host is out of reach here: the texts are posted, each picture waits for
    `flask messaging fetch-media` (tests/messaging/test_attachments.py fetches them from the
    fake Twilio), and nobody is shown a Twilio link."""
    from app.auth.models import User
    from app.messaging.attachments import MediaFetch

    member = make_member()
    assign(maria, member)
    client = app.test_client()
    assert _mms(client, None, 2).status_code == 200  # pictures, no Body at all
    assert _mms(client, "Mira mi pie", 1).status_code == 200
    db.session.expire_all()
    messages = db.session.scalars(sa.select(Message).order_by(Message.id)).all()
    with force_locale("es"):
        said = ngettext(
            "Sent a picture by text message.", "Sent %(num)d pictures by text message.", 2
        )
    assert [m.body for m in messages] == [said, "Mira mi pie"]
    assert [m.attachments for m in messages] == [None, None]
    waiting = db.session.scalars(sa.select(MediaFetch).order_by(MediaFetch.id)).all()
    assert [(w.message_id, w.position) for w in waiting] == [
        (messages[0].id, 1),
        (messages[0].id, 2),
        (messages[1].id, 1),
    ]
    assert all(w.url.startswith("https://api.twilio.com/") for w in waiting)
    stored = db.session.scalars(sa.select(InboundSms).order_by(InboundSms.id)).all()
    assert [(s.handled_as, len(s.media)) for s in stored] == [("picture", 2), ("message", 1)]

    thread = f"/patients/{maria.id}/messages/{messages[0].thread_id}"
    nurse = new_browser()
    nurse.login(db.session.get(User, member.user_id).email)
    page = nurse.get(thread).get_data(as_text=True)
    assert said in page and "api.twilio.com" not in page
    patient = new_browser()
    patient.login(db.session.get(User, maria.user_id).email)
    page = patient.get(thread).get_data(as_text=True)
    assert said in page and "api.twilio.com" not in page


def test_a_text_without_words_or_pictures_posts_nothing(app, maria):
    client = app.test_client()
    assert signed_post(client, "/sms/inbound", inbound_params(None)).status_code == 200
    assert signed_post(client, "/sms/inbound", inbound_params("  ")).status_code == 200
    assert count(Message) == 0
    assert db.session.scalars(sa.select(InboundSms.handled_as)).all() == ["empty", "empty"]


# ------------------------------------------------------------------ finding 10: big posts


@pytest.mark.parametrize("path", ["/sms/inbound", "/sms/status"])
def test_big_webhook_posts_are_413_and_write_nothing(app, maria, path):
    """Twilio posts a few KB; a big post is refused unread, signed or not: 200 KB (under the
    app-wide 1 MiB for people's forms) and 2 MB."""
    client = app.test_client()
    before = everything()
    for size in (200 * 1024, 2 * 1024 * 1024):
        params = inbound_params("STOP", Junk="x" * size, MessageStatus="delivered")
        assert client.post(path, data=params).status_code == 413
        forged = {"X-Twilio-Signature": "forged"}
        assert client.post(path, data=params, headers=forged).status_code == 413
        assert signed_post(client, path, params).status_code == 413
    assert everything() == before


@pytest.mark.parametrize("path", ["/sms/inbound", "/sms/status"])
def test_an_unsigned_post_is_refused_before_its_form_is_read(app, maria, monkeypatch, path):
    from flask import Request

    parsed = []
    load = Request._load_form_data

    def spy(self):
        parsed.append(self.path)
        return load(self)

    monkeypatch.setattr(Request, "_load_form_data", spy)
    client = app.test_client()
    assert client.post(path, data=inbound_params("STOP")).status_code == 403
    assert parsed == []
    assert signed_post(client, path, inbound_params("STOP", MessageStatus="sent")).status_code in (
        200,
        204,
    )
    assert parsed  # a signed one is read, of course


# ------------------------------------------------------------------ logs


def test_phone_numbers_never_reach_the_logs(app, maria, caplog):
    caplog.set_level(logging.DEBUG, logger="app")
    client = app.test_client()
    signed_post(client, "/sms/inbound", inbound_params("STOP"))
    signed_post(client, "/sms/inbound", inbound_params("STOP", sender="+15035550101123456"))
    long_sid = inbound_params("Hola", sid="SM" + "d" * 70)
    signed_post(client, "/sms/inbound", long_sid)
    signed_post(client, "/sms/inbound", long_sid)
    row = outbound(new_sid())
    signed_post(client, "/sms/status", status_params(row.provider_sid, "failed", "21610"))
    signed_post(client, "/sms/status", status_params(new_sid(), "sent"))
    assert caplog.records  # the log did get lines...
    text = caplog.text
    assert "5035550101" not in text and "03555010112345" not in text  # ...but no number
