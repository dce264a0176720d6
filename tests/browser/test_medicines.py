"""Medicines on a 360 x 740 phone: María marks her metformin taken dose by dose from Home (and
undoes one); the pharmacist answers James's refill request from the inbox in one tap, and
James sees "Sent to pharmacy" on his medicine."""

from __future__ import annotations

from tests.browser.test_mobile import check_page

# One row per dose; a second dose of the same medicine shows only its time, so rows are found
# by their button, which names the medicine.
METFORMIN = "li.dose-row:has(button[aria-label*='metformina'])"


def test_maria_marks_metformin_taken_from_home_and_undoes_one(phone, live_server, login):
    login(phone, "maria@demo.carecircle.test")
    assert phone.url.endswith("/home"), phone.url
    rows = phone.locator(METFORMIN)
    assert rows.count() == 2  # twice a day: 08:00 and 20:00, one row each
    evening = rows.nth(1).inner_text()
    assert "8:00" in rows.nth(0).inner_text() and ("20:00" in evening or "8:00 PM" in evening)
    for i in range(2):
        button = rows.nth(i).locator("button.tick")
        box = button.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
        assert "is-done" not in (button.get_attribute("class") or "")
        button.click()
        phone.wait_for_load_state()
        assert phone.url.split("#")[0].endswith("/home")
        assert "is-done" in (
            phone.locator(METFORMIN).nth(i).locator("button").get_attribute("class")
        )
    # The evening one was a mistake: undo it.
    phone.locator(METFORMIN).nth(1).locator("button.tick").click()
    phone.wait_for_load_state()
    rows = phone.locator(METFORMIN)
    assert "is-done" in rows.nth(0).locator("button").get_attribute("class")
    assert "is-done" not in rows.nth(1).locator("button").get_attribute("class")
    # The medicine's page: today's doses and the 7-day strip, in words.
    rows.nth(0).locator("a.check-title").click()
    phone.wait_for_load_state()
    strip = phone.locator(".dose-strip li")
    assert strip.count() == 7
    assert strip.nth(6).locator(".strip-text").inner_text().strip()
    check_page(phone, phone.url)
    check_page(phone, phone.url.split("/plan/")[0] + "/home")


def test_the_pharmacist_answers_james_refill_and_james_sees_it(phone, live_server, login):
    login(phone, "pharmacist@demo.carecircle.test")
    phone.goto(f"{live_server}/team/inbox")
    link = phone.locator("a:has-text('Refill request: Apixaban')").first
    link.click()
    phone.wait_for_load_state()
    card = phone.locator(".refill-card")
    assert "Hillside Community Pharmacy" in card.inner_text()
    check_page(phone, phone.url)
    sent = phone.locator(".refill-card button:has-text('Sent to pharmacy')")
    box = sent.bounding_box()
    assert box["height"] >= 44
    sent.click()
    phone.wait_for_load_state()
    card = phone.locator(".refill-card")
    assert "Dev Sharma" in card.inner_text()
    assert phone.locator(".refill-card button").count() == 0  # answered: no buttons left
    assert "Resolved" in phone.locator("main").inner_text()
    # James, on his phone: the state on his medicine.
    phone.context.clear_cookies()
    login(phone, "james@demo.carecircle.test")
    phone.goto(phone.url.split("/home")[0] + "/plan")
    phone.locator("a:has-text('Take your blood thinner')").first.click()
    phone.wait_for_load_state()
    refill = phone.locator(".med-refill")
    assert "Sent to pharmacy" in refill.inner_text()
    assert "Hillside Community Pharmacy" in refill.inner_text()
    check_page(phone, phone.url)
