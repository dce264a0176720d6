"""Appointments on a 360 x 740 phone (issue 15, part 1): María confirms tomorrow's check-up from
the Home card and adds it to her calendar; Ana asks to change her father's heart check-up and
the nurse finds the request in the inbox."""

from __future__ import annotations

from icalendar import Calendar

from tests.browser.test_mobile import check_page

NURSE = "nurse@demo.carecircle.test"


def test_maria_confirms_from_home_and_adds_it_to_her_calendar(phone, live_server, login):
    login(phone, "maria@demo.carecircle.test")
    assert phone.url.endswith("/home"), phone.url
    card = phone.locator(".tile-appointment")
    assert "Cita de control de diabetes" in card.inner_text()
    bar = phone.locator(".tabbar").bounding_box()["y"]
    confirm = card.locator("button.appt-confirm")
    box = confirm.bounding_box()
    assert box["height"] >= 44 and box["y"] + box["height"] <= bar  # on the first screen
    check_page(phone, phone.url)

    confirm.click()
    phone.wait_for_load_state()
    assert phone.url.split("#")[0].endswith("/home")
    confirmed = phone.locator(".tile-appointment .appt-confirmed").inner_text()
    assert "Confirmada" in confirmed  # María reads Spanish (msgids in es-appointments.json)
    assert phone.locator(".tile-appointment button.appt-confirm").count() == 0

    with phone.expect_download() as info:
        phone.locator(".tile-appointment a[href$='calendar.ics']").click()
    download = info.value
    name = download.suggested_filename
    assert name.endswith(".ics") and "diabetes" not in name.lower()
    with open(download.path(), "rb") as file:
        data = file.read()
    cal = Calendar.from_ical(data)
    [event] = cal.walk("VEVENT")
    assert event["DTSTART"].dt.tzinfo.key == "America/Los_Angeles"
    assert event["DTSTART"].dt.hour == 10
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "America/Los_Angeles"
    text = data.decode()
    for word in ("diabetes", "Diabetes", "control", "Dr."):
        assert word not in text, word
    assert "Riverbend Family Clinic" in str(event["LOCATION"])


def test_ana_asks_to_change_and_the_nurse_sees_it(chromium, phone, live_server, login):
    login(phone, "ana@demo.carecircle.test")
    phone.goto(f"{live_server}/patients/2/plan")
    phone.locator("a:has-text('Heart check-up')").first.click()
    phone.wait_for_load_state()
    item_url = phone.url
    check_page(phone, item_url)
    phone.locator("a:has-text('Ask to change')").click()
    phone.wait_for_load_state()
    check_page(phone, phone.url)
    phone.fill("#note", "Mornings are better for Dad, I drive him.")
    phone.locator("select#part_1").select_option("morning")
    phone.locator("button[data-main-action]").click()
    phone.wait_for_load_state()
    assert phone.url == item_url
    assert "A change to this was asked for on" in phone.locator("main").inner_text()
    assert phone.locator("a:has-text('Ask to change')").count() == 0

    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    nurse = context.new_page()
    try:
        login(nurse, NURSE)
        nurse.goto(f"{live_server}/team/inbox?view=all")
        row = nurse.locator("a:has-text('Please help me change my appointment')").first
        assert row.count() == 1
        row.click()
        nurse.wait_for_load_state()
        body = nurse.locator("main").inner_text()
        assert "Mornings are better for Dad" in body and "Heart check-up" in body
        assert "Ana" in body
    finally:
        context.close()
