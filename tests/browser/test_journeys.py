"""The everyday jobs on a 360 x 740 phone, counted in taps after sign-in: each takes at most 3.

A tap is a click on a link or a button; typing into a field or choosing in a list is not. Each
journey starts where sign-in lands and checks what the person would see at the end.
"""

from __future__ import annotations

import uuid

import pytest

MAX_TAPS = 3


class Taps:
    def __init__(self, page):
        self.page = page
        self.count = 0

    def tap(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.page.wait_for_load_state()
        self.count += 1


@pytest.fixture
def journey(phone, login):
    def start(who: str) -> Taps:
        login(phone, who)
        return Taps(phone)

    return start


def test_patient_sees_today_with_no_tap(journey):
    taps = journey("james@demo.carecircle.test")
    page = taps.page
    assert page.url.endswith("/patients/2/home")
    assert page.locator(".checklist").first.is_visible()
    assert taps.count == 0


def test_patient_marks_a_medicine_taken_in_one_tap(journey):
    taps = journey("maria@demo.carecircle.test")
    medicines = "h3.sub-head + ul.checklist"
    medicine = taps.page.locator(f"{medicines} li:has(button.tick:not(.is-done))").first
    title = medicine.locator(".check-text").inner_text().splitlines()[0]
    taps.tap(f"{medicines} li:has-text('{title}') button.tick")
    assert taps.count <= MAX_TAPS
    taken = taps.page.locator(f"{medicines} li:has-text('{title}') button.tick.is-done")
    assert taken.count() == 1
    taken.first.click()  # put it back for the other tests on the shared demo data


def test_patient_opens_the_next_appointment_in_one_tap(journey):
    taps = journey("james@demo.carecircle.test")
    title = taps.page.locator(".tile-appointment .tile-title").inner_text()
    taps.tap(".tile-appointment .tile-main")
    assert taps.count <= MAX_TAPS
    assert "/plan/items/" in taps.page.url and title in taps.page.locator("h1").inner_text()


def test_patient_reads_and_answers_a_message_in_three_taps(journey):
    taps = journey("james@demo.carecircle.test")
    taps.tap(".tabbar a[href$='/messages']")
    taps.tap("main a[href*='/messages/']:not([href$='/new'])")
    words = f"Thank you, see you Thursday {uuid.uuid4().hex[:6]}"
    taps.page.fill("textarea[name=body]", words)
    taps.tap("button:has-text('Send reply')")
    assert taps.count <= MAX_TAPS
    assert words in taps.page.content()


def test_patient_checks_in_on_a_goal_in_two_taps(journey):
    taps = journey("james@demo.carecircle.test")
    taps.tap(".tile-waiting a:has-text('Time to check in')")
    page = taps.page
    if page.locator("input[name=value]").count():
        page.fill("input[name=value]", "7.4")
    note = f"Walked every day {uuid.uuid4().hex[:6]}"
    page.fill("textarea[name=note]", note)
    taps.tap("button:has-text('Save check-in')")
    assert taps.count <= MAX_TAPS
    assert note in page.content()


def test_patient_has_a_say_in_a_decision_in_three_taps(journey):
    taps = journey("james@demo.carecircle.test")
    taps.tap(".tile-waiting a:has-text('Have your say')")
    page = taps.page
    page.locator("input[name=preferred_option]").first.check()  # a choice, not a tap
    taps.tap("button:has-text('Save my choice')")
    assert taps.count <= MAX_TAPS
    assert page.locator(".flash, [role=status]").count() >= 1


def test_caregiver_acting_for_jim_reads_and_answers_in_three_taps(journey):
    taps = journey("ana@demo.carecircle.test")
    assert "Acting for Jim" in taps.page.content()
    taps.tap(".tabbar a[href$='/messages']")
    taps.tap("main a[href*='/messages/']:not([href$='/new'])")
    words = f"I will bring Dad on Thursday {uuid.uuid4().hex[:6]}"
    taps.page.fill("textarea[name=body]", words)
    taps.tap("button:has-text('Send reply')")
    assert taps.count <= MAX_TAPS
    assert words in taps.page.content()


def test_caregiver_marks_a_task_done_for_jim_in_one_tap(journey):
    taps = journey("ana@demo.carecircle.test")
    row = taps.page.locator(".checklist li:has(button.tick:not(.is-done))").first
    title = row.locator(".check-text").inner_text().splitlines()[0]
    taps.tap(f".checklist li:has-text('{title}') button.tick")
    assert taps.count <= MAX_TAPS
    undo = taps.page.locator(f".checklist li:has-text('{title}') button.tick.is-done")
    assert undo.count() == 1
    undo.first.click()


def test_staff_read_and_answer_from_the_inbox_in_three_taps(journey):
    taps = journey("nurse@demo.carecircle.test")
    taps.tap(".main-nav a[href^='/team/inbox']")
    taps.tap("main a[href*='/messages/']")
    words = f"I will call you this afternoon {uuid.uuid4().hex[:6]}"
    taps.page.fill("textarea[name=body]", words)
    taps.tap("button:has-text('Send to the patient')")
    assert taps.count <= MAX_TAPS
    assert words in taps.page.content()
