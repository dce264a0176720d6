"""A grant's end date: the patient is reminded once, 14 days before; access ends on its own at
ends_at (the next request is a 404, sweep or no sweep); the sweep records it and tells the
caregiver, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers import lifecycle
from app.caregivers.models import CaregiverGrant
from app.extensions import db
from app.patients.models import PatientPreferences
from app.texting.models import OutboundSms
from tests.fixtures.mail import outbox_emails

START = datetime(2030, 1, 10, 20, 0, tzinfo=UTC)
ENDS = datetime(2030, 4, 1, 7, 0, tzinfo=UTC)  # midnight in Oregon: March 31 is the last day


@pytest.fixture
def setup(make_patient, make_user, grant, frozen_clock):
    def build(*, channels=("sms", "portal"), phone="+15035550101", login=True):
        frozen_clock(START)
        patient = make_patient(
            given="James", dob=date(1944, 8, 2), mobile_phone=phone, with_login=login
        )
        db.session.add(PatientPreferences(patient_id=patient.id, contact_channels=list(channels)))
        ana = make_user(Role.CAREGIVER, email="ana@example.test", name="Ana Carter")
        row = grant(
            patient,
            ana,
            scopes=["plan", "messages"],
            relationship_label="daughter",
            ends_at=ENDS,
        )
        return patient, ana, row

    return build


def texts() -> list[OutboundSms]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboundSms).order_by(OutboundSms.id)))


def sweep_at(frozen_clock, instant):
    frozen_clock(instant)
    result = lifecycle.sweep()
    db.session.commit()
    return result


def test_patient_is_reminded_once_14_days_before(setup, frozen_clock):
    patient, _ana, _grant = setup()
    assert sweep_at(frozen_clock, ENDS - timedelta(days=14, seconds=1)).expiry_notices == 0
    assert outbox_emails() == [] and texts() == []

    assert sweep_at(frozen_clock, ENDS - timedelta(days=14)).expiry_notices == 1
    [email] = outbox_emails()
    patient_user = db.session.get(User, patient.user_id)
    assert email.to_address == patient_user.email
    assert "Ana Carter (Daughter)" in email.body and "end of March 31, 2030" in email.body
    assert f"/patients/{patient.id}" in email.body
    [text] = texts()
    assert text.purpose == "caregiver_expiry" and text.to_number == "+15035550101"
    assert text.body.startswith("CareCircle: a helper's access to your record ends after")
    assert "Ana" not in text.body and "daughter" not in text.body  # no names, no health details
    # in quiet hours (midnight in Oregon), the text waits for 9:00 there
    assert text.send_after == datetime(2030, 3, 18, 16, 0, tzinfo=UTC)

    assert sweep_at(frozen_clock, ENDS - timedelta(days=13)).expiry_notices == 0
    assert sweep_at(frozen_clock, ENDS - timedelta(days=1)).expiry_notices == 0
    assert len(outbox_emails()) == 1 and len(texts()) == 1


def test_no_text_without_the_sms_channel_or_a_phone(setup, frozen_clock):
    setup(channels=("portal",))
    sweep_at(frozen_clock, ENDS - timedelta(days=3))
    assert len(outbox_emails()) == 1 and texts() == []


def test_reminder_is_in_the_patients_language(setup, frozen_clock):
    patient, _ana, _grant = setup(channels=("sms",))
    db.session.get(User, patient.user_id).locale = "es"
    db.session.commit()
    sweep_at(frozen_clock, ENDS - timedelta(days=10))
    [email] = outbox_emails()
    [text] = texts()
    assert text.locale == "es"
    assert "31 de marzo de 2030" in email.body


def test_access_ends_at_ends_at_and_the_next_request_is_a_404(setup, new_browser, frozen_clock):
    patient, ana, _grant = setup()
    frozen_clock(ENDS - timedelta(minutes=5))
    b = new_browser()
    b.login(ana.email)
    assert b.get(f"/patients/{patient.id}").status_code == 200
    assert b.get(f"/patients/{patient.id}/messages").status_code == 200

    frozen_clock(ENDS)  # nothing has run: the policy alone ends it
    assert b.get(f"/patients/{patient.id}").status_code == 404
    assert b.get(f"/patients/{patient.id}/messages").status_code == 404
    assert patient.full_name not in b.get("/caregivers/").get_data(as_text=True)


def test_sweep_records_expiry_and_tells_the_caregiver_once(setup, runner, frozen_clock):
    _patient, _ana, grant = setup(channels=("portal",))
    grant.expiry_notice_sent_at = START
    db.session.commit()
    frozen_clock(ENDS - timedelta(seconds=1))
    first = runner.invoke(args=["caregivers", "sweep"])
    assert first.exit_code == 0 and "expired=0" in first.output

    frozen_clock(ENDS + timedelta(hours=3))
    result = runner.invoke(args=["caregivers", "sweep"])
    assert "expired=1" in result.output and "emails=1" in result.output
    db.session.expire_all()
    assert db.session.get(CaregiverGrant, grant.id).ended_reason == "expired"
    [email] = outbox_emails()
    assert email.to_address == "ana@example.test"
    assert "James's record ended after March 31, 2030" in email.body
    assert email.status == "stored"

    again = runner.invoke(args=["caregivers", "sweep"])
    assert "expired=0" in again.output and "emails=0" in again.output
    assert len(outbox_emails()) == 1


def test_access_that_ended_long_ago_is_recorded_without_email(setup, frozen_clock):
    _patient, _ana, grant = setup(channels=("portal",))
    grant.expiry_notice_sent_at = START
    db.session.commit()
    result = sweep_at(frozen_clock, ENDS + timedelta(days=lifecycle.LATE_NOTICE_DAYS + 1))
    assert result.expired == 1
    assert outbox_emails() == []
    assert db.session.get(CaregiverGrant, grant.id).ended_reason == "expired"


def test_a_revoked_grant_gets_no_reminder(setup, frozen_clock):
    _patient, _ana, grant = setup()
    grant.revoked_at = START + timedelta(days=1)
    db.session.commit()
    assert sweep_at(frozen_clock, ENDS - timedelta(days=7)).expiry_notices == 0
    assert sweep_at(frozen_clock, ENDS + timedelta(days=1)).expired == 0
    assert outbox_emails() == [] and texts() == []
