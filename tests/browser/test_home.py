"""Home on a 360 x 740 phone: today's jobs on the first screen, the tab bar within thumb reach,
and the same items as a rail on a wide screen."""

from __future__ import annotations

import pytest

from tests.browser.test_mobile import check_page

FIRST_SCREEN = 740


def visible_on_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 44) <= FIRST_SCREEN


def tabbar_top(page) -> float:
    return page.locator(".tabbar").bounding_box()["y"]


@pytest.mark.parametrize(
    ("who", "hello"),
    [
        ("maria@demo.carecircle.test", "Hola, María"),
        ("james@demo.carecircle.test", "Hello, Jim"),
        ("ana@demo.carecircle.test", "Jim's day"),
    ],
)
def test_the_first_screen_holds_today(phone, live_server, login, who, hello):
    login(phone, who)
    assert phone.url.endswith("/home"), phone.url
    assert phone.locator("h1").inner_text() == hello
    bar = tabbar_top(phone)
    assert bar < FIRST_SCREEN
    # The next appointment, the first thing to do today (with its one-tap button) and the
    # counts at a glance are all above the tab bar without scrolling.
    # (A task that asks for a number has an "Enter" link where others have a "Done" button.)
    for selector in (".tile-appointment .tile-main", ".checklist .tick", ".chips .chip"):
        box = phone.locator(selector).first.bounding_box()
        assert box is not None, selector
        assert box["y"] + box["height"] <= bar, f"{who}: {selector} is below the first screen"
    check_page(phone, phone.url)


def test_tab_bar_is_within_reach_and_marks_where_you_are(phone, live_server, login):
    login(phone, "maria@demo.carecircle.test")
    tabs = phone.locator(".tabbar a")
    assert tabs.count() == 5
    for i in range(tabs.count()):
        box = tabs.nth(i).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
    assert "Inicio" in phone.locator(".tabbar a[aria-current=page]").inner_text()
    phone.click(".tabbar a:has-text('Plan')")
    assert phone.url.endswith("/patients/1/plan")
    assert "Plan" in phone.locator(".tabbar a[aria-current=page]").inner_text()
    # Fixed: still at the bottom after scrolling to the end of a long page.
    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert abs(tabbar_top(phone) + phone.locator(".tabbar").bounding_box()["height"] - 740) < 2
    # Nothing of the page hides behind it: the last line of the page ends above the bar.
    footer = phone.locator(".site-footer").bounding_box()
    assert footer["y"] + footer["height"] <= tabbar_top(phone) + 1


def test_done_on_the_first_screen_in_one_tap(phone, live_server, login):
    # María's walk: a plain task, ticked in one tap. (James's first task asks for his weight:
    # tests/browser/test_readings.py; medicines have their own dose buttons.)
    login(phone, "maria@demo.carecircle.test")
    plain = ".checklist li:has(form[action$='/done'] button.tick)"
    row = phone.locator(plain).first
    title = row.locator(".check-text").inner_text().splitlines()[0]
    assert "is-done" not in (row.locator("button.tick").get_attribute("class") or "")
    row.locator("button.tick").click()
    phone.wait_for_load_state()
    assert phone.url.split("#")[0].endswith("/patients/1/home")
    after = phone.locator(f".checklist li:has-text('{title}') form[action$='/done'] button.tick")
    assert "is-done" in after.get_attribute("class")
    # and back again, so the demo stays as it was
    after.click()


def test_a_wide_screen_gets_the_same_items_as_a_side_rail(chromium, live_server, login):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    login(page, "james@demo.carecircle.test")
    rail = page.locator(".tabbar").bounding_box()
    assert rail["x"] == 0 and rail["height"] >= 780 and rail["width"] < 200
    main = page.locator("main").bounding_box()
    assert main["x"] >= rail["width"]
    context.close()
