"""Every page at 360 px: no horizontal scroll, 44 px tap targets, no serious axe violation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TAP_TARGETS_JS = (Path(__file__).parent / "tap_targets.js").read_text()

PAGES = {
    "maria@demo.carecircle.test": [
        "/",
        "/patients/1/more",
        "/patients/1",
        "/patients/1/profile",
        "/patients/1/access-log",
        "/auth/account",
        "/patients/1/today",
        "/patients/1/plan",
        "/patients/1/plan/items/1",
        "/patients/1/changes",
        "/patients/1/messages",
        "/patients/1/messages/1",
        "/patients/1/messages/new?item=1",
        "/patients/1/preferences",
        "/patients/1/preferences/edit",
        "/patients/1/goals",
        "/patients/1/decisions",
        "/patients/1/texts",
        "/patients/1/phone",
        "/patients/1/phone/verify",
        "/patients/1/reminders",
        "/patients/1/plan/items/1/reminders",
        "/patients/1/goals/1/reminders",
        "/patients/1/caregivers",
        "/patients/1/caregivers/invite",
    ],
    "james@demo.carecircle.test": [
        "/auth/mfa/setup",
        "/auth/confirm",
        "/patients/2/caregivers",
        "/patients/2/caregivers/1/edit",
        "/patients/2/caregivers/1/end",
    ],
    "leo@demo.carecircle.test": [
        "/patients/3/messages",
        "/patients/3/messages/4",
        "/patients/3/messages/new",
    ],
    "ana@demo.carecircle.test": [
        "/",
        "/patients/2/more",
        "/caregivers/",
        "/patients/2",
        "/patients/2/today",
        "/patients/2/plan",
        "/patients/2/goals",
        "/patients/2/decisions",
    ],
    "nurse@demo.carecircle.test": [
        "/team/patients",
        "/patients/3",
        "/patients/2",
        "/patients/2/plan/new",
        "/patients/2/plan/new/medication",
        "/patients/2/plan/new/appointment",
        "/patients/2/flags/2",
        "/patients/2/flags/2/cancel-one?item_id=12",
        "/patients/2/plan/items/12/edit",
        "/patients/3/caregivers",
        "/patients/3/caregivers/team",
        "/patients/3/caregivers/team-grant",
        "/patients/3/caregivers/grants/2/continuing-authority",
    ],
    "admin@demo.carecircle.test": [
        "/admin/",
        "/admin/users",
        "/admin/invite/patient",
        "/admin/invite/caregiver",
        "/admin/invite/care-team",
        "/admin/outbox",
        "/admin/security",
        "/auth/account",
    ],
    None: ["/auth/login", "/auth/reset", "/auth/welcome/not-a-token", "/no-such-page"],
}


def check_page(page, url):
    page.goto(url)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{url} scrolls sideways: {width}px"
    bad = page.evaluate(TAP_TARGETS_JS)
    assert bad == [], f"{url} has small tap targets: {bad}"
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{url}: {serious}"
    assert page.evaluate("document.documentElement.lang") in ("en", "es")


@pytest.mark.parametrize("who", list(PAGES), ids=lambda w: w or "anonymous")
def test_pages_fit_a_phone_and_pass_axe(phone, live_server, login, who):
    if who:
        login(phone, who)
        assert "/auth/login" not in phone.url, f"{who} could not sign in"
    for path in PAGES[who]:
        check_page(phone, live_server + path)
        assert phone.evaluate("document.title") != "", path


def test_goal_and_decision_pages_fit_a_phone(phone, live_server, login):
    """Open the first goal and decision from their lists, as a patient would."""
    login(phone, "james@demo.carecircle.test")
    for section in ("goals", "decisions"):
        phone.goto(f"{live_server}/patients/2/{section}")
        link = phone.locator(f"main a[href*='/patients/2/{section}/']").first
        href = link.get_attribute("href")
        check_page(phone, live_server + href)


def test_spanish_pages_fit_too(phone, live_server, login):
    """Spanish strings run longer; the layout must still hold."""
    login(phone, "rosa@demo.carecircle.test")
    for path in ("/caregivers/", "/patients/3", "/auth/account"):
        check_page(phone, live_server + path)
    assert "Personas a las que ayudo" in phone.goto(live_server + "/caregivers/").text()


def test_sign_in_and_switch_language_by_thumb(phone, live_server, login):
    login(phone, "james@demo.carecircle.test")
    assert phone.locator("h1").inner_text() == "Hello, Jim"
    phone.click(".tabbar a:has-text('More')")
    phone.select_option("#more-language-select", "es")
    phone.click("main form:has(#more-language-select) button")
    phone.wait_for_load_state()
    assert phone.locator("h1").inner_text() == "Más"
    assert phone.evaluate("document.documentElement.lang") == "es"
    # the choice is remembered on the account
    phone.click("text=Cerrar sesión")
    login(phone, "james@demo.carecircle.test")
    assert phone.locator("h1").inner_text() == "Hola, Jim"
    phone.click(".tabbar a:has-text('Más')")
    phone.select_option("#more-language-select", "en")
    phone.click("main form:has(#more-language-select) button")


def test_works_without_javascript(chromium, live_server):
    context = chromium.new_context(
        viewport={"width": 360, "height": 740}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{live_server}/auth/login")
    page.fill("#email", "ana@demo.carecircle.test")
    page.fill("#password", "carecircle-demo")
    page.click("button[type=submit]:has-text('Sign in')")
    # She helps one person: straight to his Home, tabs and all, without JavaScript.
    assert "Acting for Jim" in page.content()
    page.click(".tabbar a:has-text('Plan')")
    assert "/patients/2/plan" in page.url and "Acting for Jim" in page.content()
    context.close()


def test_skip_link_and_visible_focus(phone, live_server):
    phone.goto(f"{live_server}/auth/login")
    phone.keyboard.press("Tab")
    focused = phone.evaluate("document.activeElement.className")
    assert "skip-link" in focused
    box = phone.locator(".skip-link").bounding_box()
    assert box["y"] >= 0  # it comes into view when focused
    outline = phone.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_wrong_password_shows_a_clear_message(phone, live_server, login):
    login(phone, "maria@demo.carecircle.test", "wrong password!")
    text = phone.locator(".error").first.inner_text()
    assert re.search(r"do not match|no coinciden", text)


def test_accepting_an_invitation_with_the_emailed_code_on_a_phone(
    phone, chromium, live_server, live_app, login
):
    import sqlalchemy as sa

    from app.core.mail import OutboundEmail
    from app.extensions import db

    def newest_email_to(address):
        with live_app.app_context():
            return db.session.scalars(
                sa.select(OutboundEmail)
                .where(OutboundEmail.to_address == address)
                .order_by(OutboundEmail.id.desc())
            ).first()

    login(phone, "james@demo.carecircle.test")
    phone.goto(f"{live_server}/patients/2/caregivers/invite")
    phone.fill("#full_name", "Bea Carter")
    phone.fill("#email", "bea@example.test")
    phone.select_option("#relationship", "sibling")
    phone.click("main button[type=submit]")
    link = re.search(r"/caregivers/accept/\S+", newest_email_to("bea@example.test").body).group(0)

    context = chromium.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="en-US"
    )
    bea = context.new_page()
    try:
        check_page(bea, live_server + link)
        assert bea.url == live_server + "/caregivers/accept"  # the token stays out of the bar
        assert "Create my account" not in bea.content()
        bea.click("button:has-text('Send me a code')")
        bea.wait_for_load_state()
        assert "We sent a code to b…@example.test." in bea.content()
        check_page(bea, bea.url)
        code = re.search(r"\b\d{6}\b", newest_email_to("bea@example.test").body).group(0)
        bea.fill("#code", code)
        bea.click("button:has-text('Continue')")
        bea.wait_for_load_state()
        assert "Create my account and accept" in bea.content()
        check_page(bea, bea.url)
    finally:
        context.close()
