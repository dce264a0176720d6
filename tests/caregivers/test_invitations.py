"""A patient invites someone to help: by email or by text, accepted with a new account or an
existing caregiver account; links that no longer work; bad input."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers.models import CaregiverGrant, CaregiverInvitation, Relation
from app.core.audit import AuditEvent
from app.extensions import db
from app.texting.models import OutboundSms
from tests.fixtures.browser import signed_in
from tests.fixtures.invitations import NEW_PASSWORD, accept_as_new, invite, prove
from tests.fixtures.mail import link_in, outbox_emails

HEALTH_WORDS = ("plan", "message", "decision", "goal", "health", "behavioral", "reminder")


@pytest.fixture
def james(make_patient):
    return make_patient(given="James", family="Walker", preferred_name="Jim")


@pytest.fixture
def james_browser(james, new_browser):
    return signed_in(new_browser, db.session.get(User, james.user_id))


def texts():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboundSms).order_by(OutboundSms.id)))


def counts():
    db.session.expire_all()
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (User, CaregiverGrant, CaregiverInvitation)
    )


def test_invite_by_email_then_accept_with_a_new_account(james, james_browser, new_browser):
    response = invite(james_browser, james)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/patients/{james.id}/caregivers")
    page = james_browser.get(f"/patients/{james.id}/caregivers").get_data(as_text=True)
    assert "Ana Walker" in page and "ana.walker@example.test" in page  # pending, with cancel
    assert "Cancel invitation" in page

    [email] = outbox_emails()
    assert email.to_address == "ana.walker@example.test"
    assert email.subject == "Jim invited you to CareCircle"
    body_without_link = email.body.replace(link_in(email.body), "")
    assert not any(word in body_without_link.lower() for word in HEALTH_WORDS)
    link = link_in(email.body)
    assert link.startswith("/caregivers/accept/")

    opened = new_browser().get(link, follow_redirects=True)
    assert opened.status_code == 200
    html = opened.get_data(as_text=True)
    assert "Jim invited you to help with their care" in html
    # The link alone is not enough: a code goes to the address, shown only in part.
    assert "we email a code to the address it was sent to (a…@example.test)" in html
    assert "ana.walker@example.test" not in html and "Password" not in html

    ana_browser = new_browser()
    page = ana_browser.open(link)
    assert prove(ana_browser, page)
    html = ana_browser.get(page).get_data(as_text=True)
    assert 'value="ana.walker@example.test"' in html  # the email is filled in for them
    response = ana_browser.post(
        page,
        {
            "full_name": "Ana Walker",
            "email": "someone.else@example.test",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/patients/{james.id}")
    ana = db.session.scalar(sa.select(User).where(User.full_name == "Ana Walker"))
    assert ana.role is Role.CAREGIVER
    assert ana.email == "ana.walker@example.test"  # the address the link went to
    grant = db.session.scalar(sa.select(CaregiverGrant))
    assert (grant.caregiver_id, grant.patient_id, grant.relation, grant.relationship_label) == (
        ana.id,
        james.id,
        Relation.DAUGHTER,
        "",
    )
    assert sorted(grant.scopes) == ["messages", "plan"]
    assert grant.sensitive_categories == []
    assert grant.granted_by_id == james.user_id
    assert db.session.scalar(
        sa.select(AuditEvent.id).where(
            AuditEvent.action == "accept",
            AuditEvent.patient_id == james.id,
            AuditEvent.actor_id == ana.id,
        )
    )
    # Signed in already, and the record opens.
    summary = ana_browser.get(f"/patients/{james.id}")
    assert summary.status_code == 200
    assert "Acting for Jim" in summary.get_data(as_text=True)
    assert ana_browser.get(f"/patients/{james.id}/plan").status_code == 200
    # The patient sees Ana among the people who help, and the invitation is no longer waiting.
    page = james_browser.get(f"/patients/{james.id}/caregivers").get_data(as_text=True)
    assert "Ana Walker" in page and "Cancel invitation" not in page
    assert "See the care plan" in page and "See and send messages" in page


def test_invite_by_text_then_accept_proves_the_mobile_number(
    james, james_browser, new_browser, frozen_clock
):
    now = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    frozen_clock(now)
    james_browser.confirm()  # the clock moved: the sign-in is no longer fresh
    james.language = "es"
    db.session.commit()
    response = invite(james_browser, james, email="", mobile_phone="(503) 555-0142")
    assert response.status_code == 302
    assert outbox_emails() == []
    [sms] = texts()
    assert (sms.to_number, sms.purpose, sms.patient_id, sms.user_id) == (
        "+15035550142",
        "caregiver_invite",
        james.id,
        None,
    )
    assert sms.locale == "es"  # the invitee's language is unknown: the patient's
    link = link_in(sms.body)
    assert not any(word in sms.body.replace(link, "").lower() for word in HEALTH_WORDS)
    assert "Jim" in sms.body
    assert len(sms.body) <= 320

    _b, response = accept_as_new(new_browser, link, email="ana@example.test")
    assert response.status_code == 302
    ana = db.session.scalar(sa.select(User).where(User.email == "ana@example.test"))
    assert ana.mobile_phone == "+15035550142"
    assert ana.mobile_phone_verified_at == now


def test_existing_caregiver_enters_the_code_signs_in_and_accepts_with_one_click(
    james, james_browser, new_browser, make_user, make_patient, grant
):
    ana = make_user(Role.CAREGIVER, email="ana@example.test", name="Ana Walker")
    maria = make_patient(given="Maria", family="Lopez")
    grant(maria, ana)
    invite(james_browser, james, email="ana@example.test")
    link = link_in(outbox_emails()[0].body)

    b = new_browser()
    url = b.open(link)
    assert prove(b, url)  # the code emailed to where the link went
    page = b.get(url).get_data(as_text=True)
    assert "I already have an account" in page
    login = b.post(
        f"/auth/login?next={url}",
        {"email": ana.email, "password": "correct horse battery"},
        form_url="/auth/login",
    )
    assert login.status_code == 302
    assert login.headers["Location"] == url  # back to the invitation
    page = b.get(url)
    assert page.status_code == 200
    assert "Accept as Ana Walker" in page.get_data(as_text=True)
    before = counts()
    response = b.post(url, {})
    assert response.status_code == 302
    assert counts() == (before[0], before[1] + 1, before[2])  # no new account, one new grant
    people = b.get("/caregivers/").get_data(as_text=True)
    assert "Open Jim's care" in people and "Open Maria's care" in people
    assert b.get(f"/patients/{james.id}/plan").status_code == 200


def test_a_used_link_does_not_work_again(james, james_browser, new_browser):
    invite(james_browser, james)
    link = link_in(outbox_emails()[0].body)
    assert accept_as_new(new_browser, link)[1].status_code == 302
    before = counts()
    again = new_browser().get(link, follow_redirects=True)
    assert again.status_code == 410
    assert "already accepted" in again.get_data(as_text=True)
    _b, response = accept_as_new(new_browser, link, email="x@example.test")
    assert response.status_code == 410
    assert counts() == before


def test_an_expired_link_does_not_work(james, james_browser, new_browser, frozen_clock):
    sent = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    frozen_clock(sent)
    james_browser.confirm()  # the clock moved: the sign-in is no longer fresh
    invite(james_browser, james)
    link = link_in(outbox_emails()[0].body)

    frozen_clock(sent + timedelta(hours=71, minutes=59))
    assert new_browser().get(link, follow_redirects=True).status_code == 200
    frozen_clock(sent + timedelta(hours=72))
    before = counts()
    response = new_browser().get(link, follow_redirects=True)
    assert response.status_code == 410
    assert "too old" in response.get_data(as_text=True)
    _b, response = accept_as_new(new_browser, link)
    assert response.status_code == 410
    assert counts() == before


def test_a_cancelled_link_does_not_work(james, james_browser, new_browser):
    invite(james_browser, james, email="", mobile_phone="503-555-0142")
    link = link_in(texts()[0].body)
    invitation = db.session.scalar(sa.select(CaregiverInvitation))
    helpers = f"/patients/{james.id}/caregivers"
    response = james_browser.post(
        f"{helpers}/invitations/{invitation.id}/cancel", {}, form_url=helpers
    )
    assert response.status_code == 302
    assert "Cancel invitation" not in james_browser.get(helpers).get_data(as_text=True)
    before = counts()
    response = new_browser().get(link, follow_redirects=True)
    assert response.status_code == 410
    assert "cancelled" in response.get_data(as_text=True)
    assert accept_as_new(new_browser, link, email="a@example.test")[1].status_code == 410
    assert counts() == before


def test_a_tampered_link_does_not_work(james, james_browser, new_browser):
    invite(james_browser, james)
    link = link_in(outbox_emails()[0].body)
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    response = new_browser().get(tampered, follow_redirects=True)
    assert response.status_code == 400
    assert "not complete or not right" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.PATIENT, Role.CARE_TEAM, Role.ADMIN])
def test_other_kinds_of_account_cannot_accept(james, james_browser, new_browser, make_user, role):
    invite(james_browser, james)
    link = link_in(outbox_emails()[0].body)
    other = make_user(role)
    b = signed_in(new_browser, other)
    before = counts()
    url = b.open(link)
    page = b.get(url)
    assert page.status_code == 403
    assert "Only a caregiver account can help" in page.get_data(as_text=True)
    assert b.post(url, {}, form_url="/auth/account").status_code == 403
    assert counts() == before
    # The link still works for the right person.
    assert new_browser().get(link, follow_redirects=True).status_code == 200


def test_new_account_needs_the_usual_password_rules(james, james_browser, new_browser):
    invite(james_browser, james, email="", mobile_phone="503-555-0142")
    link = link_in(texts()[0].body)
    before = counts()
    _b, response = accept_as_new(
        new_browser, link, email="ana@example.test", password="short", confirm="short"
    )
    assert response.status_code == 422
    assert "Use at least 12 characters" in response.get_data(as_text=True)
    _b, response = accept_as_new(new_browser, link, email="")
    assert response.status_code == 422
    assert "Enter your email address." in response.get_data(as_text=True)
    assert counts() == before
    assert new_browser().get(link, follow_redirects=True).status_code == 200  # still usable


def test_new_account_with_an_email_in_use_is_refused(james, james_browser, new_browser, make_user):
    make_user(Role.CAREGIVER, email="ana@example.test")
    invite(james_browser, james, email="", mobile_phone="503-555-0142")
    link = link_in(texts()[0].body)
    before = counts()
    _b, response = accept_as_new(new_browser, link, email="ANA@example.test")
    assert response.status_code == 422
    assert "An account already uses this email" in response.get_data(as_text=True)
    assert counts() == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "", "mobile_phone": ""}, "Give their email or their mobile number."),
        (
            {"email": "ana@example.test", "mobile_phone": "503-555-0142"},
            "Give an email or a mobile number, not both.",
        ),
        ({"email": "", "mobile_phone": "12"}, "That phone number does not look right"),
        ({"email": "not-an-email"}, "Enter an email address like name@example.com."),
        ({"ends_on": "2020-01-01"}, "The last day cannot be in the past."),
        ({"ends_on": "soon"}, "Enter a date, for example 2025-06-30."),
        ({"ends_on": "9999-12-31"}, "Choose a last day within the next 100 years"),
        ({"full_name": ""}, "Enter their name."),
        ({"relationship": ""}, "Say how they are related"),
        ({"scopes": ["plan", "everything"]}, "is not a valid choice"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(james, james_browser, overrides, message):
    before = counts()
    response = invite(james_browser, james, **overrides)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts() == before
    assert outbox_emails() == [] and texts() == []


def test_only_the_patient_invites(james, new_browser, make_member, assign, make_user, grant):
    member = make_member()
    assign(james, member)
    helper = make_user(Role.CAREGIVER)
    grant(james, helper, scopes=["plan", "messages", "goals", "decisions"])
    for user in (db.session.get(User, member.user_id), helper, make_user(Role.ADMIN)):
        b = signed_in(new_browser, user)
        url = f"/patients/{james.id}/caregivers/invite"
        assert b.get(url).status_code == 404
        assert invite(b, james).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(CaregiverInvitation.id))) == 0
