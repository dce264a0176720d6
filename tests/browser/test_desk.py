"""The care team's desk in Chromium: at 1280 x 800 the inbox is two panes with keyboard
shortcuts; at 360 px it is the phone inbox it was. The nurse works on conversations this file
starts (topic "Bills and costs", which the demo does not use), so other tests' data stays put."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_mobile import check_page

DESK = {"width": 1280, "height": 800}
NURSE = "nurse@demo.carecircle.test"


def sign_in(page, live_server, email=NURSE):
    """The nurse signs in with her password and the demo's two-step code (the buttons are the
    page's own, in <main>: the header has a form too)."""
    import pyotp
    import sqlalchemy as sa

    from app.auth.mfa import DEMO_MFA_SECRET
    from app.auth.models import User
    from app.extensions import db

    page.goto(f"{live_server}/auth/login")
    page.fill("#email", email)
    page.fill("#password", "carecircle-demo")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if page.url.endswith("/auth/mfa"):
        with live_server.app.app_context():  # a code is good once: forget the last one used
            db.session.execute(
                sa.update(User).where(User.email == email).values(mfa_last_step=None)
            )
            db.session.commit()
        page.fill("#code", pyotp.TOTP(DEMO_MFA_SECRET).now())
        page.click("main button[type=submit]")
        page.wait_for_load_state()
    assert "/auth/" not in page.url, f"{email} could not sign in: {page.url}"


@pytest.fixture
def desk(chromium, live_server):
    context = chromium.new_context(viewport=DESK, locale="en-US")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server)
    yield page
    context.close()
    assert errors == [], errors


def start_threads(live_app, *subjects):
    """New conversations from James (the nurse coordinates his care), newest last."""
    from app.extensions import db
    from app.messaging import services
    from app.messaging.models import Topic
    from app.patients.models import Patient

    with live_app.app_context():
        james = db.session.get(Patient, 2)
        ids = []
        for subject in subjects:
            thread = services.start_thread(
                patient_id=james.id,
                topic=Topic.BILLING,
                subject=subject,
                body=f"{subject}: what do I owe?",
                author_id=james.user_id,
                capacity="patient",
            )
            ids.append(thread.id)
        db.session.commit()
        return ids


def thread_state(live_app, thread_id):
    from app.extensions import db
    from app.messaging.models import Thread

    with live_app.app_context():
        thread = db.session.get(Thread, thread_id)
        return thread.assignee_id, thread.status.value


def subjects(page):
    return page.locator("#desk-list .thread-row .person-name").all_inner_texts()


def test_a_row_opens_in_the_right_pane_and_back_works(desk, live_server, live_app):
    first, second = start_threads(live_app, "Desk: a bill from the clinic", "Desk: a second bill")
    inbox = f"{live_server}/team/inbox?view=all&topic=billing"
    desk.goto(inbox)
    assert desk.locator("#desk-pane").is_visible()
    desk.click("text=Desk: a bill from the clinic")
    pane = desk.locator("#desk-pane")
    pane.locator("#convo-title", has_text="Desk: a bill from the clinic").wait_for()
    # still the inbox, with the conversation beside the list; the address names it
    assert desk.locator("h1").first.inner_text() == "Team inbox"
    assert re.search(rf"open=2-{first}\b", desk.url)
    assert pane.locator("text=Open plan summary").get_attribute("href") == "/patients/2"
    assert "English" in pane.locator(".convo-language").inner_text()
    box = desk.locator(".desk-list").bounding_box()
    pane_box = pane.bounding_box()
    assert pane_box["x"] > box["x"] + box["width"] - 1  # side by side
    desk.click("text=Desk: a second bill")
    pane.locator("#convo-title", has_text="Desk: a second bill").wait_for()
    assert re.search(rf"open=2-{second}\b", desk.url)
    # Back shows the one before, and a reload shows the same
    desk.go_back()
    pane.locator("#convo-title", has_text="Desk: a bill from the clinic").wait_for()
    assert re.search(rf"open=2-{first}\b", desk.url)
    desk.reload()
    pane.locator("#convo-title", has_text="Desk: a bill from the clinic").wait_for()
    desk.go_back()
    desk.wait_for_function("() => !location.search.includes('open=')")
    assert pane.locator("[data-conversation]").count() == 0


def test_keys_move_open_and_reply_but_not_while_typing(desk, live_server, live_app):
    start_threads(live_app, "Desk: keys one", "Desk: keys two")
    desk.goto(f"{live_server}/team/inbox?view=all&topic=billing")
    rows = subjects(desk)
    assert rows[:2] == ["Desk: keys two", "Desk: keys one"]  # latest first
    desk.keyboard.press("j")
    focused = desk.evaluate("document.activeElement.querySelector('.person-name').textContent")
    assert focused == rows[0]
    desk.keyboard.press("j")
    assert (
        desk.evaluate("document.activeElement.querySelector('.person-name').textContent") == rows[1]
    )
    outline = desk.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the chosen row shows it has the focus
    desk.wait_for_function(
        "() => document.getElementById('desk-live').textContent.includes('2 of')"
    )
    desk.keyboard.press("k")
    assert (
        desk.evaluate("document.activeElement.querySelector('.person-name').textContent") == rows[0]
    )
    desk.keyboard.press("o")
    desk.locator("#desk-pane #convo-title", has_text=rows[0]).wait_for()
    url = desk.url
    assert "open=" in url
    desk.keyboard.press("r")
    assert desk.evaluate("document.activeElement.id") == "body"  # the reply box
    desk.keyboard.type("jkte?o")
    assert desk.input_value("#desk-pane #body") == "jkte?o"
    assert desk.url == url  # nothing moved, opened, took or resolved
    assert desk.locator("#desk-pane button:has-text('Take it')").count() == 1
    assert not desk.locator("#desk-help").is_visible()
    # Esc leaves the box; then the keys work again
    desk.keyboard.press("Escape")
    desk.keyboard.press("?")
    assert desk.locator("#desk-help").is_visible()
    desk.keyboard.press("Escape")
    assert not desk.locator("#desk-help").is_visible()


def test_t_takes_and_e_resolves_with_the_pages_own_forms(desk, live_server, live_app):
    (thread_id,) = start_threads(live_app, "Desk: take me")
    desk.goto(f"{live_server}/team/inbox?view=unassigned&topic=billing")
    assert "Desk: take me" in subjects(desk)
    desk.click("text=Desk: take me")
    pane = desk.locator("#desk-pane")
    pane.locator("#convo-title", has_text="Desk: take me").wait_for()
    desk.keyboard.press("t")
    pane.locator("text=You took this conversation.").wait_for()
    assert "Taken by Nina Patel" in pane.inner_text()
    # its lane changed: no longer "Not taken yet", now "Mine"
    desk.wait_for_function(
        "() => ![...document.querySelectorAll('#desk-list .person-name')]"
        ".some(e => e.textContent === 'Desk: take me')"
    )
    assert thread_state(live_app, thread_id)[0] is not None
    desk.goto(f"{live_server}/team/inbox?view=mine&topic=billing")
    assert "Desk: take me" in subjects(desk)
    desk.click("text=Desk: take me")
    pane.locator("#convo-title", has_text="Desk: take me").wait_for()
    desk.keyboard.press("e")
    pane.locator("button:has-text('Open again')").wait_for()
    assert thread_state(live_app, thread_id)[1] == "resolved"
    assert desk.locator("h1").first.inner_text() == "Team inbox"  # never left the inbox


def test_a_reply_from_the_pane_is_sent_once_and_shown(desk, live_server, live_app):
    start_threads(live_app, "Desk: reply to me")
    desk.goto(f"{live_server}/team/inbox?view=all&topic=billing")
    desk.click("text=Desk: reply to me")
    pane = desk.locator("#desk-pane")
    pane.locator("#convo-title", has_text="Desk: reply to me").wait_for()
    pane.locator("button:has-text('Send to the patient')").click()  # empty: asks for words
    pane.locator("text=Write a message first.").wait_for()
    desk.fill("#desk-pane #body", "You owe nothing. Call us with questions.")
    pane.locator("button:has-text('Send to the patient')").click()
    pane.locator(".message .prewrap", has_text="You owe nothing.").wait_for()
    assert pane.locator(".message .prewrap", has_text="You owe nothing.").count() == 1
    assert "The patient gets a notice" in pane.inner_text()
    assert desk.locator("h1").first.inner_text() == "Team inbox"


def test_without_javascript_a_row_is_a_link_to_the_page(chromium, live_server, live_app):
    start_threads(live_app, "Desk: no script")
    context = chromium.new_context(viewport=DESK, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server)
        page.goto(f"{live_server}/team/inbox?view=all&topic=billing")
        assert not page.locator("[data-desk='help']").is_visible()  # no keys without a script
        page.click("text=Desk: no script")
        page.wait_for_load_state()
        assert re.search(r"/patients/2/messages/\d+$", page.url)
        assert page.locator("h1").inner_text() == "Desk: no script"
    finally:
        context.close()


@pytest.mark.parametrize(
    "path",
    ["/team/inbox?view=all", "/patients/2", "/patients/1", "/patients/2/messages/3"],
)
def test_the_desk_pages_fit_a_phone_and_pass_axe(phone, live_server, path):
    sign_in(phone, live_server)
    check_page(phone, live_server + path)
    assert "/auth/" not in phone.url


def test_the_wide_pages_pass_axe_and_do_not_scroll_sideways(desk, live_server):
    from axe_playwright_python.sync_playwright import Axe

    desk.goto(f"{live_server}/team/inbox?view=all")
    desk.locator("#desk-list a.row-link").first.click()
    desk.locator("#desk-pane [data-conversation]").wait_for()
    for url in (None, f"{live_server}/patients/2", f"{live_server}/patients/2/messages/3"):
        if url:
            desk.goto(url)
        assert desk.evaluate("document.documentElement.scrollWidth") <= DESK["width"]
        results = Axe().run(desk)
        serious = [
            (v["id"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], (url, serious)
    # the summary is a grid of cards on a wide screen
    desk.goto(f"{live_server}/patients/2")
    tops = desk.evaluate(
        "[...document.querySelectorAll('.dash-grid:not(.details) > *')]"
        ".map(e => Math.round(e.getBoundingClientRect().left))"
    )
    assert len(set(tops)) >= 2, tops  # side by side, not one long column
