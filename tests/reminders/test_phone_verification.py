"""Changing the mobile number: a texted code, 10 minutes, 5 tries, saved only when right."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import Patient
from app.reminders.models import PhoneVerification
from app.texting.models import OutboundSms


@pytest.fixture
def me(make_patient, new_browser):
    patient = make_patient(given="María", family="López", language="es")
    b = new_browser()
    b.login(db.session.get(User, patient.user_id).email)
    return {"patient": patient, "browser": b, "base": f"/patients/{patient.id}/phone"}


def code_sent():
    db.session.expire_all()
    sms = db.session.scalars(
        sa.select(OutboundSms)
        .where(OutboundSms.purpose == "verify")
        .order_by(OutboundSms.id.desc())
    ).first()
    return sms, re.search(r"\b(\d{6})\b", sms.body).group(1)


def test_number_is_saved_only_with_the_right_code(me):
    b, base = me["browser"], me["base"]
    assert b.post(base, {"phone": "(503) 555-0177"}).status_code == 302
    sms, code = code_sent()
    assert sms.to_number == "+15035550177" and sms.locale == "es"
    assert sms.body.startswith("CareCircle: su código es")  # the patient's language
    db.session.expire_all()
    assert db.session.get(Patient, me["patient"].id).mobile_phone is None  # not yet
    wrong = "000000" if code != "000000" else "111111"
    response = b.post(f"{base}/verify", {"code": wrong})
    assert "That code is not right." in response.get_data(as_text=True)
    assert b.post(f"{base}/verify", {"code": code}).status_code == 302
    db.session.expire_all()
    patient = db.session.get(Patient, me["patient"].id)
    assert patient.mobile_phone == "+15035550177" and patient.mobile_phone_verified_at


def test_five_wrong_tries_then_a_new_code_is_needed(me):
    b, base = me["browser"], me["base"]
    b.post(base, {"phone": "503-555-0177"})
    _sms, code = code_sent()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        b.post(f"{base}/verify", {"code": wrong})
    response = b.post(f"{base}/verify", {"code": code})  # right, but too late
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Patient, me["patient"].id).mobile_phone is None
    assert db.session.scalar(sa.select(PhoneVerification.attempts)) == 5


def test_expired_code_and_bad_numbers(me):
    b, base = me["browser"], me["base"]
    bad = b.post(base, {"phone": "12"})
    assert bad.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(OutboundSms.id))) == 0
    b.post(base, {"phone": "503-555-0177"})
    _sms, code = code_sent()
    db.session.execute(
        sa.update(PhoneVerification).values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    b.post(f"{base}/verify", {"code": code})
    db.session.expire_all()
    assert db.session.get(Patient, me["patient"].id).mobile_phone is None


def test_a_caregiver_never_changes_the_number_the_team_only_with_a_code(
    me, make_member, assign, new_browser, make_user, grant
):
    member = make_member()
    assign(me["patient"], member)
    helper = make_user(Role.CAREGIVER)
    grant(me["patient"], helper, scopes=["plan", "messages", "reminders", "goals", "decisions"])
    b = new_browser()
    b.login(helper.email)
    assert b.get(me["base"]).status_code == 404
    assert b.get(f"{me['base']}/verify").status_code == 404
    for user in (db.session.get(User, member.user_id), make_user(Role.ADMIN)):
        b = new_browser()
        b.login(user.email)
        assert b.get(me["base"]).status_code == 200  # the code goes to the new number
