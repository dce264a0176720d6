"""A patient's own contact details are the patient's (issue 11, finding 1).

Rosa, guardian of Leo (15) with every scope, tried to point Leo's phone at herself: post her
number to the phone page, confirm the code that reaches her, turn on texts and detailed texts.
She must be refused at every step; staff may change the number only with a code sent to the new
number, the old number is told, and texts waiting for the old number are dropped."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from app.auth.models import Role, User
from app.caregivers.models import GrantKind, Scope
from app.careplan.items.models import ItemKind
from app.core.privacy import Sensitivity
from app.extensions import db
from app.patients.models import Patient, PatientPreferences
from app.texting.models import OutboundSms
from tests.fixtures.browser import signed_in
from tests.fixtures.plan import add

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
LEO_PHONE = "+15035550131"
ROSA_PHONE = "+15035550132"
NEW_PHONE = "+15035550133"
TOKEN = "test-auth-token-0123456789abcdef"


@pytest.fixture
def leo(frozen_clock, make_patient, make_user, make_member, make_org, assign, grant):
    frozen_clock(NOW)
    patient = make_patient(
        given="Leo", family="Martinez", dob=date(2011, 3, 1), mobile_phone=LEO_PHONE
    )
    db.session.add(
        PatientPreferences(
            patient_id=patient.id, contact_channels=["sms", "portal"], reminder_lead_hours=[48]
        )
    )
    nurse = make_member(name="Nina Patel")
    assign(patient, nurse, coordinator=True)
    rosa = make_user(Role.CAREGIVER, name="Rosa Martinez", mobile_phone=ROSA_PHONE)
    rosa.mobile_phone_verified_at = NOW - timedelta(days=10)
    grant(
        patient,
        rosa,
        scopes=[s.value for s in Scope],
        kind=GrantKind.GUARDIAN,
        legal_authority="Parent of a minor",
        relationship_label="mother",
    )
    admin = make_user(Role.ADMIN)
    db.session.commit()
    return {
        "patient": patient,
        "rosa": rosa,
        "nurse": db.session.get(User, nurse.user_id),
        "admin": admin,
        "org": make_org(),
    }


def fresh(patient) -> Patient:
    db.session.expire_all()
    return db.session.get(Patient, patient.id)


def texts(**where) -> list[OutboundSms]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboundSms)
            .where(*[getattr(OutboundSms, k) == v for k, v in where.items()])
            .order_by(OutboundSms.id)
        )
    )


def test_a_guardian_cannot_touch_the_teens_number_or_text_settings(leo, new_browser):
    patient = leo["patient"]
    rosa = signed_in(new_browser, leo["rosa"])
    base = f"/patients/{patient.id}"
    for path in ("/phone", "/phone/verify", "/reminders"):
        assert rosa.get(base + path).status_code == 404, path
        posted = rosa.post(
            base + path, {"phone": ROSA_PHONE, "code": "123456"}, form_url="/auth/account"
        )
        assert posted.status_code == 404, path
    edit = rosa.get(f"{base}/preferences/edit")
    assert edit.status_code == 200  # what matters, pharmacy... (the goals scope)
    assert 'name="contact_channels"' not in edit.get_data(as_text=True)
    rosa.post(
        f"{base}/preferences/edit",
        {"contact_channels": ["portal"], "language": "en", "timezone": "America/Los_Angeles"},
        form_url=f"{base}/preferences/edit",
    )
    assert fresh(patient).mobile_phone == LEO_PHONE
    prefs = db.session.scalar(sa.select(PatientPreferences))
    assert prefs.contact_channels == ["sms", "portal"] and prefs.detailed_texts is False
    assert texts(to_number=ROSA_PHONE, purpose="verify") == []


def test_staff_change_the_number_only_with_a_code_to_the_new_one(leo, new_browser, app):
    patient = leo["patient"]
    nurse = signed_in(new_browser, leo["nurse"])
    base = f"/patients/{patient.id}"
    profile = nurse.get(f"{base}/profile").get_data(as_text=True)
    assert 'name="mobile_phone"' not in profile  # no way around the code
    assert (
        nurse.post(f"{base}/phone", {"phone": NEW_PHONE}, form_url=f"{base}/phone").status_code
        == 302
    )
    assert fresh(patient).mobile_phone == LEO_PHONE  # not before the code comes back
    [code_text] = texts(to_number=NEW_PHONE, purpose="verify")
    code = re.search(r"\d{6}", code_text.body).group(0)
    done = nurse.post(f"{base}/phone/verify", {"code": code}, form_url=f"{base}/phone/verify")
    assert done.status_code == 302
    assert fresh(patient).mobile_phone == NEW_PHONE
    [told] = texts(to_number=LEO_PHONE, purpose="number_changed")
    assert "CareCircle" in told.body and NEW_PHONE not in told.body


def test_a_new_number_drops_what_waited_for_the_old_one(leo, new_browser):
    patient = leo["patient"]
    add(
        patient,
        leo["org"],
        kind=ItemKind.APPOINTMENT,
        title="Dental cleaning",
        starts_at=NOW + timedelta(days=5),
        location="Valley Smiles",
    )
    assert [t.to_number for t in texts(purpose="appointment", status="queued")] == [
        LEO_PHONE,
        ROSA_PHONE,
    ]
    me = signed_in(new_browser, db.session.get(User, patient.user_id))
    base = f"/patients/{patient.id}"
    me.post(f"{base}/phone", {"phone": NEW_PHONE}, form_url=f"{base}/phone")
    code = re.search(r"\d{6}", texts(purpose="verify")[0].body).group(0)
    assert (
        me.post(f"{base}/phone/verify", {"code": code}, form_url=f"{base}/phone/verify").status_code
        == 302
    )
    waiting = {t.to_number for t in texts(purpose="appointment", status="queued")}
    assert waiting == {NEW_PHONE, ROSA_PHONE}


def test_a_shared_number_gets_no_text_about_what_its_other_holder_may_not_see(
    leo, make_patient, new_browser
):
    """Staff put the family phone on Leo's record: it is also Rosa's. A reminder about his
    counseling must not reach that phone, nor the notice of a private thread's answer."""
    patient = leo["patient"]
    patient.mobile_phone = ROSA_PHONE
    db.session.commit()
    add(
        patient,
        leo["org"],
        kind=ItemKind.APPOINTMENT,
        title="Counseling check-in",
        starts_at=NOW + timedelta(days=5),
        location="Cascade Behavioral Health",
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )
    add(
        patient,
        leo["org"],
        kind=ItemKind.APPOINTMENT,
        title="Dental cleaning",
        starts_at=NOW + timedelta(days=6),
        location="Valley Smiles",
    )
    reminders = texts(purpose="appointment", status="queued")
    assert reminders and all("Counseling" not in t.body for t in reminders)
    assert {t.plan_item_id for t in reminders} == {reminders[0].plan_item_id}  # dental only
    # and nothing "detailed" goes to a phone someone else holds
    db.session.scalar(sa.select(PatientPreferences)).detailed_texts = True
    db.session.commit()
    from app.reminders.recipients import recipients_for

    [holder] = recipients_for(fresh(patient), "appointment")
    assert holder.detailed is False


def test_a_text_from_a_shared_number_is_not_posted_as_the_patient(leo, client, app):
    """A signed text from a number Leo's record shares with Rosa cannot be told apart from
    Rosa: it is answered, and goes into nobody's record."""
    from app.messaging.models import Message

    patient = leo["patient"]
    patient.mobile_phone = ROSA_PHONE
    db.session.commit()
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    params = {"MessageSid": "SM" + "1" * 32, "From": ROSA_PHONE, "Body": "Hi it's me", "To": "+1"}
    signature = RequestValidator(TOKEN).compute_signature(
        "http://carecircle.test/sms/inbound", params
    )
    answer = client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200
    assert "could not match this number" in answer.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Message.id))) == 0
