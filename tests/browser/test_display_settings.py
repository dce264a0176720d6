"""Display settings in real Chromium at 360 x 740: larger text is really larger and every page
of James's still fits the phone; high contrast passes axe (with WCAG AAA contrast) and gives body
text at least 7:1; less motion stops the movement; the choice is the chooser's alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

TAP_TARGETS_JS = (Path(__file__).parent / "tap_targets.js").read_text()
JAMES, ANA = "james@demo.carecircle.test", "ana@demo.carecircle.test"

#: James's pages (patient 2 in the demo); the first thread is added from his message list.
PAGES = [
    "/patients/2",
    "/patients/2/home",
    "/patients/2/today",
    "/patients/2/plan",
    "/patients/2/goals",
    "/patients/2/decisions",
    "/patients/2/messages",
    "/patients/2/preferences",
    "/patients/2/preferences/edit",
    "/patients/2/more",
    "/auth/account",
]

#: The contrast of the text of an element against the first opaque background behind it
#: (WCAG 2 relative luminance).
CONTRAST_JS = """(el) => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = null;
  for (let node = el; node; node = node.parentElement) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] === 1)) { bg = c.slice(0, 3); break; }
  }
  bg = bg || [255, 255, 255];
  const fg = rgb(getComputedStyle(el).color).slice(0, 3);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


@pytest.fixture
def restore_display(live_app):
    """These tests change demo people's settings on the shared live server: put them back."""
    from app.auth.models import User
    from app.extensions import db

    columns = (User.id, User.text_size, User.high_contrast, User.reduced_motion)
    with live_app.app_context():
        before = db.session.execute(sa.select(*columns)).all()
    yield
    with live_app.app_context():
        for uid, size, contrast, motion in before:
            db.session.execute(
                sa.update(User)
                .where(User.id == uid)
                .values(text_size=size, high_contrast=contrast, reduced_motion=motion)
            )
        db.session.commit()


def body_px(page) -> float:
    return float(page.evaluate("getComputedStyle(document.body).fontSize").removesuffix("px"))


def press(page, name: str) -> None:
    """Press one of the display controls by its accessible name, as a thumb does."""
    page.get_by_role("button", name=name, exact=True).first.click()
    page.wait_for_load_state()


def serious_axe_findings(page, *, aaa: bool = False) -> list:
    from axe_playwright_python.sync_playwright import Axe

    options = {"rules": {"color-contrast-enhanced": {"enabled": True}}} if aaa else None
    results = Axe().run(page, options=options)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def james_pages(page, live_server) -> list[str]:
    page.goto(f"{live_server}/patients/2/messages")
    thread = page.locator("main a[href*='/patients/2/messages/']:not([href$='/new'])").first
    return [*PAGES, thread.get_attribute("href")]


def test_larger_text_is_larger_and_every_page_of_james_fits_the_phone(
    phone, live_server, login, restore_display
):
    login(phone, JAMES)
    phone.goto(f"{live_server}/auth/account")
    assert body_px(phone) == pytest.approx(20, abs=0.1)  # the demo: James asked for larger text
    press(phone, "Larger")
    assert phone.url.endswith("/auth/account#display-settings")
    larger = phone.get_by_role("button", name="Larger", exact=True).first
    assert larger.get_attribute("aria-pressed") == "true"
    for path in james_pages(phone, live_server):
        phone.goto(live_server + path)
        assert body_px(phone) == pytest.approx(23, abs=0.1), path
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} scrolls sideways at 23 px: {width}px"
        assert phone.evaluate(TAP_TARGETS_JS) == [], path


def test_high_contrast_with_larger_text_passes_axe_and_aaa_contrast(
    phone, live_server, login, restore_display
):
    login(phone, JAMES)
    phone.goto(f"{live_server}/auth/account")
    press(phone, "Larger")
    press(phone, "High contrast")
    assert "contrast-high" in phone.evaluate("document.documentElement.className")
    for path in james_pages(phone, live_server):
        phone.goto(live_server + path)
        assert serious_axe_findings(phone, aaa=True) == [], path
        # Body text and the first paragraph of the page's main text: at least 7:1 (AAA).
        assert phone.evaluate(CONTRAST_JS, phone.locator("body").element_handle()) >= 7, path
        first = phone.locator("main p, main dd, main li").first
        if first.count():
            assert first.evaluate(CONTRAST_JS) >= 7, path
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path


def test_standard_text_is_standard_and_anas_view_of_james_is_her_own(
    chromium, live_server, login, restore_display
):
    from tests.browser.conftest import PHONE

    james_ctx = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    ana_ctx = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    james, ana = james_ctx.new_page(), ana_ctx.new_page()
    try:
        login(james, JAMES)
        login(ana, ANA)
        james.goto(f"{live_server}/patients/2/plan")
        ana.goto(f"{live_server}/patients/2/plan")
        assert body_px(james) == pytest.approx(20, abs=0.1)
        assert body_px(ana) == pytest.approx(17, abs=0.1)
        # Ana picks her own: it follows her onto James's record, and only her.
        ana.goto(f"{live_server}/auth/account")
        press(ana, "Larger")
        ana.goto(f"{live_server}/patients/2/plan")
        james.reload()
        assert body_px(ana) == pytest.approx(23, abs=0.1)
        assert body_px(james) == pytest.approx(20, abs=0.1)
        ana.goto(f"{live_server}/auth/account")
        press(ana, "Normal")
        assert body_px(ana) == pytest.approx(17, abs=0.1)
    finally:
        james_ctx.close()
        ana_ctx.close()


def test_less_motion_stops_movement(phone, live_server, login, restore_display):
    login(phone, ANA)
    phone.goto(f"{live_server}/auth/account")
    duration = "getComputedStyle(document.querySelector('.ds-thumb')).transitionDuration"
    assert phone.evaluate(duration) != "0s"
    phone.emulate_media(reduced_motion="reduce")  # the phone's own setting is honoured
    assert phone.evaluate(duration) == "0s"
    phone.emulate_media(reduced_motion="no-preference")
    assert phone.evaluate(duration) != "0s"
    press(phone, "Less motion")
    assert "motion-reduce" in phone.evaluate("document.documentElement.className")
    assert phone.evaluate(duration) == "0s"
    assert phone.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "auto"


def test_a_phone_that_asks_for_more_contrast_gets_it_signed_out(chromium, live_server):
    from tests.browser.conftest import PHONE

    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/auth/login")
        plain = page.evaluate(CONTRAST_JS, page.locator(".help, main p").first.element_handle())
        page.emulate_media(contrast="more")
        page.goto(f"{live_server}/auth/login")
        assert page.evaluate("document.documentElement.className") == ""
        assert page.evaluate(CONTRAST_JS, page.locator("body").element_handle()) >= 7
        stronger = page.evaluate(CONTRAST_JS, page.locator(".help, main p").first.element_handle())
        assert stronger >= 7 and stronger >= plain
        assert serious_axe_findings(page, aaa=True) == []
    finally:
        context.close()
