"""Readings: a task that asks for a number. Who may enter one (and see it), what a wrong number
does (nothing), what a double submit does (one reading, one check-in), the team's rules and the
flags they raise, "Seen" by one of two nurses, the team's summary and inbox."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.careplan.goals.models import Goal, GoalAchievement, GoalCheckIn, GoalLifecycle
from app.careplan.items.models import ItemKind, PlanItem, ReadingKind, TaskCompletion
from app.careplan.items.readings import AlertRule, AlertStatus, Reading, ReadingAlert
from app.core.audit import AuditEvent
from app.core.privacy import Sensitivity
from app.extensions import db
from app.team.models import Discipline
from tests.fixtures.browser import signed_in
from tests.fixtures.plan import add


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def world(two_patients, make_member, assign):
    w = two_patients
    goal = Goal(
        patient_id=w.patient.id,
        description="Keep my weight steady",
        target_value=84.0,
        target_unit="kg",
        higher_is_better=False,
        lifecycle_status=GoalLifecycle.ACTIVE,
        achievement_status=GoalAchievement.IN_PROGRESS,
        expressed_by_capacity="patient",
    )
    db.session.add(goal)
    db.session.commit()
    task = add(
        w.patient,
        w.org,
        title="Weigh yourself every morning",
        reading_kind=ReadingKind.WEIGHT,
        reading_unit="kg",
        goal_id=goal.id,
        alert_above=120.0,
        alert_below=40.0,
        alert_rise=2.0,
        alert_rise_days=3,
    )
    mood = add(
        w.patient,
        w.org,
        title="How is your mood?",
        reading_kind=ReadingKind.MOOD,
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )
    pressure = add(
        w.patient,
        w.org,
        title="Check your blood pressure",
        reading_kind=ReadingKind.BLOOD_PRESSURE,
        reading_unit="mmHg",
        alert_above=160.0,
        alert_above2=100.0,
    )
    other_task = add(
        w.other,
        w.org,
        title="Count your steps",
        reading_kind=ReadingKind.STEPS,
        reading_unit="steps",
    )
    second_nurse = make_member(org=w.org, name="Second Nurse")
    assign(w.patient, second_nurse)
    return {
        "w": w,
        "goal": goal,
        "task": task,
        "mood": mood,
        "pressure": pressure,
        "other_task": other_task,
        "plan_cg": w.helper("Ana Carter", ["plan"]),
        "bare_cg": w.helper(scopes=[]),
        "second_nurse": db.session.get(type(w.member_user), second_nurse.user_id),
    }


def url(patient, item, what="reading"):
    return f"/patients/{patient.id}/plan/items/{item.id}/{what}"


def enter(browser, patient, item, day=None, **values):
    day = day or patient.today()
    return browser.post(
        url(patient, item), {"day": day.isoformat(), **values}, form_url=url(patient, item)
    )


# ------------------------------------------------------------------ who


@pytest.mark.parametrize(
    "who,expected",
    [
        ("patient", 302),
        ("plan_cg", 302),
        ("team", 302),
        ("bare_cg", 404),
        ("other_team", 404),
        ("other_patient", 404),
        ("admin", 404),
    ],
)
def test_who_may_enter_a_reading(world, new_browser, who, expected):
    w = world["w"]
    users = {
        "patient": w.patient_user,
        "plan_cg": world["plan_cg"],
        "bare_cg": world["bare_cg"],
        "team": w.member_user,
        "other_team": w.other_member_user,
        "other_patient": w.other_user,
        "admin": w.admin,
    }
    b = signed_in(new_browser, users[who])
    assert b.get(url(w.patient, world["task"])).status_code == (200 if expected == 302 else 404)
    response = b.post(
        url(w.patient, world["task"]),
        {"day": w.patient.today().isoformat(), "value": "84.2"},
        form_url="/auth/account",
    )
    assert response.status_code == expected
    assert count(Reading) == (1 if expected == 302 else 0)
    assert count(GoalCheckIn) == (1 if expected == 302 else 0)


def test_another_patients_task_through_my_record_is_404(world, new_browser):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    # Maria's task id under James's record, and James's task under Maria's record
    assert enter(b, w.patient, world["other_task"], value="5000").status_code == 404
    response = b.post(
        url(w.other, world["task"]),
        {"day": w.other.today().isoformat(), "value": "84"},
        form_url="/auth/account",
    )
    assert response.status_code == 404
    assert count(Reading) == 0


def test_a_caregiver_without_the_category_gets_404_also_after_reclassification(world, new_browser):
    w = world["w"]
    cg = signed_in(new_browser, world["plan_cg"])
    assert cg.get(url(w.patient, world["mood"])).status_code == 404
    assert enter(cg, w.patient, world["mood"], value="3").status_code == 404
    # the weight task becomes sensitive: gone for her, the page, the POST and the summary
    world["task"].sensitivity = Sensitivity.BEHAVIORAL_HEALTH
    db.session.commit()
    assert cg.get(url(w.patient, world["task"])).status_code == 404
    assert enter(cg, w.patient, world["task"], value="84").status_code == 404
    assert cg.get(f"/patients/{w.patient.id}/plan/items/{world['task'].id}").status_code == 404
    assert count(Reading) == 0


def test_a_plain_task_has_no_entry(world, new_browser):
    w = world["w"]
    plain = add(w.patient, w.org, title="Walk after dinner")
    b = signed_in(new_browser, w.patient_user)
    assert b.get(url(w.patient, plain)).status_code == 404
    assert enter(b, w.patient, plain, value="3").status_code == 404


# ------------------------------------------------------------------ entering


def test_entering_completes_the_task_feeds_the_goal_and_shows_on_its_chart(world, new_browser):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    response = enter(b, w.patient, world["task"], value="84.2", back="home")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/home#item-{world['task'].id}")
    assert count(TaskCompletion, TaskCompletion.item_id == world["task"].id) == 1
    check_in = db.session.scalar(sa.select(GoalCheckIn))
    assert check_in.value == 84.2 and check_in.goal_id == world["goal"].id
    goal_page = b.get(f"/patients/{w.patient.id}/goals/{world['goal'].id}").get_data(as_text=True)
    assert "84.2 kg" in goal_page
    item_page = b.get(f"/patients/{w.patient.id}/plan/items/{world['task'].id}")
    html = item_page.get_data(as_text=True)
    assert "84.2 kg" in html and "Your readings" in html
    assert "Mark done for today" not in html  # the number is the way to tick it off


def test_entering_again_changes_the_days_reading_and_its_check_in(world, new_browser):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    assert enter(b, w.patient, world["task"], value="84.2").status_code == 302
    assert enter(b, w.patient, world["task"], value="83,9").status_code == 302  # a comma too
    assert count(Reading) == 1 and count(GoalCheckIn) == 1
    assert db.session.scalar(sa.select(Reading.value)) == 83.9
    assert db.session.scalar(sa.select(GoalCheckIn.value)) == 83.9


def test_a_double_submit_makes_one_reading_and_one_check_in(world, new_browser):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    page = b.page(url(w.patient, world["task"]))
    from tests.fixtures.browser import csrf_from, key_from

    data = {
        "csrf_token": csrf_from(page),
        "idempotency_key": key_from(page),
        "day": w.patient.today().isoformat(),
        "value": "84.4",
    }
    first = b.client.post(url(w.patient, world["task"]), data=data)
    second = b.client.post(url(w.patient, world["task"]), data=data)
    assert first.status_code == second.status_code == 302
    assert count(Reading) == 1 and count(GoalCheckIn) == 1
    assert count(TaskCompletion) == 1


@pytest.mark.parametrize(
    "value",
    ["abc", "84\x00", "1e309", "-5", "0", "301", "nan", "", "8" * 30, "84.2.1", "inf"],
)
def test_wrong_numbers_are_a_field_error_and_nothing_is_written(world, new_browser, value):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    response = enter(b, w.patient, world["task"], value=value)
    if "\x00" in value:  # refused before any view runs (app-wide), with a clear 400
        assert response.status_code == 400
    else:
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert 'class="error"' in page and 'aria-invalid="true"' in page
    assert count(Reading) == 0 and count(TaskCompletion) == 0 and count(GoalCheckIn) == 0


@pytest.mark.parametrize("day", ["+1", "-7", "-4000", "9999-12-31", "yesterday", "2026-13-01"])
def test_a_day_outside_the_past_week_is_refused(world, new_browser, day):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    if day[0] in "+-":
        day = (w.patient.today() + timedelta(days=int(day))).isoformat()
    response = b.post(
        url(w.patient, world["task"]),
        {"day": day, "value": "84"},
        form_url=url(w.patient, world["task"]),
    )
    assert response.status_code == 422
    assert "Choose today or a day in the past week." in response.get_data(as_text=True)
    assert count(Reading) == 0


def test_blood_pressure_needs_both_numbers_in_range(world, new_browser):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    pressure = world["pressure"]
    assert enter(b, w.patient, pressure, value="130").status_code == 422
    assert enter(b, w.patient, pressure, value="130", value2="200").status_code == 422
    assert enter(b, w.patient, pressure, value="130.5", value2="80").status_code == 422
    assert enter(b, w.patient, pressure, value="80", value2="90").status_code == 422
    assert count(Reading) == 0
    assert enter(b, w.patient, pressure, value="132", value2="85").status_code == 302
    reading = db.session.scalar(sa.select(Reading))
    assert (reading.value, reading.value2, reading.unit) == (132, 85, "mmHg")
    assert count(ReadingAlert) == 0


def test_mood_is_one_of_five_buttons(world, new_browser):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    page = b.get(url(w.patient, world["mood"])).get_data(as_text=True)
    assert page.count('class="mood-button secondary"') == 5
    assert enter(b, w.patient, world["mood"], value="6").status_code == 422
    assert enter(b, w.patient, world["mood"], value="2.5").status_code == 422
    assert enter(b, w.patient, world["mood"], value="4").status_code == 302
    assert db.session.scalar(sa.select(Reading.value)) == 4


# ------------------------------------------------------------------ rules and flags


def test_a_rise_within_the_days_raises_one_flag_and_a_calm_note(world, new_browser):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    today = w.patient.today()
    for back, kilos in [(4, "83.5"), (3, "84.0"), (2, "84.5"), (1, "85.1")]:
        assert enter(b, w.patient, world["task"], day=today - timedelta(back), value=kilos)
    assert count(ReadingAlert) == 0  # each day less than 2 kg above the 3 days before
    # lowest of the three days before today is 84.0 (83.5 is four days back): +1.9, no flag
    enter(b, w.patient, world["task"], value="85.9")
    assert count(ReadingAlert) == 0
    response = enter(b, w.patient, world["task"], value="86.3")  # +2.3 in 3 days
    assert response.status_code == 302
    alert = db.session.scalar(sa.select(ReadingAlert))
    assert (alert.rule, alert.status, alert.days) == (AlertRule.RISE, AlertStatus.OPEN, 3)
    assert round(alert.change, 2) == 2.3
    home = text(b.get(response.headers["Location"]))
    assert "Your care team will look at this reading." in home
    flashes = home[home.index('class="flashes"') : home.index("</main>")].lower()
    for word in ("diagnos", "danger", "emergency", "heart failure", "alert"):
        assert word not in flashes
    # corrected to a number that breaks no rule: the unseen flag goes away
    enter(b, w.patient, world["task"], value="85.0")
    assert count(ReadingAlert) == 0 and count(Reading) == 5


@pytest.mark.parametrize(
    "item,values,rule",
    [
        ("task", {"value": "121"}, AlertRule.ABOVE),
        ("task", {"value": "39"}, AlertRule.BELOW),
        ("pressure", {"value": "161", "value2": "90"}, AlertRule.ABOVE),
        ("pressure", {"value": "150", "value2": "101"}, AlertRule.ABOVE_BOTTOM),
        ("task", {"value": "120"}, None),
        ("pressure", {"value": "160", "value2": "100"}, None),
    ],
)
def test_above_and_below_rules(world, new_browser, item, values, rule):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    assert enter(b, w.patient, world[item], **values).status_code == 302
    rules = list(db.session.scalars(sa.select(ReadingAlert.rule)))
    assert rules == ([rule] if rule else [])


def test_the_inbox_lists_the_members_own_patients_flags_and_one_of_two_nurses_marks_seen(
    world, new_browser, make_member, assign
):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    enter(b, w.patient, world["task"], value="121")
    mine = signed_in(new_browser, w.member_user)
    second = signed_in(new_browser, world["second_nurse"])
    other = signed_in(new_browser, w.other_member_user)
    inbox = text(mine.get("/team/inbox"))
    assert "Readings to look at" in inbox
    assert "Weight 121 kg on" in inbox and "above the team's limit of 120 kg" in inbox
    assert "Readings to look at" not in other.get("/team/inbox").get_data(as_text=True)
    # On the patient's team, but a pharmacist: readings are for nursing and primary care.
    pharmacist = make_member(Discipline.PHARMACY, org=w.org, name="Team Pharmacist")
    assign(w.patient, pharmacist)
    db.session.commit()
    pharmacy = signed_in(new_browser, db.session.get(type(w.member_user), pharmacist.user_id))
    assert "Readings to look at" not in pharmacy.get("/team/inbox").get_data(as_text=True)
    alert = db.session.scalar(sa.select(ReadingAlert))
    seen_url = f"/patients/{w.patient.id}/reading-alerts/{alert.id}/seen"
    # the other patient's nurse, the patient and a caregiver cannot mark it
    for outsider in (other, b, signed_in(new_browser, world["plan_cg"])):
        assert outsider.post(seen_url, {}, form_url="/auth/account").status_code == 404
    # another patient's record in the path: 404
    wrong = f"/patients/{w.other.id}/reading-alerts/{alert.id}/seen"
    assert other.post(wrong, {}, form_url="/auth/account").status_code == 404
    first = mine.post(seen_url, {}, form_url="/team/inbox")
    again = second.post(seen_url, {}, form_url="/team/inbox")
    assert first.status_code == again.status_code == 302
    db.session.expire_all()
    alert = db.session.get(ReadingAlert, alert.id)
    assert alert.status is AlertStatus.SEEN and alert.seen_by_id == w.member_user.id
    assert "Someone on the team already saw this." in second.page("/team/inbox")
    assert "Readings to look at" not in mine.get("/team/inbox").get_data(as_text=True)
    assert (
        count(
            AuditEvent,
            AuditEvent.resource_id == f"reading-alert-{alert.id}",
            AuditEvent.action == "update",
        )
        == 1
    )


def test_the_inbox_list_is_bounded(world, new_browser, count_queries):
    w = world["w"]
    task = world["task"]
    nurse = signed_in(new_browser, w.member_user)
    nurse.get("/team/inbox")

    def queries():
        with count_queries() as c:
            assert nurse.get("/team/inbox").status_code == 200
        return c.count

    def flags(n, start):
        today = w.patient.today()
        for i in range(n):
            reading = Reading(
                patient_id=w.patient.id,
                item_id=task.id,
                for_date=today - timedelta(days=start + i),
                value=130,
                unit="kg",
                capacity="patient",
            )
            db.session.add(reading)
            db.session.flush()
            db.session.add(
                ReadingAlert(
                    patient_id=w.patient.id,
                    item_id=task.id,
                    reading_id=reading.id,
                    rule=AlertRule.ABOVE,
                    for_date=reading.for_date,
                    value=130,
                    unit="kg",
                    threshold=120,
                )
            )
        db.session.commit()

    flags(1, 0)
    small = queries()
    flags(30, 1)
    assert queries() == small
    page = nurse.get("/team/inbox").get_data(as_text=True)
    assert page.count('class="reading-alert"') == 20
    assert "Showing the newest 20." in page


# ------------------------------------------------------------------ the team's summary


def test_the_summary_shows_the_series_newest_first_with_flags_without_growing(
    world, new_browser, count_queries
):
    w = world["w"]
    b = signed_in(new_browser, w.patient_user)
    today = w.patient.today()
    enter(b, w.patient, world["task"], day=today - timedelta(1), value="84.0")
    enter(b, w.patient, world["task"], value="121")
    nurse = signed_in(new_browser, w.member_user)
    summary = f"/patients/{w.patient.id}"
    page = text(nurse.get(summary))
    card = page[page.index("readings-summary-heading") :]
    assert card.index("121 kg") < card.index("84 kg")
    assert "above the team's limit of 120 kg" in card
    with count_queries() as c:
        nurse.get(summary)
    small = c.count
    for back in range(2, 7):
        enter(b, w.patient, world["task"], day=today - timedelta(back), value="84.0")
    enter(b, w.patient, world["pressure"], value="120", value2="80")
    with count_queries() as c:
        page = text(nurse.get(summary))
    assert c.count == small
    card = page[page.index("readings-summary-heading") :]
    assert card.count("84 kg") == 4  # five per task, newest first
    # a caregiver's summary ("My details") has no team card
    cg = signed_in(new_browser, world["plan_cg"]).get(summary).get_data(as_text=True)
    assert "readings-summary-heading" not in cg


# ------------------------------------------------------------------ the team's item form


def test_the_team_sets_the_number_unit_goal_and_rules(world, new_browser):
    w = world["w"]
    nurse = signed_in(new_browser, w.member_user)
    other_goal = Goal(
        patient_id=w.other.id,
        description="Maria's goal",
        lifecycle_status=GoalLifecycle.ACTIVE,
        expressed_by_capacity="patient",
    )
    db.session.add(other_goal)
    db.session.commit()
    base = {
        "title": "Check your sugar",
        "area": "physical_health",
        "status": "active",
        "discipline": "nursing",
        "source_organization": w.org.id,
        "owner": "patient",
        "sensitivity": "",
        "schedule": "daily",
        "reading_kind": "blood_sugar",
    }
    new = f"/patients/{w.patient.id}/plan/new/task"
    before = count(PlanItem)
    bad = [
        {"reading_unit": "kg"},
        {"reading_unit": "mg/dL", "goal": str(other_goal.id)},
        {"reading_unit": "mg/dL", "alert_above": "1e309"},
        {"reading_unit": "mg/dL", "alert_above2": "90"},
        {"reading_unit": "mg/dL", "alert_rise": "20"},
        {"reading_unit": "mg/dL", "alert_below": "abc\x00"},
    ]
    for extra in bad:
        expected = 400 if any("\x00" in v for v in extra.values()) else 422  # NUL: refused app-wide
        assert nurse.post(new, {**base, **extra}).status_code == expected, extra
    assert count(PlanItem) == before
    ok = nurse.post(
        new,
        {
            **base,
            "reading_unit": "mg/dL",
            "goal": str(world["goal"].id),
            "alert_above": "250",
            "alert_below": "70",
        },
    )
    assert ok.status_code == 302
    item = db.session.scalar(sa.select(PlanItem).where(PlanItem.title == "Check your sugar"))
    assert (item.reading_kind, item.reading_unit, item.goal_id) == (
        ReadingKind.BLOOD_SUGAR,
        "mg/dL",
        world["goal"].id,
    )
    assert (item.alert_above, item.alert_below, item.alert_above2) == (250, 70, None)
    edit = nurse.get(f"/patients/{w.patient.id}/plan/items/{item.id}/edit").get_data(as_text=True)
    assert 'value="250"' in edit and 'value="70"' in edit
    assert item.kind is ItemKind.TASK
