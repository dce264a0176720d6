"""Writing to the team on a 360 x 740 phone (issue 15, part 4): María writes "Tengo dolor en el
pecho desde anoche" with only the topic chosen, and her thread says when to expect an answer."""

from __future__ import annotations

from tests.browser.test_mobile import check_page

CHEST_PAIN = "Tengo dolor en el pecho desde anoche"


def test_maria_sends_chest_pain_with_only_the_topic(phone, live_server, login):
    login(phone, "maria@demo.carecircle.test")
    new = f"{live_server}/patients/1/messages/new"
    check_page(phone, new)
    form = phone.locator("form[enctype='multipart/form-data']")
    # Nothing is chosen for her: sending now would go nowhere in particular.
    assert phone.locator("#topic").input_value() == ""
    box = phone.locator("#topic").bounding_box()
    assert box["height"] >= 44 and box["y"] + box["height"] <= 740  # on the first screen
    phone.select_option("#topic", "symptoms")
    phone.fill("#body", CHEST_PAIN)
    form.locator("button[type=submit]").click()
    phone.wait_for_load_state()
    assert "/patients/1/messages/" in phone.url and not phone.url.endswith("/new")
    assert phone.locator("h1.convo-title").inner_text() == CHEST_PAIN
    expect = phone.locator("#expect")
    assert expect.is_visible()
    assert "4" in expect.inner_text()  # symptoms: the team's 4-hour target, in her words
    box = expect.bounding_box()
    assert box["y"] + box["height"] <= 740  # she sees it without scrolling
    check_page(phone, phone.url)
