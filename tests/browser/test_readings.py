"""James enters his weight on a 360 x 740 phone, from Home, and sees it on his goal's chart."""

from __future__ import annotations

from tests.browser.test_mobile import check_page


def test_james_enters_his_weight_and_sees_it_on_his_goals_chart(phone, live_server, login):
    login(phone, "james@demo.carecircle.test")
    assert phone.url.endswith("/home"), phone.url
    enter = phone.locator("a.reading-enter").first
    box = enter.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44
    enter.click()
    phone.wait_for_load_state()
    entry_url = phone.url
    assert "/reading" in entry_url
    field = phone.locator("#reading-value")
    assert field.get_attribute("inputmode") == "decimal"
    assert phone.locator(".reading-unit").first.inner_text() == "kg"
    # the main action on the first screen
    save = phone.locator("form.reading-form button[type=submit]")
    assert save.bounding_box()["y"] + 44 <= 740
    check_page(phone, entry_url)
    # a wrong number: a field error, nothing saved
    phone.fill("#reading-value", "8400")
    phone.click("form.reading-form button[type=submit]")
    assert phone.locator("#reading-value-error").is_visible()
    assert phone.locator("#reading-value").get_attribute("aria-invalid") == "true"
    phone.fill("#reading-value", "84.6")
    phone.click("form.reading-form button[type=submit]")
    phone.wait_for_load_state()
    assert phone.url.split("#")[0].endswith("/home"), phone.url
    assert "Saved: 84.6 kg." in phone.locator(".flashes").inner_text()
    assert phone.locator("a.reading-enter.is-done").count() == 1
    # the task's page: the reading, and the way to the goal it feeds
    phone.locator("a.reading-enter").first.click()
    phone.click("text=See your readings")
    phone.wait_for_load_state()
    assert "84.6 kg" in phone.locator(".reading-list").inner_text()
    check_page(phone, phone.url)
    phone.click("a.goal-link")
    phone.wait_for_load_state()
    caption = phone.locator("#goal-chart-caption").inner_text()
    assert "84.6 kg" in caption, caption
    check_page(phone, phone.url)
