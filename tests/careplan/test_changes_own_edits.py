"""What changed never marks the viewer's own edits as new (issue 14): they are listed, "By you",
but never "New" and never in the "since you last looked" count, for the patient, a caregiver
and the care team alike. Hidden categories stay hidden there, as everywhere."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.careplan import changes
from app.careplan.goals.models import Goal
from app.careplan.items.models import PlanItem
from app.core.privacy import Sensitivity
from app.extensions import db
from tests.fixtures.browser import signed_in

ACCOUNT = "/auth/account"
ENTRY_RE = re.compile(r'<li class="change-entry">(.*?)</li>', re.S)


@pytest.fixture
def world(two_patients):
    w = two_patients
    helper = w.helper("Ana Carter", scopes=["plan", "goals"])
    return w, helper


def entries(browser, patient) -> dict[str, str]:
    """{title line: the words of its entry} on the patient's What changed page."""
    html = browser.get(f"/patients/{patient.id}/changes").get_data(as_text=True)
    found = {}
    for raw in ENTRY_RE.findall(html):
        words = " ".join(re.sub(r"<[^>]+>", " ", raw).replace("&#39;", "'").split())
        title = re.search(r'class="person-name">([^<]+)<', raw).group(1).replace("&#39;", "'")
        found[title] = words
    return found


def is_new(words: str) -> bool:
    return words.startswith("New ")


def count_for(user, patient, hidden=frozenset()) -> int:
    visit = changes.last_visit(user.id, patient.id)
    return changes.count_new(
        patient.id, hidden, visit.seen_at if visit else None, viewer_id=user.id
    )


def nurse_adds_task(browser, w, title: str, sensitivity: str = "") -> PlanItem:
    response = browser.post(
        f"/patients/{w.patient.id}/plan/new/task",
        {
            "title": title,
            "area": "daily_living",
            "status": "active",
            "discipline": "nursing",
            "source_organization": w.org.id,
            "owner": "patient",
            "sensitivity": sensitivity,
            "schedule": "daily",
        },
        form_url=f"/patients/{w.patient.id}/plan/new/task",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return db.session.scalar(sa.select(PlanItem).where(PlanItem.title == title))


def adds_goal(browser, w, description: str) -> Goal:
    response = browser.post(
        f"/patients/{w.patient.id}/goals/new", {"description": description}, form_url=ACCOUNT
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return db.session.scalar(sa.select(Goal).where(Goal.description == description))


def test_the_nurses_own_addition_is_listed_but_not_new_to_her(world, new_browser):
    w, _helper = world
    nurse = signed_in(new_browser, w.member_user)
    nurse_adds_task(nurse, w, "Walk after lunch")
    assert count_for(w.member_user, w.patient) == 0
    assert count_for(w.patient_user, w.patient) == 1
    mine = entries(nurse, w.patient)["Added: Walk after lunch"]
    assert not is_new(mine) and "By you" in mine
    james = signed_in(new_browser, w.patient_user)
    theirs = entries(james, w.patient)["Added: Walk after lunch"]
    assert is_new(theirs) and "By Samuel Okafor (care team)" in theirs


def test_the_patients_own_goal_is_not_new_to_him_and_is_new_to_his_team(world, new_browser):
    w, _helper = world
    james = signed_in(new_browser, w.patient_user)
    adds_goal(james, w, "Cook at home 3 nights")
    assert count_for(w.patient_user, w.patient) == 0
    assert count_for(w.member_user, w.patient) == 1
    mine = entries(james, w.patient)["Added: Cook at home 3 nights"]
    assert not is_new(mine) and "By you" in mine
    nurse = signed_in(new_browser, w.member_user)
    theirs = entries(nurse, w.patient)["Added: Cook at home 3 nights"]
    # The nurse is not James: his change is his ("patient"), never "you" to her.
    assert is_new(theirs) and "By James Carter (patient)" in theirs and "you" not in theirs


def test_a_caregivers_own_goal_is_not_new_to_her(world, new_browser):
    w, helper = world
    ana = signed_in(new_browser, helper)
    adds_goal(ana, w, "Walk the dog together")
    assert count_for(helper, w.patient) == 0
    assert count_for(w.patient_user, w.patient) == 1
    mine = entries(ana, w.patient)["Added: Walk the dog together"]
    assert not is_new(mine) and "By you" in mine
    james = signed_in(new_browser, w.patient_user)
    theirs = entries(james, w.patient)["Added: Walk the dog together"]
    assert is_new(theirs) and "By Ana Carter (caregiver)" in theirs


def test_since_you_last_looked_counts_only_the_others(world, new_browser):
    w, _helper = world
    james = signed_in(new_browser, w.patient_user)
    nurse = signed_in(new_browser, w.member_user)
    entries(james, w.patient)  # he looks: nothing is new after this
    adds_goal(james, w, "Sleep by 11")
    nurse_adds_task(nurse, w, "Check blood pressure")
    assert count_for(w.patient_user, w.patient) == 1
    page = entries(james, w.patient)
    assert is_new(page["Added: Check blood pressure"])
    assert not is_new(page["Added: Sleep by 11"])
    html = james.get(f"/patients/{w.patient.id}/changes").get_data(as_text=True)
    assert 'Your own changes are never marked "New".' in html.replace("&#34;", '"')


def test_the_count_on_home_leaves_out_my_own_changes(world, new_browser):
    w, _helper = world
    james = signed_in(new_browser, w.patient_user)
    nurse = signed_in(new_browser, w.member_user)
    adds_goal(james, w, "Sleep by 11")
    adds_goal(james, w, "Drink water")
    nurse_adds_task(nurse, w, "Check blood pressure")
    home = james.get(f"/patients/{w.patient.id}/home").get_data(as_text=True)
    assert re.search(r'class="chip-count">1<', home)


def test_the_default_viewer_is_the_current_actor(world, app):
    """count_new without a viewer (Home calls it so) leaves out the acting user's changes."""
    from app.core.privacy import Actor, Capacity, acting_as

    w, _helper = world
    changes.record(
        patient_id=w.patient.id,
        subject=changes.ChangeSubject.GOAL,
        subject_id=1,
        change=changes.ChangeKind.ADDED,
        title="Mine",
        actor_id=w.patient_user.id,
        capacity="patient",
    )
    db.session.commit()
    with acting_as(Actor(user_id=w.patient_user.id, capacity=Capacity.PATIENT, patient=w.patient)):
        assert changes.count_new(w.patient.id, frozenset(), None) == 0
    with acting_as(Actor(user_id=w.member_user.id, capacity=Capacity.CARE_TEAM, patient=w.patient)):
        assert changes.count_new(w.patient.id, frozenset(), None) == 1


def test_hidden_categories_stay_hidden_in_what_changed(world, new_browser):
    """A behavioral health task the helper may not see: not listed, not counted, for her;
    her own edits stay out of her count too."""
    w, helper = world
    nurse = signed_in(new_browser, w.member_user)
    nurse_adds_task(nurse, w, "Counseling homework", Sensitivity.BEHAVIORAL_HEALTH.value)
    nurse_adds_task(nurse, w, "Walk after lunch")
    ana = signed_in(new_browser, helper)
    adds_goal(ana, w, "Walk the dog together")
    hidden = frozenset(
        {
            Sensitivity.BEHAVIORAL_HEALTH.value,
            Sensitivity.SUBSTANCE_USE.value,
            Sensitivity.SEXUAL_REPRODUCTIVE.value,
            Sensitivity.CONFIDENTIAL.value,
        }
    )
    assert count_for(helper, w.patient, hidden) == 1  # "Walk after lunch" only
    assert count_for(w.patient_user, w.patient) == 3  # James sees all three as new
    page = entries(ana, w.patient)
    assert set(page) == {"Added: Walk after lunch", "Added: Walk the dog together"}
    html = ana.get(f"/patients/{w.patient.id}/changes").get_data(as_text=True)
    assert "Counseling" not in html
