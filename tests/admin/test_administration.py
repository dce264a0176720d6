"""CCO administration: admins only; accounts turned off stop at once; the outbox shows no
clinical detail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.auth.models import Role, User
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import PatientPreferences
from app.texting.models import OutboundSms
from tests.fixtures.browser import signed_in

PAGES = ["/admin/", "/admin/users", "/admin/outbox", "/admin/invite/patient"]


@pytest.mark.parametrize("role", [Role.PATIENT, Role.CAREGIVER, Role.CARE_TEAM])
def test_only_admins_reach_administration(role, make_user, new_browser):
    someone = make_user(role)
    target = make_user(Role.CAREGIVER)
    target.locked_until = utcnow() + timedelta(minutes=10)
    db.session.commit()
    browser = signed_in(new_browser, someone)
    for page in PAGES:
        assert browser.get(page).status_code == 404, page
    unlock = browser.post(f"/admin/users/{target.id}/unlock", {}, form_url="/auth/account")
    assert unlock.status_code == 404
    db.session.expire_all()
    assert db.session.get(User, target.id).locked_until is not None


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_an_account_turned_off_stops_on_its_next_click(make_user, new_browser):
    admin = signed_in(new_browser, make_user(Role.ADMIN))
    helper_user = make_user(Role.CAREGIVER)
    helper = signed_in(new_browser, helper_user)
    assert helper.get("/caregivers/").status_code == 200
    turned_off = admin.post(f"/admin/users/{helper_user.id}/active", {}, form_url="/admin/users")
    assert turned_off.status_code == 302
    assert helper.get("/caregivers/").status_code == 302  # back to sign-in
    db.session.expire_all()
    assert db.session.get(User, helper_user.id).active is False


def test_an_admin_cannot_turn_off_their_own_account(make_user, new_browser):
    me = make_user(Role.ADMIN)
    browser = signed_in(new_browser, me)
    response = browser.post(
        f"/admin/users/{me.id}/active", {}, form_url="/admin/users", follow_redirects=True
    )
    assert "You cannot turn off your own account." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, me.id).active is True


def test_the_delivery_page_never_shows_what_a_text_or_email_says(
    make_user, make_patient, new_browser
):
    """Sign-in links, phone codes and detailed reminders are for one person; an admin who could
    read them could take a caregiver invitation meant for someone else (issue 11, finding 4)."""
    patient = make_patient(given="Dee", family="Tailed")
    db.session.add(PatientPreferences(patient_id=patient.id, detailed_texts=True))
    for body, purpose in [
        ("CareCircle: time to take Sertraline. http://x/r/a", "medication"),
        (
            "CareCircle: Jo invited you to help. Accept: http://x/caregivers/accept/SECRET",
            "caregiver_invite",
        ),
        ("CareCircle: your code is 482913.", "verify"),
    ]:
        db.session.add(
            OutboundSms(
                to_number="+15035550100",
                patient_id=patient.id,
                purpose=purpose,
                locale="en",
                body=body,
                status="stored",
            )
        )
    db.session.commit()
    html = signed_in(new_browser, make_user(Role.ADMIN)).get("/admin/outbox").get_data(as_text=True)
    for secret in ("Sertraline", "SECRET", "482913", "/r/a", "accept"):
        assert secret not in html
    for purpose in (
        "Medicine reminder",
        "Invitation to a helper",
        "Code to check your phone number",
    ):
        assert purpose in html


def test_developers_read_the_outbox_from_the_shell(app, runner, make_patient):
    from app.texting.outbox import queue_sms

    patient = make_patient()
    queue_sms(
        patient=patient,
        to="+15035550100",
        user_id=None,
        purpose="verify",
        locale="en",
        body="CareCircle: your code is 482913.",
    )
    db.session.commit()
    result = runner.invoke(args=["outbox", "show", "--to", "+15035550100"])
    assert "482913" in result.output
