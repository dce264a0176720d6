from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.auth.models import Role, User, UserSession
from app.core.db import utcnow
from app.extensions import db
from tests.fixtures.browser import PASSWORD
from tests.fixtures.mail import link_in, outbox_emails

GENERIC = "That email and password do not match an account that can sign in now."


def test_patient_signs_in_and_lands_on_their_record(browser, make_patient):
    patient = make_patient(given="Maria", family="Lopez")
    email = db.session.get(User, patient.user_id).email
    response = browser.login(email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = browser.get("/", follow_redirects=True)
    assert page.status_code == 200
    assert "Maria's record" in page.get_data(as_text=True)


def test_each_role_lands_on_its_start_page(new_browser, make_user, make_member):
    expectations = {
        Role.CAREGIVER: "People I help",
        Role.ADMIN: "Administration",
    }
    for role, heading in expectations.items():
        user = make_user(role)
        b = new_browser()
        b.login(user.email)
        assert heading in b.get("/", follow_redirects=True).get_data(as_text=True)
    member = make_member()
    b = new_browser()
    b.login(db.session.get(User, member.user_id).email)
    assert "My patients" in b.get("/", follow_redirects=True).get_data(as_text=True)


def test_unknown_and_known_accounts_get_identical_answers(browser, make_user):
    user = make_user(Role.PATIENT, email="known@example.test")
    wrong = browser.login(user.email, "not the password at all")
    unknown = browser.login("nobody@example.test", "not the password at all")
    assert wrong.status_code == unknown.status_code == 200
    assert GENERIC in wrong.get_data(as_text=True)

    def scrub(html):
        import re

        return re.sub(r'value="[^"]*"', "", html)

    assert scrub(wrong.get_data(as_text=True)) == scrub(
        unknown.get_data(as_text=True).replace("nobody@example.test", "known@example.test")
    )


def test_lockout_after_repeated_failures_even_with_right_password(app, browser, make_user):
    user = make_user(Role.PATIENT)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        browser.login(user.email, "wrong password here")
    db.session.expire_all()
    assert db.session.get(User, user.id).is_locked()
    response = browser.login(user.email, PASSWORD)
    assert response.status_code == 200
    assert GENERIC in response.get_data(as_text=True)
    assert browser.get("/auth/account").status_code == 302  # still signed out


def test_lock_expires(app, browser, make_user):
    user = make_user(Role.PATIENT, locked_until=utcnow() - timedelta(seconds=1))
    assert browser.login(user.email).status_code == 302


def test_admin_can_unlock(app, new_browser, make_user):
    admin = make_user(Role.ADMIN)
    user = make_user(Role.PATIENT, locked_until=utcnow() + timedelta(minutes=10))
    a = new_browser()
    a.login(admin.email)
    a.post(f"/admin/users/{user.id}/unlock", form_url="/admin/users")
    b = new_browser()
    assert b.login(user.email).status_code == 302


def test_login_rate_limit_answers_429(app, browser, make_user):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    token = browser.token()
    statuses = [
        browser.client.post(
            "/auth/login",
            data={"email": "a@example.test", "password": "x" * 12, "csrf_token": token},
        ).status_code
        for _ in range(4)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429
    assert "too many times" in browser.client.post(
        "/auth/login", data={"email": "a@example.test", "password": "x", "csrf_token": token}
    ).get_data(as_text=True)


def test_copied_cookie_stops_working_after_logout(app, browser, new_browser, make_user):
    user = make_user(Role.CAREGIVER)
    browser.login(user.email)
    cookie = browser.client.get_cookie("cc_session").value
    thief = new_browser()
    thief.client.set_cookie("cc_session", cookie)
    assert thief.get("/auth/account").status_code == 200  # the copy works while signed in
    browser.logout()
    assert thief.get("/auth/account").status_code == 302
    assert browser.get("/auth/account").status_code == 302


def test_copied_cookie_stops_working_after_password_change(app, browser, new_browser, make_user):
    user = make_user(Role.CAREGIVER)
    browser.login(user.email)
    cookie = browser.client.get_cookie("cc_session").value
    thief = new_browser()
    thief.client.set_cookie("cc_session", cookie)
    new = "a brand new sentence"
    response = browser.post(
        "/auth/account/password",
        {"current": PASSWORD, "password": new, "confirm": new},
        form_url="/auth/account",
    )
    assert response.status_code == 302
    assert browser.get("/auth/account").status_code == 200  # this device stays signed in
    assert thief.get("/auth/account").status_code == 302
    assert new_browser().login(user.email, new).status_code == 302


def test_password_change_rejects_wrong_current_password(browser, make_user):
    user = make_user(Role.PATIENT)
    browser.login(user.email)
    response = browser.post(
        "/auth/account/password",
        {"current": "not it at all", "password": "another long one", "confirm": "another long one"},
        form_url="/auth/account",
    )
    assert response.status_code == 422
    assert "That is not your current password." in response.get_data(as_text=True)
    assert new_browser_login_ok(browser, user)


def new_browser_login_ok(browser, user):
    browser.logout()
    return browser.login(user.email, PASSWORD).status_code == 302


def _age_session(user_id, minutes):
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user_id)
        .values(last_seen_at=utcnow() - timedelta(minutes=minutes))
    )
    db.session.commit()


def test_care_team_idle_timeout_is_15_minutes(app, browser, make_member):
    member = make_member()
    browser.login(db.session.get(User, member.user_id).email)
    _age_session(member.user_id, 14)
    assert browser.get("/auth/account").status_code == 200
    _age_session(member.user_id, 16)
    response = browser.get("/auth/account")
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "away for a while" in page


def test_patients_get_a_longer_idle_timeout(app, browser, make_user):
    user = make_user(Role.PATIENT)
    browser.login(user.email)
    _age_session(user.id, 16)
    assert browser.get("/auth/account").status_code == 200
    _age_session(user.id, app.config["PATIENT_IDLE_MINUTES"] + 1)
    assert browser.get("/auth/account").status_code == 302


def test_absolute_session_lifetime(app, browser, make_user):
    user = make_user(Role.PATIENT)
    browser.login(user.email)
    db.session.execute(sa.update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert browser.get("/auth/account").status_code == 302


def test_deactivated_user_loses_access_on_next_request(app, browser, new_browser, make_user):
    admin = make_user(Role.ADMIN)
    user = make_user(Role.CAREGIVER)
    browser.login(user.email)
    a = new_browser()
    a.login(admin.email)
    a.post(f"/admin/users/{user.id}/active", form_url="/admin/users")
    assert browser.get("/auth/account").status_code == 302
    assert browser.login(user.email).status_code == 200


def test_session_cookie_flags(app, browser, make_user):
    user = make_user(Role.PATIENT)
    response = browser.login(user.email)
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_open_redirect_is_refused(browser, make_user):
    user = make_user(Role.CAREGIVER)
    token = browser.token()
    response = browser.client.post(
        "/auth/login?next=//evil.example/",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_empty_login_form_is_a_4xx_with_messages(browser):
    response = browser.post("/auth/login", {"email": "", "password": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter your email address." in html
    assert "Enter your password." in html


def test_login_without_csrf_is_refused(client, make_user):
    user = make_user(Role.PATIENT)
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/auth/account").status_code == 302


# ------------------------------------------------------------------ slow-down, not lock-out
# Before: anyone could lock any account for 15 minutes with 5 wrong passwords.


def _strangers_guess(new_browser, email, times):
    for _ in range(times):
        new_browser().login(email, "a wrong password guess")


def test_strangers_guesses_do_not_lock_the_owner_out_of_their_own_phone(
    app, new_browser, make_user
):
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"  # every test browser is 127.0.0.1
    user = make_user(Role.PATIENT)
    phone = new_browser()
    assert phone.login(user.email).status_code == 302  # this phone now knows the account
    phone.logout()
    _strangers_guess(new_browser, user.email, app.config["LOGIN_MAX_FAILURES"] + 3)
    db.session.expire_all()
    assert db.session.get(User, user.id).is_locked()
    assert new_browser().login(user.email).status_code == 200  # a stranger's browser waits
    assert phone.login(user.email).status_code == 302  # the owner's phone does not


def test_the_wait_doubles_and_is_capped(app, new_browser, make_user, frozen_clock):
    now = datetime(2030, 3, 4, 18, 0, tzinfo=UTC)
    frozen_clock(now)
    user = make_user(Role.PATIENT)
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    waits = []
    for _ in range(12):
        _strangers_guess(new_browser, user.email, 1)
        db.session.expire_all()
        locked_until = db.session.get(User, user.id).locked_until
        if locked_until is not None and locked_until > now:
            waits.append((locked_until - now).total_seconds())
            now = locked_until + timedelta(seconds=1)
            frozen_clock(now)
    base, cap = app.config["LOGIN_BACKOFF_SECONDS"], app.config["LOGIN_LOCKOUT_MINUTES"] * 60
    assert waits[:3] == [base, 2 * base, 4 * base]
    assert max(waits) == cap


def test_the_owner_is_emailed_a_link_that_lifts_the_wait(app, new_browser, make_user):
    user = make_user(Role.PATIENT)
    _strangers_guess(new_browser, user.email, app.config["LOGIN_MAX_FAILURES"] + 2)
    emails = [e for e in outbox_emails() if e.to_address == user.email]
    assert len(emails) == 1  # once per slow-down, not per guess
    assert "slowed down" in emails[0].subject
    b = new_browser()
    page = b.open(link_in(emails[0].body))
    assert page == "/auth/unlock"
    assert b.post(page, {}).headers["Location"] == "/auth/login"
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_locked()
    assert b.login(user.email).status_code == 302
    # The link is dead once the password changes.
    other = new_browser()
    db.session.get(User, user.id).password_hash = "changed"
    db.session.commit()
    other.open(link_in(emails[0].body))
    assert other.get("/auth/unlock").status_code == 400


def test_failures_per_address_are_limited_but_sign_ins_are_not(app, browser, make_user):
    app.config["LOGIN_FAILURE_LIMIT"] = "3 per hour"
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    user = make_user(Role.PATIENT)
    for _ in range(5):  # successes do not count against the address
        assert browser.login(user.email).status_code == 302
        browser.logout()
    statuses = [
        browser.login(f"x{i}@example.test", "a wrong password").status_code for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
