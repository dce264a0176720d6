"""The demo nurse reads the measures dashboard on a 360 x 740 phone: it fits (no sideways
scroll), every target is 44 px, axe finds nothing serious, each measure has its chart and CSV
link, and "answered late" opens the threads behind it. Screenshots: docs/screenshots/."""

from __future__ import annotations

from pathlib import Path

TAP_TARGETS_JS = (Path(__file__).parent / "tap_targets.js").read_text()
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NURSE = "nurse@demo.carecircle.test"


def serious_axe_findings(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def overflowing(page) -> list[str]:
    """What sticks out past the right edge of the screen (empty: no sideways scroll)."""
    return page.evaluate(
        """() => {
        const width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= width) return [];
        return [...document.querySelectorAll('main *')]
          .filter(e => e.getBoundingClientRect().right > width + 1)
          .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)
          .slice(0, 8);
      }"""
    )


def fits(page) -> bool:
    found = overflowing(page)
    assert found == [], found
    return True


def test_the_nurse_reads_the_measures_on_a_phone(phone, live_server, login):
    from app.metrics import measures

    login(phone, NURSE)
    phone.goto(f"{live_server}/measures?team=all")
    assert phone.locator("h1").inner_text() == "Measures"
    assert fits(phone)
    assert serious_axe_findings(phone) == []
    assert phone.evaluate(TAP_TARGETS_JS) == []
    SHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(SHOTS / "measures-phone.png"))
    keys = [m.key for m in measures.all_measures()]
    for key in keys:
        card = phone.locator(f"#measure-{key}")
        assert card.count() == 1, key
        assert card.locator("a[href*='.csv']").count() == 1, key
    # The filters open, and still fit
    phone.click("summary:has-text('Change the period')")
    assert fits(phone)
    assert phone.evaluate(TAP_TARGETS_JS) == []
    phone.screenshot(path=str(SHOTS / "measures-phone-filters.png"))
    if "response_time" in keys:
        # "Answered late": the threads behind it, as the dashboard links them (when the
        # number is not 0), or as a coordinator opens the link they were sent
        late = phone.locator("#measure-response_time a.measure-drill[href*='answered_late']")
        if late.count():
            late.first.click()
        else:
            phone.goto(f"{live_server}/measures/response_time/answered_late?team=all")
        phone.wait_for_load_state()
        assert "/measures/response_time/answered_late" in phone.url
        assert phone.locator("h1").inner_text() == "Answered late"
        assert fits(phone)
        assert serious_axe_findings(phone) == []
        assert phone.evaluate(TAP_TARGETS_JS) == []
        phone.screenshot(path=str(SHOTS / "measures-drill-phone.png"))


def test_the_printable_report_fits_a_phone_too(phone, live_server, login):
    login(phone, NURSE)
    phone.goto(f"{live_server}/measures/report?team=all")
    assert "Measures report" in phone.locator("h1").inner_text()
    assert fits(phone)
    assert serious_axe_findings(phone) == []
    assert phone.locator(".main-nav").count() == 0


def test_the_dashboard_reads_right_to_left_in_arabic(phone, live_server, login):
    login(phone, NURSE)
    phone.goto(f"{live_server}/measures?team=all")
    phone.select_option("#site-language", "ar")
    phone.click("form.lang-switch button[type=submit]")
    phone.wait_for_load_state()
    try:
        assert phone.evaluate("document.documentElement.dir") == "rtl"
        assert "/measures" in phone.url
        assert fits(phone)
        assert serious_axe_findings(phone) == []
        chart = phone.locator("svg.measure-chart").first
        if chart.count():
            assert chart.get_attribute("direction") == "rtl"
        phone.screenshot(path=str(SHOTS / "measures-phone-ar.png"))
    finally:
        phone.select_option("#site-language", "en")
        phone.click("form.lang-switch button[type=submit]")
        phone.wait_for_load_state()
