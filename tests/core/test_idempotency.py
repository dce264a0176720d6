"""Writes happen once (issue 12, finding 8): every form that creates something carries an
idempotency key, and the same submit twice (one after the other, or at the same instant)
creates one thing and sends both to it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.caregivers.models import CaregiverInvitation
from app.careplan.goals.models import Goal, GoalAchievement, GoalCheckIn, GoalLifecycle
from app.careplan.items.models import PlanItem
from app.core import idempotency
from app.core.db import utcnow
from app.core.idempotency import IdempotencyKey
from app.extensions import db
from app.messaging import services as messaging
from app.messaging.models import Message, Thread, Topic
from tests.fixtures.browser import csrf_from, key_from, signed_in
from tests.fixtures.concurrency import race

ROUNDS = 10


@dataclass
class Case:
    """One creating form: who fills it in, where it is shown and sent, what it makes."""

    who: str  # a user of the two_patients world
    form: Callable  # (world, ids) -> the page the form is on
    action: Callable  # (world, ids) -> where it is sent
    data: dict
    model: type
    already: str


def _thread_url(w, ids):
    return f"/patients/{w.patient.id}/messages/{ids['thread']}"


def _goal_url(w, ids):
    return f"/patients/{w.patient.id}/goals/{ids['goal']}"


CASES = {
    "new thread": Case(
        "patient_user",
        lambda w, ids: f"/patients/{w.patient.id}/messages/new",
        lambda w, ids: f"/patients/{w.patient.id}/messages/new",
        {"topic": "medication", "subject": "My pills", "body": "Can I take them with food?"},
        Thread,
        "That was already sent.",
    ),
    "reply": Case(
        "patient_user",
        _thread_url,
        _thread_url,
        {"body": "One more thing about my pills."},
        Message,
        "That was already sent.",
    ),
    "goal": Case(
        "patient_user",
        lambda w, ids: f"/patients/{w.patient.id}/goals/new",
        lambda w, ids: f"/patients/{w.patient.id}/goals/new",
        {"description": "Walk to the park", "direction": ""},
        Goal,
        "That was already saved.",
    ),
    "check-in": Case(
        "patient_user",
        _goal_url,
        lambda w, ids: _goal_url(w, ids) + "/check-ins",
        {"note": "Walked three days"},
        GoalCheckIn,
        "That was already saved.",
    ),
    "plan item": Case(
        "member_user",
        lambda w, ids: f"/patients/{w.patient.id}/plan/new/education",
        lambda w, ids: f"/patients/{w.patient.id}/plan/new/education",
        {
            "title": "Read about foot care",
            "area": "physical_health",
            "status": "active",
            "discipline": "nursing",
            "owner": "patient",
            "sensitivity": "",
        },
        PlanItem,
        "That was already saved.",
    ),
    "caregiver invitation": Case(
        "patient_user",
        lambda w, ids: f"/patients/{w.patient.id}/caregivers/invite",
        lambda w, ids: f"/patients/{w.patient.id}/caregivers/invite",
        {
            "full_name": "Ana Walker",
            "email": "ana.walker@example.test",
            "relationship": "daughter",
            "scopes": ["plan"],
        },
        CaregiverInvitation,
        "That was already sent.",
    ),
}


@pytest.fixture
def world(two_patients):
    w = two_patients
    thread = messaging.start_thread(
        patient_id=w.patient.id,
        topic=Topic.MEDICATION,
        subject="Pills",
        body="A question about my pills.",
        author_id=w.patient_user.id,
        capacity="patient",
    )
    goal = Goal(
        patient_id=w.patient.id,
        description="Walk 20 minutes after dinner",
        lifecycle_status=GoalLifecycle.ACTIVE,
        achievement_status=GoalAchievement.IN_PROGRESS,
        expressed_by_id=w.patient_user.id,
        expressed_by_capacity="patient",
    )
    db.session.add(goal)
    db.session.commit()
    return w, {"thread": thread.id, "goal": goal.id}


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def form_data(case: Case, w) -> dict:
    data = dict(case.data)
    if case.model is PlanItem:
        data["source_organization"] = str(w.org.id)
    return data


def open_form(browser, url: str) -> tuple[str, str, str]:
    """The form's page as a browser gets it: (html, CSRF token, idempotency key)."""
    page = browser.get(url)
    assert page.status_code == 200, url
    html = page.get_data(as_text=True)
    key = key_from(html)
    assert key, f"{url}: the creating form has no idempotency key"
    return html, csrf_from(html), key


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_submit_twice_creates_once_and_both_land_on_it(world, new_browser, name):
    w, ids = world
    case = CASES[name]
    browser = signed_in(new_browser, getattr(w, case.who))
    _html, token, key = open_form(browser, case.form(w, ids))
    data = {**form_data(case, w), "csrf_token": token, "idempotency_key": key}
    before = count(case.model)

    first = browser.client.post(case.action(w, ids), data=data)
    second = browser.client.post(case.action(w, ids), data=data)

    assert first.status_code == second.status_code == 302, text(second)[:500]
    assert second.headers["Location"] == first.headers["Location"]
    assert count(case.model) == before + 1
    landed = browser.get(second.headers["Location"])
    assert case.already in text(landed)
    # A form opened again is a new key: it creates again.
    _html, token, key = open_form(browser, case.form(w, ids))
    data.update(csrf_token=token, idempotency_key=key)
    if case.model is CaregiverInvitation:
        data["email"] = "someone.else@example.test"
    assert browser.client.post(case.action(w, ids), data=data).status_code == 302
    assert count(case.model) == before + 2


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_form_without_a_good_key_creates_nothing_and_comes_back_with_one(
    world, new_browser, name
):
    w, ids = world
    case = CASES[name]
    browser = signed_in(new_browser, getattr(w, case.who))
    _html, token, _key = open_form(browser, case.form(w, ids))
    before = count(case.model)
    for bad in (
        {},
        {"idempotency_key": ""},
        {"idempotency_key": "short"},
        {"idempotency_key": "x" * 65},
        {"idempotency_key": "é" * 32},
        {"idempotency_key": "<script>" * 4},
    ):
        data = {**form_data(case, w), "csrf_token": token, **bad}
        response = browser.client.post(case.action(w, ids), data=data)
        assert response.status_code == 422, (bad, response.status_code)
        assert "This form was out of date." in text(response)
        fresh = key_from(text(response))
        assert fresh and re.fullmatch(r"[A-Za-z0-9_-]{32}", fresh)
        assert count(case.model) == before
    # The form as shown again can be sent.
    data = {**form_data(case, w), "csrf_token": token, "idempotency_key": fresh}
    assert browser.client.post(case.action(w, ids), data=data).status_code == 302
    assert count(case.model) == before + 1


def test_a_form_shown_again_with_errors_keeps_its_key(world, new_browser):
    w, _ids = world
    browser = signed_in(new_browser, w.patient_user)
    url = f"/patients/{w.patient.id}/messages/new"
    _html, token, key = open_form(browser, url)
    data = {"csrf_token": token, "idempotency_key": key, "topic": "medication", "subject": "Hi"}

    again = browser.client.post(url, data=data)  # no body: an error
    assert again.status_code == 422
    assert key_from(text(again)) == key
    assert count(IdempotencyKey) == 0  # an invalid form claims nothing

    data["body"] = "Now with a message."
    sent = browser.client.post(url, data=data)
    double = browser.client.post(url, data=data)
    assert sent.status_code == double.status_code == 302
    assert double.headers["Location"] == sent.headers["Location"]
    assert count(Thread) == 2  # the world's one, and this one


def test_a_refused_submit_keeps_its_key_free(world, new_browser):
    """A submit the rules refuse (409) rolls its claim back with everything else: the same
    form, sent again once the rule allows it, creates."""
    w, ids = world
    browser = signed_in(new_browser, w.patient_user)
    _html, token, key = open_form(browser, _goal_url(w, ids))
    goal = db.session.get(Goal, ids["goal"])
    goal.lifecycle_status = GoalLifecycle.COMPLETED
    db.session.commit()
    data = {"csrf_token": token, "idempotency_key": key, "note": "Walked"}

    assert browser.client.post(_goal_url(w, ids) + "/check-ins", data=data).status_code == 409
    assert count(IdempotencyKey) == 0

    goal.lifecycle_status = GoalLifecycle.ACTIVE
    db.session.commit()
    assert browser.client.post(_goal_url(w, ids) + "/check-ins", data=data).status_code == 302
    assert count(GoalCheckIn) == 1


def test_someone_elses_key_is_refused_not_followed(world, new_browser):
    """A key is one person's submit of one form: another account sending it (or the same key
    sent to another form) is refused and sees nothing of what it made."""
    w, ids = world
    patient = signed_in(new_browser, w.patient_user)
    url = f"/patients/{w.patient.id}/messages/new"
    _html, token, key = open_form(patient, url)
    data = {**CASES["new thread"].data, "csrf_token": token, "idempotency_key": key}
    made = patient.client.post(url, data=data)
    assert made.status_code == 302

    nurse = signed_in(new_browser, w.member_user)
    _html, nurse_token, _ = open_form(nurse, _thread_url(w, ids))
    stolen = nurse.client.post(
        _thread_url(w, ids),
        data={"csrf_token": nurse_token, "idempotency_key": key, "body": "Hello"},
    )
    assert stolen.status_code == 409
    assert "That form was already used." in text(stolen)
    assert made.headers["Location"] not in text(stolen)
    other_form = patient.client.post(
        _thread_url(w, ids), data={"csrf_token": token, "idempotency_key": key, "body": "Hi"}
    )
    assert other_form.status_code == 409
    assert count(Message) == 2  # the world's thread's first message, and the new thread's


def test_day_old_keys_are_purged_by_the_claims_themselves(world, new_browser, monkeypatch):
    w, _ids = world
    now = utcnow()
    for key, age in (("o" * 32, timedelta(days=2)), ("n" * 32, timedelta(hours=2))):
        db.session.add(
            IdempotencyKey(
                key=key,
                user_id=w.patient_user.id,
                endpoint="messaging.new_thread",
                result_url="/",
                created_at=now - age,
            )
        )
    db.session.commit()
    monkeypatch.setattr(idempotency, "PURGE_EVERY", 1)
    browser = signed_in(new_browser, w.patient_user)
    assert (
        browser.post(f"/patients/{w.patient.id}/messages/new", CASES["new thread"].data).status_code
        == 302
    )
    db.session.expire_all()
    kept = set(db.session.scalars(sa.select(IdempotencyKey.key)))
    assert "o" * 32 not in kept and "n" * 32 in kept and len(kept) == 2


# ------------------------------------------------------------------ at the same instant


def _double_click(world, new_browser, name: str) -> None:
    w, ids = world
    case = CASES[name]
    user = getattr(w, case.who)
    # Two clients of one person (two tabs, or a browser repeating the POST).
    one, two = signed_in(new_browser, user), signed_in(new_browser, user)
    for _ in range(ROUNDS):
        before = count(case.model)
        _html, token_one, key = open_form(one, case.form(w, ids))
        token_two = two.token(case.form(w, ids))
        data = form_data(case, w)
        action = case.action(w, ids)
        answers = race(
            (one.client, action, {**data, "csrf_token": token_one, "idempotency_key": key}),
            (two.client, action, {**data, "csrf_token": token_two, "idempotency_key": key}),
        )
        assert [a.status_code for a in answers] == [302, 302], [text(a)[:300] for a in answers]
        assert answers[0].headers["Location"] == answers[1].headers["Location"]
        assert count(case.model) == before + 1


def test_a_double_click_on_send_starts_one_thread(world, new_browser):
    _double_click(world, new_browser, "new thread")


def test_a_double_click_on_reply_posts_one_message(world, new_browser):
    _double_click(world, new_browser, "reply")
