"""Times of day on the page's clock, not the browser's (issue 16): in an English Chromium (the
phone fixture's locale is en-US, whose native time input shows "08:00 PM"), María's Spanish
quiet hours read "20:00", she can type a time either way and it is saved; James's English page
keeps the native time input."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

MARIA, JAMES = "maria@demo.carecircle.test", "james@demo.carecircle.test"


@pytest.fixture
def restore_quiet_hours(live_app):
    """The live server is shared: put everyone's quiet hours back."""
    from app.extensions import db
    from app.patients.models import PatientPreferences

    columns = (PatientPreferences.id, PatientPreferences.quiet_start, PatientPreferences.quiet_end)
    with live_app.app_context():
        before = db.session.execute(sa.select(*columns)).all()
    yield
    with live_app.app_context():
        for pid, start, end in before:
            db.session.execute(
                sa.update(PatientPreferences)
                .where(PatientPreferences.id == pid)
                .values(quiet_start=start, quiet_end=end)
            )
        db.session.commit()


def _reminders_url(phone) -> str:
    patient = re.search(r"/patients/(\d+)", phone.url)[1]
    return phone.url.split("/patients/")[0] + f"/patients/{patient}/reminders"


def test_a_spanish_page_shows_quiet_hours_on_a_24_hour_clock_and_saves_them(
    phone, live_server, login, restore_quiet_hours
):
    login(phone, MARIA)
    url = _reminders_url(phone)
    phone.goto(url)
    box = phone.locator("input[name=quiet_start]")
    assert box.get_attribute("type") == "text"  # not the browser's 12-hour time input
    assert re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", box.input_value())
    assert box.get_attribute("placeholder") == "20:00"
    height = box.bounding_box()["height"]
    assert height >= 44
    box.fill("8:00 PM")  # typed the way an English keyboard habit has it
    phone.locator("input[name=quiet_end]").fill("07:30")
    phone.locator("button[type=submit][data-main-action]").click()
    phone.wait_for_load_state()
    assert phone.locator(".error").count() == 0
    phone.goto(url)
    assert phone.locator("input[name=quiet_start]").input_value() == "20:00"
    assert phone.locator("input[name=quiet_end]").input_value() == "07:30"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    phone.locator("input[name=quiet_start]").fill("25:00")
    phone.locator("button[type=submit][data-main-action]").click()
    phone.wait_for_load_state()
    assert "Escriba una hora, por ejemplo 20:00." in phone.locator(".error").first.inner_text()
    phone.goto(url)
    assert phone.locator("input[name=quiet_start]").input_value() == "20:00"  # nothing changed


def test_an_english_page_keeps_the_native_time_input(phone, live_server, login):
    login(phone, JAMES)
    phone.goto(_reminders_url(phone))
    assert phone.locator("input[name=quiet_start]").get_attribute("type") == "time"
