"""The Delivery page says truthfully why each text waits or did not go out, in plain words
(issue 14: every waiting text "waited for quiet hours" even at noon, and statuses and reasons
showed as raw words: stored, queued, skipped, turned_off)."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime, time, timedelta

import pytest

from app.auth.models import Role
from app.extensions import db
from app.patients.models import PatientPreferences
from app.texting.models import OutboundSms
from tests.fixtures.browser import signed_in

#: Noon in Portland (the admin's and the patient's zone) on a December day.
NOON = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
#: 10:30 p.m. in Portland: the default quiet hours (8 p.m. to 9 a.m.) are in force.
LATE = datetime(2026, 12, 4, 6, 30, tzinfo=UTC)
#: 9 a.m. the next morning in Portland, when those quiet hours end.
MORNING = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
RAW_WORDS = (
    "queued",
    "stored",
    "skipped",
    "sending",
    "failed",
    "turned_off",
    "daily_limit",
    "no_access",
    "opted_out",
    "retries",
    "message_notice",
)


def text(patient, *, status="queued", send_after, user_id=None, purpose="medication", **kw):
    row = OutboundSms(
        to_number=kw.pop("to", "+15035550100"),
        user_id=user_id if user_id is not None else patient.user_id,
        patient_id=patient.id,
        purpose=purpose,
        locale="en",
        body="CareCircle: time for your reminder.",
        status=status,
        send_after=send_after,
        created_at=send_after - timedelta(hours=1),
        **kw,
    )
    db.session.add(row)
    db.session.commit()
    return row


def visible_text(page: str) -> str:
    """The words a person reads on the page (no tags, attributes or CSS class names)."""
    main = page.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def entry_of(page: str, n: int) -> str:
    """The words of the n-th text (newest first) on the page."""
    items = re.findall(r'<li class="sms">(.*?)</li>', page, re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", items[n])).split())


@pytest.fixture
def world(make_patient, make_user):
    return {
        "patient": make_patient(given="Dee", family="Tailed"),
        "admin": make_user(Role.ADMIN),
    }


def delivery(new_browser, admin) -> str:
    return signed_in(new_browser, admin).get("/admin/outbox").get_data(as_text=True)


def test_at_noon_a_planned_text_does_not_claim_to_wait_for_quiet_hours(
    world, new_browser, frozen_clock
):
    frozen_clock(NOON)
    text(world["patient"], send_after=NOON + timedelta(hours=3))
    page = delivery(new_browser, world["admin"])
    words = entry_of(page, 0)
    assert "quiet hours" not in words
    assert "Waiting" in words and "Planned for" in words and "3:00" in words


def test_a_text_due_now_says_so(world, new_browser, frozen_clock):
    frozen_clock(NOON)
    text(world["patient"], send_after=NOON - timedelta(minutes=1))
    words = entry_of(delivery(new_browser, world["admin"]), 0)
    assert "Due now" in words and "quiet hours" not in words


def test_at_night_a_text_pushed_to_the_end_of_quiet_hours_says_why(
    world, new_browser, frozen_clock
):
    frozen_clock(LATE)
    text(world["patient"], send_after=MORNING)
    words = entry_of(delivery(new_browser, world["admin"]), 0)
    assert "Waits for the person's quiet hours to end: 9:00" in words and "their time" in words


def test_at_night_a_text_planned_for_the_afternoon_is_only_planned(
    world, new_browser, frozen_clock
):
    frozen_clock(LATE)
    text(world["patient"], send_after=MORNING + timedelta(hours=5))
    words = entry_of(delivery(new_browser, world["admin"]), 0)
    assert "Planned for" in words and "quiet hours" not in words


def test_quiet_hours_are_the_recipients_in_their_own_time_zone(
    world, make_patient, new_browser, frozen_clock
):
    """6:30 p.m. in Portland is 9:30 p.m. in New York: a New Yorker's evening text waits for
    their quiet hours, though the admin's own are not in force."""
    frozen_clock(datetime(2026, 12, 4, 2, 30, tzinfo=UTC))
    east = make_patient(given="Eve", family="East", timezone="America/New_York")
    nine_ny = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)  # 9 a.m. in New York = 6 a.m. here
    text(east, send_after=nine_ny)
    text(world["patient"], send_after=nine_ny + timedelta(seconds=1))  # Portland: no quiet yet
    page = delivery(new_browser, world["admin"])
    portland, new_york = entry_of(page, 0), entry_of(page, 1)
    assert "quiet hours to end: 9:00" in new_york and "6:00" in new_york  # theirs, and ours
    assert "quiet hours" not in portland and "Planned for" in portland


def test_the_patients_own_quiet_hours_count(world, new_browser, frozen_clock):
    """Quiet hours from 11 a.m. to 1 p.m. (a nap): at noon the 1 p.m. text waits for them."""
    db.session.add(
        PatientPreferences(
            patient_id=world["patient"].id, quiet_start=time(11, 0), quiet_end=time(13, 0)
        )
    )
    db.session.commit()
    frozen_clock(NOON)
    text(world["patient"], send_after=NOON + timedelta(hours=1))
    words = entry_of(delivery(new_browser, world["admin"]), 0)
    assert "quiet hours to end: 1:00" in words


def test_a_helpers_text_waits_for_the_helpers_quiet_hours_in_the_helpers_zone(
    world, make_user, new_browser, frozen_clock
):
    helper = make_user(Role.CAREGIVER, timezone="America/New_York")
    frozen_clock(datetime(2026, 12, 4, 2, 30, tzinfo=UTC))  # 9:30 p.m. in New York
    text(world["patient"], send_after=datetime(2026, 12, 4, 14, 0, tzinfo=UTC), user_id=helper.id)
    words = entry_of(delivery(new_browser, world["admin"]), 0)
    assert "quiet hours to end: 9:00" in words


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        ("skipped", "turned_off", "Not sent: the person turned these texts off"),
        ("skipped", "daily_limit", "Not sent: the daily limit of reminder texts was reached"),
        ("skipped", "no_access", "Not sent: who may get this text changed"),
        ("failed", "opted_out", "Not sent: this number texted STOP"),
        ("failed", "retries", "Not sent: the text service did not take it after several tries"),
        ("undelivered", "30003", "Not delivered: the phone was off or out of reach"),
        ("failed", "12345", "Not sent: error 12345 from the text service"),
        ("stored", None, "Kept on the test server"),
        ("delivered", None, "Delivered"),
        ("accepted", None, "Sent"),
    ],
)
def test_statuses_and_reasons_read_as_plain_words(
    world, new_browser, frozen_clock, status, code, expected
):
    frozen_clock(NOON)
    text(world["patient"], status=status, error_code=code, send_after=NOON - timedelta(hours=1))
    page = delivery(new_browser, world["admin"])
    assert expected in entry_of(page, 0)
    words = visible_text(page)
    for raw in RAW_WORDS:
        assert not re.search(rf"\b{raw}\b", words), raw


def test_a_text_being_sent_and_one_with_no_answer(world, new_browser, frozen_clock):
    frozen_clock(NOON)
    text(
        world["patient"],
        status="sending",
        lease_until=NOON + timedelta(seconds=30),
        send_after=NOON - timedelta(minutes=2),
    )
    text(
        world["patient"],
        status="sending",
        lease_until=NOON - timedelta(seconds=1),
        send_after=NOON - timedelta(minutes=1),
    )
    page = delivery(new_browser, world["admin"])
    assert "No answer from the text service yet" in entry_of(page, 0)
    assert "Being handed to the text service now" in entry_of(page, 1)


def test_a_retry_says_the_last_try_failed_not_quiet_hours(world, new_browser, frozen_clock):
    frozen_clock(LATE)
    text(world["patient"], send_after=LATE + timedelta(minutes=4), attempts=1)
    words = entry_of(delivery(new_browser, world["admin"]), 0)
    assert "The last try did not go through. Next try:" in words and "quiet" not in words


def test_an_unknown_purpose_is_not_shown_as_a_raw_word(world, new_browser, frozen_clock):
    frozen_clock(NOON)
    text(world["patient"], purpose="message_notice", status="stored", send_after=NOON)
    words = visible_text(delivery(new_browser, world["admin"]))
    assert "message_notice" not in words and "Text" in words


def test_the_page_still_never_shows_a_body_or_a_name(world, new_browser, frozen_clock):
    frozen_clock(LATE)
    text(world["patient"], send_after=MORNING)
    page = delivery(new_browser, world["admin"])
    assert "time for your reminder" not in page
    assert "Dee" not in page and "Tailed" not in page


def test_reasons_for_many_waiting_texts_cost_the_same_queries(
    make_patient, make_user, new_browser, frozen_clock, count_queries
):
    frozen_clock(LATE)
    admin = signed_in(new_browser, make_user(Role.ADMIN))
    helper = make_user(Role.CAREGIVER)

    def queries() -> int:
        with count_queries() as counter:
            assert admin.get("/admin/outbox").status_code == 200
        return counter.count

    for _ in range(2):
        patient = make_patient()
        text(patient, send_after=MORNING)
        text(patient, send_after=MORNING, user_id=helper.id)
    few = queries()
    for _ in range(8):
        patient = make_patient()
        text(patient, send_after=MORNING)
        text(patient, send_after=MORNING, user_id=helper.id)
    assert queries() == few
