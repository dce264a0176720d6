"""The dispatcher against the real twilio library and a fake Twilio server on loopback:
sending, retries with backoff, permanent errors, crash recovery without duplicates, and two
workers racing (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.db import utcnow
from app.extensions import db
from app.texting import dispatcher
from app.texting.models import OutboundSms, PhoneOptOut
from tests.fixtures.app import ON_POSTGRES

NUMBER = "+15035550101"


def queue(n=1, to=NUMBER, **kw):
    rows = [
        OutboundSms(
            to_number=to,
            purpose="test",
            locale="en",
            body=f"Reminder {i}",
            send_after=utcnow() - timedelta(seconds=1),
            **kw,
        )
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [r.id for r in rows]


def rows():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboundSms).order_by(OutboundSms.id)))


@pytest.fixture(autouse=True)
def fast(app):
    app.config.update(
        SMS_RATE_PER_SECOND=0,
        SMS_RETRY_BASE_SECONDS=30,
        SMS_RETRY_MAX_SECONDS=600,
        SMS_MAX_ATTEMPTS=3,
    )


def test_sends_due_texts_and_records_the_sid(app, fake_twilio):
    queue(3)
    later = OutboundSms(
        to_number=NUMBER,
        purpose="t",
        locale="en",
        body="later",
        send_after=utcnow() + timedelta(hours=1),
    )
    db.session.add(later)
    db.session.commit()
    outcome = dispatcher.dispatch_once()
    assert outcome["sent"] == 3
    sent = [r for r in rows() if r.body != "later"]
    assert all(r.status == "accepted" and r.provider_sid in fake_twilio.sids for r in sent)
    assert all(r.attempts == 1 for r in sent)
    # sent several at once: in any order, each once
    assert sorted(m["Body"] for m in fake_twilio.messages) == [
        "Reminder 0",
        "Reminder 1",
        "Reminder 2",
    ]
    assert rows()[-1].status == "queued"  # not due yet
    assert dispatcher.dispatch_once()["sent"] == 0  # nothing twice


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_errors_retry_with_backoff(app, fake_twilio, status):
    queue()
    fake_twilio.fail_next(status=status)
    outcome = dispatcher.dispatch_once()
    assert outcome["retry"] == 1
    [row] = rows()
    assert row.status == "queued" and row.attempts == 1
    wait = row.send_after - utcnow()
    assert timedelta(seconds=10) < wait <= timedelta(seconds=31)
    # when it is due again it goes out
    db.session.execute(sa.update(OutboundSms).values(send_after=utcnow()))
    db.session.commit()
    assert dispatcher.dispatch_once()["sent"] == 1
    assert len(fake_twilio.messages) == 1


def test_backoff_grows_and_stops_after_max_attempts(app, fake_twilio):
    queue()
    fake_twilio.fail_next(status=500, times=10)
    waits = []
    for _ in range(3):
        db.session.execute(sa.update(OutboundSms).values(send_after=utcnow()))
        db.session.commit()
        before = utcnow()
        dispatcher.dispatch_once()
        [row] = rows()
        if row.status == "queued":
            waits.append((row.send_after - before).total_seconds())
    assert row.status == "failed" and row.error_code == "retries" and row.attempts == 3
    assert len(waits) == 2 and max(waits) <= 60
    assert fake_twilio.messages == []


@pytest.mark.parametrize("code", ["21211", "21610"])
def test_permanent_errors_stop_retrying(app, fake_twilio, code):
    queue()
    fake_twilio.fail_next(status=400, code=int(code))
    assert dispatcher.dispatch_once()["failed"] == 1
    [row] = rows()
    assert (row.status, row.error_code) == ("failed", code)
    opted_out = db.session.scalar(sa.select(PhoneOptOut.opted_out))
    assert opted_out is (True if code == "21610" else None)


def test_opted_out_numbers_are_never_texted(app, fake_twilio):
    from app.texting.optout import set_opt_out

    set_opt_out(NUMBER, True, "STOP")
    db.session.commit()
    queue()
    assert dispatcher.dispatch_once()["skipped"] == 1
    assert fake_twilio.messages == []


def test_a_worker_killed_after_twilio_took_the_text_sends_no_duplicate(app, fake_twilio):
    """Twilio accepted the text but its answer was lost (the connection drops after the
    message is stored). The row waits, unsent, for its lease to run out; then Twilio is asked
    and the row takes the SID it finds."""
    queue()
    fake_twilio.drop_next(accept=True)
    outcome = dispatcher.dispatch_once()
    assert outcome["unknown"] == 1 and outcome["retry"] == 0
    [row] = rows()
    assert row.status == "sending" and row.provider_sid is None and row.attempts == 1
    assert dispatcher.dispatch_once()["sent"] == 0  # lease not expired: nobody touches it
    db.session.execute(sa.update(OutboundSms).values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    outcome = dispatcher.dispatch_once()
    assert outcome["reconciled"] == 1 and outcome["sent"] == 0
    [row] = rows()
    assert row.status == "accepted" and row.provider_sid == fake_twilio.sids[0]
    assert len(fake_twilio.messages) == 1  # one text, not two


def test_a_worker_killed_before_sending_loses_nothing(app, fake_twilio):
    [sms_id] = queue()
    assert dispatcher.claim(10) == [sms_id]  # claimed, then the worker dies
    assert rows()[0].status == "sending"
    assert dispatcher.dispatch_once()["sent"] == 0  # lease not expired: nobody touches it
    db.session.execute(sa.update(OutboundSms).values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    outcome = dispatcher.dispatch_once()
    assert outcome["reconciled"] == 1 and outcome["sent"] == 1
    assert len(fake_twilio.messages) == 1
    assert [r.method for r in fake_twilio.received] == ["POST"]  # never started: no lookup
    assert rows()[0].attempts == 1  # the crash is not an attempt


@pytest.mark.skipif(not ON_POSTGRES, reason="several workers need PostgreSQL (SKIP LOCKED)")
def test_two_dispatchers_racing_send_each_text_once(app, fake_twilio):
    queue(40)
    errors = []

    def worker():
        try:
            with app.app_context():
                dispatcher.dispatch_once(batch=5)
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    bodies = [m["Body"] for m in fake_twilio.messages]
    assert len(bodies) == 40 and len(set(bodies)) == 40
    assert {r.status for r in rows()} == {"accepted"}


def test_outbox_backend_stores_without_network(app):
    app.config["SMS_BACKEND"] = "outbox"
    queue(2)
    assert dispatcher.dispatch_once()["sent"] == 2
    assert {r.status for r in rows()} == {"stored"}
