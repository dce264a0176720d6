from datetime import timedelta

import sqlalchemy as sa

from app.auth.models import AccountToken, Role, User
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import Patient
from tests.fixtures.browser import PASSWORD
from tests.fixtures.mail import link_in, outbox_emails

NEW_PASSWORD = "my dog is called pepper"


def invite_patient(browser, **overrides):
    data = {
        "given_name": "Rosa",
        "family_name": "Diaz",
        "full_name": "Rosa Diaz",
        "date_of_birth": "1970-02-03",
        "email": "Rosa.Diaz@Example.test",
        "mobile_phone": "(503) 555-0199",
        "language": "es",
        "care_language": "es",
        "timezone": "America/Los_Angeles",
    }
    data.update(overrides)
    return browser.post("/admin/invite/patient", data)


def test_admin_invites_patient_who_sets_a_password_and_signs_in(new_browser, make_user):
    admin = make_user(Role.ADMIN)
    a = new_browser()
    a.login(admin.email)
    response = invite_patient(a)
    assert response.status_code == 302

    patient = db.session.scalar(sa.select(Patient).where(Patient.family_name == "Diaz"))
    assert patient.mobile_phone == "+15035550199"  # stored in E.164
    user = db.session.get(User, patient.user_id)
    assert user.email == "rosa.diaz@example.test"
    assert user.password_hash is None

    [email] = outbox_emails()
    assert email.to_address == "rosa.diaz@example.test"
    assert email.subject == "Le invitamos a CareCircle"  # in the invitee's language
    link = link_in(email.body)

    p = new_browser()
    page = p.open(link)
    shown = p.get(page)
    assert shown.status_code == 200
    assert "Rosa Diaz" in shown.get_data(as_text=True)
    response = p.post(page, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert f"/patients/{patient.id}" in p.get("/").headers["Location"]

    # single use
    again = new_browser().get(link, follow_redirects=True)
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)
    assert new_browser().login(user.email, NEW_PASSWORD).status_code == 302


def test_invitation_rejects_bad_input_and_writes_nothing(new_browser, make_user):
    admin = make_user(Role.ADMIN)
    a = new_browser()
    a.login(admin.email)
    response = invite_patient(a, date_of_birth="2999-01-01", mobile_phone="12", email="nope")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The date of birth cannot be in the future." in html
    assert "Enter an email address like name@example.com." in html
    assert "That phone number does not look right" in html or "Enter a phone number" in html
    assert db.session.scalar(sa.select(sa.func.count(Patient.id))) == 0
    assert outbox_emails() == []


def test_duplicate_email_is_refused(new_browser, make_user):
    admin = make_user(Role.ADMIN)
    make_user(Role.PATIENT, email="taken@example.test")
    a = new_browser()
    a.login(admin.email)
    response = invite_patient(a, email="TAKEN@example.test")
    assert response.status_code == 422
    assert "Someone already uses this email address." in response.get_data(as_text=True)


def test_expired_and_tampered_invitations_do_not_work(app, new_browser, make_user):
    admin = make_user(Role.ADMIN)
    a = new_browser()
    a.login(admin.email)
    invite_patient(a)
    link = link_in(outbox_emails()[0].body)
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert new_browser().get(tampered, follow_redirects=True).status_code == 400

    db.session.execute(sa.update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = new_browser().get(link, follow_redirects=True)
    assert response.status_code == 400
    assert "too old" in response.get_data(as_text=True)


def test_resending_an_invitation_kills_the_old_link(new_browser, make_user):
    admin = make_user(Role.ADMIN)
    a = new_browser()
    a.login(admin.email)
    invite_patient(a)
    first = link_in(outbox_emails()[0].body)
    user = db.session.scalar(sa.select(User).where(User.email == "rosa.diaz@example.test"))
    a.post(f"/admin/users/{user.id}/resend", form_url="/admin/users")
    second = link_in(outbox_emails()[1].body)
    assert new_browser().get(first, follow_redirects=True).status_code == 400
    assert new_browser().get(second, follow_redirects=True).status_code == 200


def test_weak_password_is_refused_on_invitation(new_browser, make_user):
    admin = make_user(Role.ADMIN)
    a = new_browser()
    a.login(admin.email)
    invite_patient(a)
    link = link_in(outbox_emails()[0].body)
    p = new_browser()
    page = p.open(link)
    response = p.post(page, {"password": "short", "confirm": "short"})
    assert response.status_code == 422
    assert "Use at least 12 characters" in response.get_data(as_text=True)
    response = p.post(page, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert "The two passwords are not the same." in response.get_data(as_text=True)
    # the link still works after a failed attempt
    assert p.post(page, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302


def test_password_reset_same_answer_for_unknown_email(browser, make_user):
    user = make_user(Role.PATIENT, email="real@example.test")
    known = browser.post("/auth/reset", {"email": user.email}, follow_redirects=True)
    unknown = browser.post("/auth/reset", {"email": "ghost@example.test"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    message = "If that email belongs to an account, we sent it a link."
    assert message in known.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert [e.to_address for e in outbox_emails()] == ["real@example.test"]


def test_password_reset_sets_new_password_and_ends_old_sessions(new_browser, make_user):
    user = make_user(Role.CAREGIVER, email="helper@example.test")
    old_device = new_browser()
    old_device.login(user.email)
    b = new_browser()
    b.post("/auth/reset", {"email": user.email})
    link = link_in(outbox_emails()[0].body)
    page = b.open(link)
    assert b.post(page, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert old_device.get("/auth/account").status_code == 302
    assert new_browser().login(user.email, PASSWORD).status_code == 200  # old password gone
    assert new_browser().login(user.email, NEW_PASSWORD).status_code == 302
    assert new_browser().get(link, follow_redirects=True).status_code == 400  # used


def test_admin_invites_a_caregiver_with_scopes(new_browser, make_user, make_patient):
    from app.caregivers.models import CaregiverGrant

    admin = make_user(Role.ADMIN)
    patient = make_patient(given="Leo", family="Martinez", member_number="WV-2002")
    a = new_browser()
    a.login(admin.email)
    response = a.post(
        "/admin/invite/caregiver",
        {
            "full_name": "Rosa Martinez",
            "email": "rosa@example.test",
            "member_number": "WV-2002",
            "date_of_birth": patient.date_of_birth.isoformat(),
            "relationship": "mother",
            "scopes": ["plan", "messages"],
            "legal_authority": "Parent of a minor",
            "language": "es",
        },
        form_url="/admin/invite/caregiver",
    )
    assert response.status_code == 302
    grant = db.session.scalar(sa.select(CaregiverGrant))
    assert (grant.patient_id, grant.relationship_label, sorted(grant.scopes)) == (
        patient.id,
        "mother",
        ["messages", "plan"],
    )
    assert grant.sensitive_categories == []  # sensitive categories stay excluded
    link = link_in(outbox_emails()[0].body)
    rosa = new_browser()
    rosa.post(rosa.open(link), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    html = rosa.get("/caregivers/").get_data(as_text=True)
    assert "Leo" in html
    assert rosa.get(f"/patients/{patient.id}").status_code == 200


def test_admin_invites_a_care_team_member(new_browser, make_user, make_org):
    from app.team.models import CareTeamMember

    admin = make_user(Role.ADMIN)
    org = make_org()
    a = new_browser()
    a.login(admin.email)
    response = a.post(
        "/admin/invite/care-team",
        {
            "full_name": "Dev Sharma",
            "email": "dev@example.test",
            "organization": org.id,
            "discipline": "pharmacy",
            "role": "pharmacist",
            "title": "Clinical Pharmacist",
            "language": "en",
        },
    )
    assert response.status_code == 302
    member = db.session.scalar(sa.select(CareTeamMember))
    assert (member.organization_id, member.discipline.value, member.role.value) == (
        org.id,
        "pharmacy",
        "pharmacist",
    )
    assert outbox_emails()[0].subject == "You are invited to CareCircle"
