"""Two-step sign-in (issue 11, part 11): required for care team and administrators, optional
for patients and caregivers, a code is good once, ten recovery codes, a fresh "is it you?"
before changes that could take an account or someone's access over, and an audited reset by an
administrator."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from app.auth import mfa
from app.auth.models import MfaRecoveryCode, Role, User, UserSession
from app.core.audit import AuditEvent
from app.extensions import db
from tests.fixtures.browser import PASSWORD, TEST_MFA_SECRET
from tests.fixtures.mail import link_in, outbox_emails

NOW = datetime(2030, 3, 4, 18, 0, tzinfo=UTC)


def signed_in_as(browser) -> bool:
    return browser.get("/auth/account").status_code == 200


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def test_staff_without_two_step_sign_in_set_it_up_before_they_get_a_session(
    new_browser, make_user, frozen_clock
):
    frozen_clock(NOW)
    nurse = make_user(Role.CARE_TEAM, mfa_secret=None)
    b = new_browser()
    response = b.login(nurse.email)
    assert response.headers["Location"] == "/auth/mfa/setup"
    assert not signed_in_as(b)  # the password alone opened nothing
    page = b.get("/auth/mfa/setup").get_data(as_text=True)
    assert "<svg" in page and "<img" not in page  # the QR is drawn here, no image service
    secret = re.search(r'<code class="secret"[^>]*>([A-Z2-7 ]+)</code>', page).group(1)
    secret = secret.replace(" ", "")
    wrong = b.post("/auth/mfa/setup", {"code": "000000"})
    assert wrong.status_code == 422 and not signed_in_as(b)
    done = b.post("/auth/mfa/setup", {"code": code_at(secret, NOW)})
    assert done.headers["Location"] == "/auth/mfa/codes"
    codes_page = b.get("/auth/mfa/codes").get_data(as_text=True)
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", codes_page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert b.get("/auth/mfa/codes").status_code == 302  # shown once
    assert signed_in_as(b)
    stored = db.session.scalars(
        sa.select(MfaRecoveryCode.code_hash).where(MfaRecoveryCode.user_id == nurse.id)
    ).all()
    assert len(stored) == 10 and not any(c.replace("-", "") in h for c in codes for h in stored)


def test_an_enrolled_account_needs_the_code_and_a_code_works_once(
    new_browser, make_user, frozen_clock
):
    frozen_clock(NOW)
    admin = make_user(Role.ADMIN)
    b = new_browser()
    assert b.login(admin.email, code=False).headers["Location"] == "/auth/mfa"
    assert not signed_in_as(b)
    wrong = b.post("/auth/mfa", {"code": "123456"})
    assert wrong.status_code == 200 and "not right" in wrong.get_data(as_text=True)
    code = code_at(TEST_MFA_SECRET, NOW)
    assert b.post("/auth/mfa", {"code": code}).status_code == 302
    assert signed_in_as(b)
    # Someone who saw the code over a shoulder, within its 30 seconds: refused.
    thief = new_browser()
    thief.login(admin.email, code=False)
    assert "not right" in thief.post("/auth/mfa", {"code": code}).get_data(as_text=True)
    assert not signed_in_as(thief)
    frozen_clock(NOW + timedelta(seconds=30))
    assert (
        thief.post(
            "/auth/mfa", {"code": code_at(TEST_MFA_SECRET, NOW + timedelta(seconds=30))}
        ).status_code
        == 302
    )


def test_two_requests_with_one_code_sign_in_once(app, make_user, frozen_clock):
    frozen_clock(NOW)
    admin = make_user(Role.ADMIN)
    code = code_at(TEST_MFA_SECRET, NOW)
    with app.test_request_context():
        assert mfa.verify(admin, code) is True
        db.session.commit()
        assert mfa.verify(db.session.get(User, admin.id), code) is False


def test_five_wrong_codes_ask_for_the_password_again(new_browser, make_user, frozen_clock):
    frozen_clock(NOW)
    admin = make_user(Role.ADMIN)
    b = new_browser()
    b.login(admin.email, code=False)
    for _ in range(4):
        assert "not right" in b.post("/auth/mfa", {"code": "111111"}).get_data(as_text=True)
    fifth = b.post("/auth/mfa", {"code": "111111"})
    assert fifth.headers["Location"] == "/auth/login"
    # Even the right code no longer works without the password.
    assert (
        b.post("/auth/mfa", {"code": code_at(TEST_MFA_SECRET, NOW)}).headers["Location"]
        == "/auth/login"
    )
    assert not signed_in_as(b)


def test_the_second_step_expires(new_browser, make_user, frozen_clock):
    frozen_clock(NOW)
    admin = make_user(Role.ADMIN)
    b = new_browser()
    b.login(admin.email, code=False)
    later = NOW + timedelta(minutes=6)
    frozen_clock(later)
    assert (
        b.post("/auth/mfa", {"code": code_at(TEST_MFA_SECRET, later)}).headers["Location"]
        == "/auth/login"
    )


def test_a_recovery_code_signs_in_once(app, new_browser, make_user, frozen_clock):
    frozen_clock(NOW)
    admin = make_user(Role.ADMIN)
    with app.test_request_context():
        codes = mfa.new_recovery_codes(db.session.get(User, admin.id))
        db.session.commit()
    b = new_browser()
    b.login(admin.email, code=False)
    used = b.post("/auth/mfa", {"code": codes[3].upper()})  # typed in capitals: still fine
    assert used.status_code == 302
    assert "9 are left" in b.get("/", follow_redirects=True).get_data(as_text=True)
    assert signed_in_as(b)
    again = new_browser()
    again.login(admin.email, code=False)
    assert "not right" in again.post("/auth/mfa", {"code": codes[3]}).get_data(as_text=True)
    assert mfa.recovery_codes_left(db.session.get(User, admin.id)) == 9


def test_a_password_reset_link_does_not_skip_the_second_step(new_browser, make_user, frozen_clock):
    frozen_clock(NOW)
    admin = make_user(Role.ADMIN)
    b = new_browser()
    b.post("/auth/reset", {"email": admin.email})
    page = b.open(link_in(outbox_emails()[-1].body))
    new_password = "a brand new long passphrase"
    done = b.post(page, {"password": new_password, "confirm": new_password})
    assert done.headers["Location"] == "/auth/mfa"
    assert not signed_in_as(b)


def test_patients_may_turn_it_on_and_off_after_confirming_it_is_them(
    new_browser, make_patient, frozen_clock
):
    frozen_clock(NOW)
    patient = make_patient()
    user = db.session.get(User, patient.user_id)
    b = new_browser()
    assert b.login(user.email).headers["Location"] == "/"  # optional: off by default
    assert "Turn on two-step sign-in" in b.get("/auth/account").get_data(as_text=True)
    later = NOW + timedelta(minutes=11)  # the sign-in is no longer fresh
    frozen_clock(later)
    setup = b.get("/auth/mfa/setup")
    assert setup.headers["Location"].startswith("/auth/confirm")
    wrong = b.post("/auth/confirm?next=/auth/mfa/setup", {"password": "wrong one"})
    assert "That is not your password." in wrong.get_data(as_text=True)
    confirmed = b.post("/auth/confirm?next=/auth/mfa/setup", {"password": PASSWORD})
    assert confirmed.headers["Location"] == "/auth/mfa/setup"
    page = b.get("/auth/mfa/setup").get_data(as_text=True)
    secret = (
        re.search(r'<code class="secret"[^>]*>([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    )
    assert b.post("/auth/mfa/setup", {"code": code_at(secret, later)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).mfa_enabled
    # Off again, while fresh; with the code required at the next sign-in until then.
    assert b.post("/auth/mfa/off", {}, form_url="/auth/account").status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, user.id).mfa_enabled
    assert db.session.scalar(sa.select(sa.func.count(MfaRecoveryCode.id))) == 0


def test_staff_cannot_turn_it_off(new_browser, make_user, frozen_clock):
    frozen_clock(NOW)
    admin = make_user(Role.ADMIN)
    b = new_browser()
    b.login(admin.email)
    b.post("/auth/mfa/off", {}, form_url="/auth/account")
    db.session.expire_all()
    assert db.session.get(User, admin.id).mfa_enabled


@pytest.mark.parametrize("stale", [False, True])
def test_changing_caregiver_access_or_the_phone_needs_a_fresh_proof(
    new_browser, make_patient, frozen_clock, stale
):
    frozen_clock(NOW)
    patient = make_patient()
    b = new_browser()
    b.login(db.session.get(User, patient.user_id).email)
    if stale:
        frozen_clock(NOW + timedelta(minutes=11))
    for path in (f"/patients/{patient.id}/caregivers/invite", f"/patients/{patient.id}/phone"):
        response = b.get(path)
        if stale:
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/auth/confirm?next=")
        else:
            assert response.status_code == 200
    if stale:
        # A POST without the proof changes nothing and asks for it.
        posted = b.client.post(
            f"/patients/{patient.id}/phone",
            data={"phone": "5035550101", "csrf_token": b.token("/auth/account")},
        )
        assert posted.headers["Location"].startswith("/auth/confirm")
        assert db.session.get(type(patient), patient.id).mobile_phone is None


def test_not_yours_is_still_404_before_is_it_you(new_browser, make_patient, frozen_clock):
    frozen_clock(NOW)
    mine, theirs = make_patient(), make_patient(given="Other")
    b = new_browser()
    b.login(db.session.get(User, mine.user_id).email)
    frozen_clock(NOW + timedelta(minutes=11))
    assert b.get(f"/patients/{theirs.id}/caregivers/invite").status_code == 404


def test_an_administrator_resets_a_lost_second_factor_audited(
    new_browser, make_user, make_member, frozen_clock
):
    frozen_clock(NOW)
    admin = make_user(Role.ADMIN)
    member = make_member()
    nurse = db.session.get(User, member.user_id)
    nurse_browser = new_browser()
    nurse_browser.login(nurse.email)
    assert signed_in_as(nurse_browser)
    a = new_browser()
    a.login(admin.email)
    assert "Reset two-step sign-in" in a.get("/admin/users").get_data(as_text=True)
    assert a.post(f"/admin/users/{nurse.id}/mfa/reset", form_url="/admin/users").status_code == 302
    db.session.expire_all()
    nurse = db.session.get(User, nurse.id)
    assert not nurse.mfa_enabled
    assert not signed_in_as(nurse_browser)  # every session of theirs ended
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.resource == "account.mfa")
    ).one()
    assert (event.actor_id, event.capacity, event.resource_id) == (admin.id, "admin", str(nurse.id))
    email = outbox_emails()[-1]
    assert email.to_address == nurse.email and "reset" in email.subject
    # Their next sign-in sets it up again: required for their role.
    assert new_browser().login(nurse.email).headers["Location"] == "/auth/mfa/setup"


def test_an_administrator_cannot_reset_their_own(new_browser, make_user, frozen_clock):
    frozen_clock(NOW)
    admin = make_user(Role.ADMIN)
    a = new_browser()
    a.login(admin.email)
    a.post(f"/admin/users/{admin.id}/mfa/reset", form_url="/admin/users")
    db.session.expire_all()
    assert db.session.get(User, admin.id).mfa_enabled


def test_production_refuses_the_demo_key(app, new_browser, make_user, frozen_clock, monkeypatch):
    frozen_clock(NOW)
    nurse = make_user(Role.CARE_TEAM, mfa_secret=mfa.DEMO_MFA_SECRET)
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    b = new_browser()
    # The demo key is as good as none: the account must set up its own.
    assert b.login(nurse.email, code=False).headers["Location"] == "/auth/mfa/setup"
    assert b.post("/auth/mfa", {"code": code_at(mfa.DEMO_MFA_SECRET, NOW)}).status_code == 302
    assert not signed_in_as(b)
    with app.test_request_context(), pytest.raises(RuntimeError):
        mfa.enrol_for_demo(nurse)


def test_staff_sessions_need_the_code_in_the_demo(app, frozen_clock):
    """The demo's staff share the published key: the README's command gives their code."""
    from app.demo.accounts import _user

    with app.test_request_context():
        nurse = _user("nurse.demo", "Demo Nurse", Role.CARE_TEAM, "en", "x")
        patient = _user("patient.demo", "Demo Patient", Role.PATIENT, "en", "x")
        db.session.commit()
        assert nurse.mfa_secret == mfa.DEMO_MFA_SECRET and nurse.mfa_enabled
        assert not patient.mfa_enabled


def test_sessions_of_a_user_end_when_it_is_turned_on_elsewhere(
    new_browser, make_patient, frozen_clock
):
    frozen_clock(NOW)
    patient = make_patient()
    email = db.session.get(User, patient.user_id).email
    phone, laptop = new_browser(), new_browser()
    phone.login(email)
    laptop.login(email)
    page = laptop.get("/auth/mfa/setup").get_data(as_text=True)
    secret = (
        re.search(r'<code class="secret"[^>]*>([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    )
    laptop.post("/auth/mfa/setup", {"code": code_at(secret, NOW)})
    assert signed_in_as(laptop) and not signed_in_as(phone)
    live = db.session.scalar(
        sa.select(sa.func.count(UserSession.id)).where(
            UserSession.user_id == patient.user_id, UserSession.ended_at.is_(None)
        )
    )
    assert live == 1


def test_wrong_codes_count_on_the_server_not_in_the_cookie(
    app, new_browser, make_user, frozen_clock
):
    """Replaying the session cookie from before the wrong codes bought fresh tries; now each
    wrong code counts on the account like a wrong password (strangers' browsers slow down)."""
    frozen_clock(NOW)
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    admin = make_user(Role.ADMIN)
    b = new_browser()
    b.login(admin.email, code=False)
    before = b.client.get_cookie("cc_session").value
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        b.client.set_cookie("cc_session", before)  # the cookie from before any wrong code
        assert "not right" in b.post("/auth/mfa", {"code": "000000"}).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_locked()
    b.client.set_cookie("cc_session", before)
    # Even the right code gets no answer while sign-in is slowed down for this browser.
    refused = b.post("/auth/mfa", {"code": code_at(TEST_MFA_SECRET, NOW)})
    assert refused.status_code == 200 and "not right" in refused.get_data(as_text=True)
    assert not signed_in_as(b)


def test_a_right_password_alone_does_not_lift_the_slow_down(
    app, new_browser, make_user, frozen_clock
):
    frozen_clock(NOW)
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    admin = make_user(Role.ADMIN)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        b = new_browser()
        b.login(admin.email, code=False)
        b.post("/auth/mfa", {"code": "000000"})
    b = new_browser()
    b.login(admin.email, code=False)  # the password is right: it used to reset the count
    b.post("/auth/mfa", {"code": "000000"})
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_locked()


def test_setting_it_up_twice_at_once_keeps_one_key(app, make_user, frozen_clock):
    frozen_clock(NOW)
    patient = make_user(Role.PATIENT)
    with app.test_request_context():
        stale = db.session.get(User, patient.id)
        first = mfa.new_secret()
        db.session.execute(  # the other request won; this one's copy does not know
            sa.update(User)
            .where(User.id == patient.id)
            .values(mfa_secret=first)
            .execution_options(synchronize_session=False)
        )
        second = mfa.new_secret()
        with pytest.raises(mfa.ChangedMeanwhile):
            mfa.enable(stale, second, code_at(second, NOW))
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, patient.id).mfa_secret == first
