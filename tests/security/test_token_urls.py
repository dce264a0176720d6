"""One-time tokens stay out of URLs after the first request: the link in an email or text is a
landing that keeps the token in the browser's session and answers 303 to a clean address, where
the whole flow happens. Access logs (and ?next=, and Referer) see the token once, never again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import request, request_started

from app.auth import services as auth_services
from app.auth.models import Role, User
from app.caregivers.models import CaregiverGrant
from app.extensions import db
from tests.fixtures.browser import PASSWORD, signed_in
from tests.fixtures.invitations import NEW_PASSWORD, invite, last_code
from tests.fixtures.mail import link_in, outbox_emails

SET_PASSWORD = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


@pytest.fixture
def requested(app):
    """Every path (with its query string) the app is asked for, in order."""
    seen: list[str] = []

    def record(sender, **extra):
        seen.append(request.full_path.rstrip("?"))

    request_started.connect(record, app)
    yield seen
    request_started.disconnect(record, app)


def token_of(link: str) -> str:
    token = link.rsplit("/", 1)[1]
    assert len(token) > 20, link
    return token


def land(browser, link: str, requested: list[str]) -> str:
    """Open the link: a 303 to a clean address. Clears the record of requests, so what is
    recorded afterwards is everything that follows the landing."""
    opened = browser.get(link)
    assert opened.status_code == 303, opened.status_code
    location = opened.headers["Location"]
    assert token_of(link) not in location
    assert requested == [link]
    requested.clear()
    return location


def assert_token_never_requested(requested: list[str], link: str) -> None:
    assert requested, "nothing was requested"
    leaked = [path for path in requested if token_of(link) in path]
    assert leaked == []


def invitation_link(make_user) -> tuple[User, str]:
    user = make_user(Role.PATIENT, name="Rosa Diaz", password=False)
    auth_services.send_invitation(user, None)
    db.session.commit()
    return user, link_in(outbox_emails()[-1].body)


def reset_link(browser, user) -> str:
    assert browser.post("/auth/reset", {"email": user.email}).status_code == 302
    return link_in(outbox_emails()[-1].body)


def test_invitation_link_lands_then_sets_the_password_on_a_clean_page(
    new_browser, make_user, requested
):
    user, link = invitation_link(make_user)
    assert link.startswith("/auth/welcome/")
    b = new_browser()
    page = land(b, link, requested)
    assert page == "/auth/welcome"
    shown = b.get(page)
    assert shown.status_code == 200
    assert "Welcome, Rosa Diaz" in shown.get_data(as_text=True)
    done = b.post(page, SET_PASSWORD)
    assert done.status_code == 302
    b.get(done.headers["Location"], follow_redirects=True)
    assert_token_never_requested(requested, link)
    assert new_browser().login(user.email, NEW_PASSWORD).status_code == 302
    # Done: the token is forgotten, so the clean page has nothing to work on any more.
    assert b.get(page).status_code == 400
    # The link takes no form: a POST to it is refused before anything happens.
    assert b.client.post(link, data=SET_PASSWORD).status_code == 405


def test_reset_link_lands_then_sets_the_password_on_a_clean_page(new_browser, make_user, requested):
    user = make_user(Role.CAREGIVER, email="helper@example.test")
    b = new_browser()
    link = reset_link(b, user)
    assert link.startswith("/auth/reset/")
    requested.clear()
    page = land(b, link, requested)
    assert page not in ("/auth/reset", link)
    shown = b.get(page)
    assert shown.status_code == 200
    assert "Choose a new password" in shown.get_data(as_text=True)
    weak = b.post(page, {"password": "short", "confirm": "short"})
    assert weak.status_code == 422
    done = b.post(page, SET_PASSWORD)
    assert done.status_code == 302
    b.get(done.headers["Location"], follow_redirects=True)
    assert_token_never_requested(requested, link)
    assert new_browser().login(user.email, PASSWORD).status_code == 200  # the old one is gone
    assert new_browser().login(user.email, NEW_PASSWORD).status_code == 302
    assert b.get(page).status_code == 400
    assert b.client.post(link, data=SET_PASSWORD).status_code == 405


def test_caregiver_link_lands_then_is_accepted_after_signing_in(
    new_browser, make_user, make_patient, requested
):
    james = make_patient(given="James", family="Walker", preferred_name="Jim")
    ana = make_user(Role.CAREGIVER, email="ana@example.test", name="Ana Walker")
    invite(signed_in(new_browser, db.session.get(User, james.user_id)), james, email=ana.email)
    link = link_in(outbox_emails()[-1].body)
    assert link.startswith("/caregivers/accept/")

    b = new_browser()
    requested.clear()
    page = land(b, link, requested)
    assert page == "/caregivers/accept"
    assert "Send me a code" in b.get(page).get_data(as_text=True)
    assert b.post(page, {"send": "1"}).headers["Location"] == page
    assert b.post(page, {"code": last_code()}).headers["Location"] == page
    html = b.get(page).get_data(as_text=True)
    assert "I already have an account" in html
    assert 'href="/auth/login?next=/caregivers/accept"' in html  # the sign-in link is clean
    login = b.post(
        "/auth/login?next=/caregivers/accept", {"email": ana.email, "password": PASSWORD}
    )
    assert login.headers["Location"] == page
    # The link's token survived signing in.
    assert "Accept as Ana Walker" in b.get(page).get_data(as_text=True)
    accepted = b.post(page, {})
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == f"/patients/{james.id}"
    assert db.session.scalar(sa.select(CaregiverGrant.caregiver_id)) == ana.id
    assert_token_never_requested(requested, link)
    assert b.client.post(link, data={}).status_code == 405
    # Accepted: the link is forgotten here.
    assert b.get(page).status_code == 400


def test_caregiver_link_lands_then_is_accepted_with_a_new_account(
    new_browser, make_patient, requested
):
    james = make_patient(given="James", family="Walker", preferred_name="Jim")
    invite(signed_in(new_browser, db.session.get(User, james.user_id)), james)
    link = link_in(outbox_emails()[-1].body)

    b = new_browser()
    requested.clear()
    page = land(b, link, requested)
    b.post(page, {"send": "1"})
    b.post(page, {"code": last_code()})
    account = {"full_name": "Ana Walker", "email": "", **SET_PASSWORD}
    created = b.post(page, account)
    assert created.status_code == 302, created.get_data(as_text=True)
    assert created.headers["Location"] == f"/patients/{james.id}"
    assert_token_never_requested(requested, link)
    assert b.get(page).status_code == 400


def test_the_clean_pages_do_nothing_without_the_landing(new_browser, make_user, make_patient):
    user, welcome = invitation_link(make_user)
    james = make_patient(given="James", family="Walker")
    invite(signed_in(new_browser, db.session.get(User, james.user_id)), james)
    caregiver = link_in(outbox_emails()[-1].body)
    reset = reset_link(new_browser(), make_user(Role.CAREGIVER))

    pages = {}
    for link in (welcome, reset, caregiver):
        opener = new_browser()
        pages[link] = opener.open(link)
        assert opener.get(pages[link]).status_code == 200  # the link itself works

    stranger = new_browser()
    for link, page in pages.items():
        shown = stranger.get(page)
        assert shown.status_code == 400
        assert "This link does not work" in shown.get_data(as_text=True)
        if link == caregiver:
            data = {"full_name": "Mallory", "email": "m@example.test", **SET_PASSWORD}
        else:
            data = SET_PASSWORD
        posted = stranger.post(page, data, form_url="/auth/login")
        assert posted.status_code == 400
        assert "This link does not work" in posted.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash is None
    assert db.session.scalar(sa.select(sa.func.count(CaregiverGrant.id))) == 0


@pytest.mark.parametrize("prefix", ["/auth/welcome/", "/auth/reset/", "/caregivers/accept/"])
def test_a_broken_link_lands_too_and_the_clean_page_says_so(new_browser, prefix):
    b = new_browser()
    opened = b.get(prefix + "not-a-token")
    assert opened.status_code == 303
    assert "not-a-token" not in opened.headers["Location"]
    shown = b.get(opened.headers["Location"])
    assert shown.status_code == 400
    assert "not complete or not right" in shown.get_data(as_text=True)
