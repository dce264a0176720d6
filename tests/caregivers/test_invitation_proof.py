"""Holding an invitation link is not enough to accept it: whoever accepts enters a code sent, at
that moment, to the email or phone the invitation went to. Attacks: a stranger with a forwarded
link, guessing, an old code, a code proven in another browser, a code for another invitation."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers.models import CaregiverGrant, CaregiverInvitation
from app.core.db import utcnow
from app.extensions import db
from app.texting.models import OutboundSms
from tests.fixtures.browser import signed_in
from tests.fixtures.invitations import NEW_PASSWORD, invite, last_code, prove
from tests.fixtures.mail import link_in, outbox_emails

ACCOUNT = {
    "full_name": "Mallory",
    "email": "mallory@example.test",
    "password": NEW_PASSWORD,
    "confirm": NEW_PASSWORD,
}


@pytest.fixture
def james(make_patient):
    return make_patient(given="James", family="Walker", preferred_name="Jim")


@pytest.fixture
def james_browser(james, new_browser):
    return signed_in(new_browser, db.session.get(User, james.user_id))


@pytest.fixture
def link(james, james_browser):
    assert invite(james_browser, james).status_code == 302
    return link_in(outbox_emails()[-1].body)


def written():
    db.session.expire_all()
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(User)),
        db.session.scalar(sa.select(sa.func.count()).select_from(CaregiverGrant)),
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CaregiverInvitation)
            .where(CaregiverInvitation.accepted_at.is_not(None))
        ),
    )


def test_a_stranger_with_only_the_link_cannot_accept(link, new_browser):
    before = written()
    mallory = new_browser()
    url = mallory.open(link)
    page = mallory.get(url).get_data(as_text=True)
    assert "Send me a code" in page and "Create my account" not in page
    assert "ana.walker@example.test" not in page  # the address is shown only in part
    refused = mallory.post(url, ACCOUNT)
    assert refused.status_code == 422
    assert "Enter the 6-digit code." in refused.get_data(as_text=True)
    assert written() == before


def test_a_signed_in_caregiver_with_only_the_link_cannot_accept(link, new_browser, make_user):
    other = make_user(Role.CAREGIVER, email="other@example.test")
    b = signed_in(new_browser, other)
    before = written()
    url = b.open(link)
    page = b.get(url).get_data(as_text=True)
    assert "Send me a code" in page and "Accept as" not in page
    assert b.post(url, {}).status_code == 422
    assert written() == before


def test_the_code_goes_where_the_invitation_went_and_says_nothing_else(link, new_browser):
    b = new_browser()
    url = b.open(link)
    sent = b.post(url, {"send": "1"})
    assert sent.status_code == 302
    page = b.get(url).get_data(as_text=True)
    assert "We sent a code to a…@example.test." in page
    email = outbox_emails()[-1]
    assert email.to_address == "ana.walker@example.test"
    assert email.subject == "Your CareCircle code"
    assert "Jim" not in email.body and "/caregivers/accept/" not in email.body


def test_guessing_stops_after_five_wrong_tries_even_with_the_right_code(link, new_browser):
    b = new_browser()
    page = b.open(link)
    b.post(page, {"send": "1"})
    code = last_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        response = b.post(page, {"code": wrong})
        assert response.status_code == 200
        assert "That code is not right" in response.get_data(as_text=True)
    locked = b.post(page, {"code": code})
    assert "Too many wrong tries. Ask for a new code." in locked.get_data(as_text=True)
    assert "Create my account" not in b.get(page).get_data(as_text=True)
    # Another browser cannot keep guessing on the same code either.
    other_browser = new_browser()
    other_page = other_browser.open(link)
    other = other_browser.post(other_page, {"code": code}).get_data(as_text=True)
    assert "Too many wrong tries" in other


def test_a_new_code_replaces_the_old_one(link, new_browser):
    b = new_browser()
    page = b.open(link)
    b.post(page, {"send": "1"})
    old = last_code()
    b.post(page, {"send": "1"})
    fresh = last_code()
    if fresh != old:
        assert "not right" in b.post(page, {"code": old}).get_data(as_text=True)
    assert b.post(page, {"code": fresh}).status_code == 302
    assert "Create my account" in b.get(page).get_data(as_text=True)


def test_no_more_than_five_codes_per_invitation(link, new_browser):
    b = new_browser()
    page = b.open(link)
    for _ in range(5):
        assert b.post(page, {"send": "1"}).status_code == 302
    sixth = b.post(page, {"send": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "We sent as many codes as we can." in sixth
    assert len(outbox_emails()) == 1 + 5  # the invitation and five codes


def test_a_code_works_for_ten_minutes(link, new_browser, frozen_clock):
    start = utcnow()
    frozen_clock(start)
    b = new_browser()
    page = b.open(link)
    b.post(page, {"send": "1"})
    code = last_code()
    frozen_clock(start + timedelta(minutes=10))
    response = b.post(page, {"code": code})
    assert "This code has expired. Ask for a new one." in response.get_data(as_text=True)
    assert "Create my account" not in b.get(page).get_data(as_text=True)


def test_a_code_is_proven_in_one_browser_only_and_once(link, new_browser):
    ana = new_browser()
    assert prove(ana, link)
    mallory = new_browser()
    before = written()
    page = mallory.open(link)
    assert "Send me a code" in mallory.get(page).get_data(as_text=True)
    assert mallory.post(page, ACCOUNT).status_code == 422
    # The code was used up: entering it again in another browser does nothing.
    assert "expired" in mallory.post(page, {"code": last_code()}).get_data(as_text=True)
    assert written() == before


def test_a_code_for_one_invitation_does_not_open_another(james, james_browser, new_browser):
    invite(james_browser, james, email="first@example.test")
    first = link_in(outbox_emails()[-1].body)
    invite(james_browser, james, email="second@example.test")
    second = link_in(outbox_emails()[-1].body)
    b = new_browser()
    page = b.open(second)
    b.post(page, {"send": "1"})
    assert b.open(first) == page  # one page; which invitation it shows is the last link opened
    assert "expired" in b.post(page, {"code": last_code()}).get_data(as_text=True)
    assert "Send me a code" in b.get(page).get_data(as_text=True)


def test_a_texted_invitation_texts_the_code_in_the_patients_language(
    james, james_browser, new_browser
):
    james.language = "es"
    db.session.commit()
    invite(james_browser, james, email="", mobile_phone="(503) 555-0142")
    db.session.expire_all()
    link = link_in(db.session.scalars(sa.select(OutboundSms)).one().body)
    b = new_browser()
    page = b.open(link)
    assert "…0142" in b.get(page).get_data(as_text=True)
    b.post(page, {"send": "1"})
    sms = db.session.scalars(sa.select(OutboundSms).order_by(OutboundSms.id.desc())).first()
    assert (sms.to_number, sms.purpose, sms.locale) == ("+15035550142", "caregiver_code", "es")
    assert sms.body.startswith("CareCircle: su código es ")
    assert sms.body.endswith(". Sirve por 10 minutos.")
    assert "Jim" not in sms.body and "/caregivers/" not in sms.body


def test_a_caregiver_whose_verified_phone_got_the_text_needs_no_code(
    james, james_browser, new_browser, make_user
):
    ana = make_user(Role.CAREGIVER, email="ana@example.test", name="Ana Walker")
    ana.mobile_phone = "+15035550142"
    ana.mobile_phone_verified_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.commit()
    invite(james_browser, james, email="", mobile_phone="(503) 555-0142")
    db.session.expire_all()
    link = link_in(db.session.scalars(sa.select(OutboundSms)).one().body)
    b = signed_in(new_browser, ana)
    page = b.open(link)
    assert "Accept as Ana Walker" in b.get(page).get_data(as_text=True)
    assert b.post(page, {}).status_code == 302


@pytest.mark.parametrize("code", ["\x00123456", "1" * 13, "\uff11\uff12\uff13\uff14\uff15\uff16"])
def test_hostile_codes_are_refused_and_nothing_is_written(link, new_browser, code):
    b = new_browser()
    page = b.open(link)
    b.post(page, {"send": "1"})
    before = written()
    response = b.post(page, {"code": code})
    assert response.status_code in (200, 400, 422)
    assert "Create my account" not in b.get(page).get_data(as_text=True)
    assert written() == before
