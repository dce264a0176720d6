"""Goals in the care plan: who may see and change them, the lifecycle rules, check-ins and the
trend chart, privacy of sensitive goals, the change log and audit trail, query counts, CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.caregivers.models import CaregiverGrant, Scope
from app.careplan.goals.models import Goal, GoalAchievement, GoalCheckIn, GoalLifecycle
from app.careplan.models import ChangeKind, ChangeSubject, PlanChange
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.core.privacy import Sensitivity
from app.extensions import db
from tests.fixtures.browser import signed_in

ACCOUNT = "/auth/account"  # any signed-in page carries a CSRF token


# ------------------------------------------------------------------ helpers


@pytest.fixture
def world(two_patients):
    """One patient, and every kind of person in relation to them."""
    w = two_patients
    w.member_user.full_name = "Dr. Sam Okafor"  # the tests read the proposer's name
    db.session.commit()
    return {
        "patient": w.patient,
        "other": w.other,
        "patient_user": w.patient_user,
        "other_user": w.other_user,
        "caregiver_goals": w.helper("Ana Carter", [Scope.PLAN.value, Scope.GOALS.value]),
        "caregiver_plan": w.helper("Paul Viewer", [Scope.PLAN.value]),
        "caregiver_none": w.helper("Nora Noscope", []),
        "member": w.member_user,
        "other_member": w.other_member_user,
        "admin": w.admin,
    }


def post(b, url, data=None):
    return b.post(url, data or {}, form_url=ACCOUNT)


def add_goal(patient, author, capacity="patient", **kw) -> Goal:
    values = {
        "description": "Walk 20 minutes after dinner",
        "lifecycle_status": GoalLifecycle.ACTIVE,
        "achievement_status": GoalAchievement.IN_PROGRESS,
    }
    values.update(kw)
    goal = Goal(
        patient_id=patient.id,
        expressed_by_id=author.id,
        expressed_by_capacity=capacity,
        **values,
    )
    db.session.add(goal)
    db.session.commit()
    return goal


def proposal(world, **kw) -> Goal:
    kw.setdefault("description", "Check my feet every evening")
    return add_goal(
        world["patient"],
        world["member"],
        "care_team",
        lifecycle_status=GoalLifecycle.PROPOSED,
        achievement_status=None,
        **kw,
    )


def fresh(goal: Goal) -> Goal:
    db.session.expire_all()
    return db.session.get(Goal, goal.id)


def plan_changes(goal_id: int | None = None) -> list[PlanChange]:
    db.session.expire_all()
    query = sa.select(PlanChange).where(PlanChange.subject == ChangeSubject.GOAL)
    if goal_id is not None:
        query = query.where(PlanChange.subject_id == goal_id)
    return list(db.session.scalars(query.order_by(PlanChange.id)))


def check_ins(goal_id: int) -> list[GoalCheckIn]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(GoalCheckIn).where(GoalCheckIn.goal_id == goal_id).order_by(GoalCheckIn.id)
        )
    )


def goals_of(patient) -> list[Goal]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(Goal).where(Goal.patient_id == patient.id).order_by(Goal.id))
    )


def goal_url(patient, goal, action=""):
    return f"/patients/{patient.id}/goals/{goal.id}{action}"


def text(response) -> str:
    return response.get_data(as_text=True)


# ------------------------------------------------------------------ who may see


VIEW = {
    "patient_user": 200,
    "caregiver_goals": 200,
    "caregiver_plan": 200,
    "caregiver_none": 404,
    "member": 200,
    "other_member": 404,
    "admin": 404,
}


@pytest.mark.parametrize("who", sorted(VIEW))
def test_who_sees_goals(world, new_browser, who):
    patient = world["patient"]
    goal = add_goal(patient, world["patient_user"], why_it_matters="More energy")
    b = signed_in(new_browser, world[who])
    listing = b.get(f"/patients/{patient.id}/goals")
    detail = b.get(goal_url(patient, goal))
    assert listing.status_code == VIEW[who]
    assert detail.status_code == VIEW[who]
    if VIEW[who] == 200:
        assert "Walk 20 minutes after dinner" in text(listing)
        assert "More energy" in text(detail)
    else:
        assert "Walk 20 minutes" not in text(listing) + text(detail)


def test_goal_of_another_patient_is_not_found(world, new_browser):
    theirs = add_goal(world["other"], world["other_user"], description="Someone else's goal")
    mine = world["patient"]
    b = signed_in(new_browser, world["patient_user"])
    assert b.get(f"/patients/{mine.id}/goals/{theirs.id}").status_code == 404
    assert b.get(f"/patients/{mine.id}/goals/999999").status_code == 404
    response = post(b, f"/patients/{mine.id}/goals/{theirs.id}/check-ins", {"note": "Hi"})
    assert response.status_code == 404
    assert check_ins(theirs.id) == []
    assert "Someone else's goal" not in text(b.get(f"/patients/{mine.id}/goals"))


# ------------------------------------------------------------------ who may change

CHANGERS = {"patient_user", "caregiver_goals", "member"}


@pytest.mark.parametrize("who", sorted(VIEW))
def test_who_changes_goals(world, new_browser, who):
    patient = world["patient"]
    active = add_goal(patient, world["patient_user"])
    proposed = proposal(world)
    to_decline = proposal(world, description="Stop smoking")
    b = signed_in(new_browser, world[who])
    base = f"/patients/{patient.id}/goals"
    allowed = who in CHANGERS
    before = len(plan_changes())

    form = b.get(f"{base}/new")
    assert form.status_code == (200 if allowed else 404)

    created = post(b, f"{base}/new", {"description": "Sleep 7 hours", "direction": ""})
    edited = post(
        b, goal_url(patient, active, "/edit"), {"description": "Walk 30 minutes after dinner"}
    )
    checked = post(b, goal_url(patient, active, "/check-ins"), {"note": "Walked 3 days"})
    paused = post(b, goal_url(patient, active, "/status"), {"status": "on-hold"})
    accepted = post(b, goal_url(patient, proposed, "/accept"))
    declined = post(b, goal_url(patient, to_decline, "/decline"), {"reason": "Not now"})

    if not allowed:
        for response in (created, edited, checked, paused, accepted, declined):
            assert response.status_code == 404
        assert [g.description for g in goals_of(patient)] == [
            "Walk 20 minutes after dinner",
            "Check my feet every evening",
            "Stop smoking",
        ]
        assert fresh(active).lifecycle_status is GoalLifecycle.ACTIVE
        assert fresh(proposed).lifecycle_status is GoalLifecycle.PROPOSED
        assert fresh(to_decline).lifecycle_status is GoalLifecycle.PROPOSED
        assert check_ins(active.id) == []
        assert len(plan_changes()) == before
        return

    for response in (created, edited, checked, paused):
        assert response.status_code == 302, response
    new = goals_of(patient)[-1]
    assert new.description == "Sleep 7 hours"
    assert new.expressed_by_id == world[who].id
    assert fresh(active).description == "Walk 30 minutes after dinner"
    assert fresh(active).lifecycle_status is GoalLifecycle.ON_HOLD
    assert [c.note for c in check_ins(active.id)] == ["Walked 3 days"]
    if who == "member":
        # the care team suggests; only the patient side answers a suggestion
        assert new.lifecycle_status is GoalLifecycle.PROPOSED
        assert new.expressed_by_capacity == "care_team"
        assert accepted.status_code == 409  # a rule refused it: nothing written
        assert declined.status_code == 409
        assert "Only the patient or their caregiver" in text(accepted)
        assert fresh(proposed).lifecycle_status is GoalLifecycle.PROPOSED
        assert fresh(to_decline).lifecycle_status is GoalLifecycle.PROPOSED
    else:
        assert new.lifecycle_status is GoalLifecycle.ACTIVE
        assert new.expressed_by_capacity == ("patient" if who == "patient_user" else "caregiver")
        assert accepted.status_code == 302
        assert declined.status_code == 302
        assert fresh(proposed).lifecycle_status is GoalLifecycle.ACTIVE
        assert fresh(to_decline).lifecycle_status is GoalLifecycle.REJECTED
        assert fresh(to_decline).status_reason == "Not now"


def test_plan_only_caregiver_sees_no_change_buttons(world, new_browser):
    patient = world["patient"]
    goal = add_goal(patient, world["patient_user"])
    viewer = signed_in(new_browser, world["caregiver_plan"])
    page = text(viewer.get(goal_url(patient, goal)))
    assert "Save check-in" not in page
    assert "Change this goal" not in page
    assert "Add a goal" not in text(viewer.get(f"/patients/{patient.id}/goals"))
    helper = signed_in(new_browser, world["caregiver_goals"])
    page = text(helper.get(goal_url(patient, goal)))
    assert "Save check-in" in page
    assert "Change this goal" in page


# ------------------------------------------------------------------ writing goals


def test_patient_writes_a_goal_in_their_own_words(world, new_browser):
    patient = world["patient"]
    b = signed_in(new_browser, world["patient_user"])
    due = (utcnow() + timedelta(days=40)).date()
    response = post(
        b,
        f"/patients/{patient.id}/goals/new",
        {
            "description": "Walk to the mailbox and back every morning",
            "why_it_matters": "So I can keep living on my own",
            "target_text": "Walk there without stopping",
            "direction": "higher",
            "target_value": "6,000",
            "target_unit": "steps",
            "due_date": due.isoformat(),
        },
    )
    assert response.status_code == 302
    [goal] = goals_of(patient)
    assert goal.lifecycle_status is GoalLifecycle.ACTIVE
    assert goal.target_value == 6000
    assert goal.higher_is_better is True
    assert goal.due_date == due
    assert goal.expressed_by_id == world["patient_user"].id
    page = text(b.get(response.headers["Location"]))
    assert "Walk to the mailbox and back every morning" in page
    assert "So I can keep living on my own" in page
    assert "6,000 steps" in page
    assert "Working on it" in page


def test_goal_with_a_later_start_waits_as_agreed(world, new_browser):
    patient = world["patient"]
    b = signed_in(new_browser, world["patient_user"])
    start = (utcnow() + timedelta(days=10)).date()
    post(b, f"/patients/{patient.id}/goals/new", {"description": "Swim", "start_date": str(start)})
    [goal] = goals_of(patient)
    assert goal.lifecycle_status is GoalLifecycle.ACCEPTED
    assert goal.achievement_status is None


BAD_GOALS = [
    ({"description": ""}, "Please write the goal in a few words."),
    ({"description": "x" * 301}, "Please keep this under 300 characters."),
    ({"description": "Walk", "direction": "higher", "target_value": "lots"}, "enter a number"),
    ({"description": "Walk", "target_value": "8000"}, "higher or a lower number is better"),
    ({"description": "Walk", "due_date": "2001-01-01"}, "be in the past"),
    ({"description": "Walk", "due_date": "31/12/2099"}, "Enter a date"),
    (
        {"description": "Walk", "start_date": "2099-02-01", "due_date": "2099-01-01"},
        "must come after the start date",
    ),
    ({"description": "Walk", "target_unit": "u" * 25}, "under 24 characters"),
]


@pytest.mark.parametrize(("data", "message"), BAD_GOALS)
def test_invalid_goal_is_refused_and_nothing_is_written(world, new_browser, data, message):
    patient = world["patient"]
    b = signed_in(new_browser, world["patient_user"])
    response = post(b, f"/patients/{patient.id}/goals/new", data)
    assert response.status_code == 422
    assert message in text(response)
    assert goals_of(patient) == []
    assert plan_changes() == []


def test_edit_keeps_a_past_due_date_but_refuses_a_new_one(world, new_browser):
    patient = world["patient"]
    old_due = (utcnow() - timedelta(days=3)).date()
    goal = add_goal(patient, world["patient_user"], due_date=old_due)
    b = signed_in(new_browser, world["patient_user"])
    ok = post(
        b,
        goal_url(patient, goal, "/edit"),
        {"description": "Walk 25 minutes", "due_date": old_due.isoformat()},
    )
    assert ok.status_code == 302
    assert fresh(goal).description == "Walk 25 minutes"
    bad = post(
        b,
        goal_url(patient, goal, "/edit"),
        {"description": "Walk 25 minutes", "due_date": (old_due - timedelta(days=1)).isoformat()},
    )
    assert bad.status_code == 422
    assert fresh(goal).due_date == old_due


def test_closed_goal_cannot_be_edited(world, new_browser):
    patient = world["patient"]
    goal = add_goal(
        patient,
        world["patient_user"],
        lifecycle_status=GoalLifecycle.COMPLETED,
        achievement_status=GoalAchievement.ACHIEVED,
    )
    b = signed_in(new_browser, world["patient_user"])
    form = b.get(goal_url(patient, goal, "/edit"))
    assert form.status_code == 302
    response = post(b, goal_url(patient, goal, "/edit"), {"description": "Changed"})
    assert response.status_code == 302
    page = text(b.get(goal_url(patient, goal)))
    assert "This goal is closed" in page
    assert fresh(goal).description == "Walk 20 minutes after dinner"
    assert plan_changes(goal.id) == []


# ------------------------------------------------------------------ proposals


def test_team_proposal_is_answered_by_the_patient_side_only(world, new_browser):
    patient = world["patient"]
    team = signed_in(new_browser, world["member"])
    response = post(
        team,
        f"/patients/{patient.id}/goals/new",
        {"description": "Check your feet every evening", "why_it_matters": "Diabetes"},
    )
    assert response.status_code == 302
    [goal] = goals_of(patient)
    assert goal.lifecycle_status is GoalLifecycle.PROPOSED
    assert goal.expressed_by_id == world["member"].id
    page = text(team.get(goal_url(patient, goal)))
    assert "Waiting for an answer" in page
    assert "Yes, I will work on it" not in page

    # the team cannot accept its own proposal, by either door
    assert post(team, goal_url(patient, goal, "/accept")).status_code == 409
    refused = post(team, goal_url(patient, goal, "/status"), {"status": "active"})
    assert refused.status_code == 409
    assert "Only the patient or their caregiver" in text(refused)
    assert fresh(goal).lifecycle_status is GoalLifecycle.PROPOSED

    me = signed_in(new_browser, world["patient_user"])
    listing = text(me.get(f"/patients/{patient.id}/goals"))
    assert "Suggested by your care team" in listing
    assert "Suggested by Dr. Sam Okafor" in listing
    assert listing.index("Check your feet every evening") < listing.index("Current goals")
    page = text(me.get(goal_url(patient, goal)))
    assert "Your care team suggested this goal" in page
    assert "Yes, I will work on it" in page
    assert post(me, goal_url(patient, goal, "/accept")).status_code == 302
    goal = fresh(goal)
    assert goal.lifecycle_status is GoalLifecycle.ACTIVE
    assert goal.achievement_status is GoalAchievement.IN_PROGRESS
    assert goal.expressed_by_id == world["member"].id  # who expressed it is kept


def test_patient_changes_a_proposal_then_accepts_it(world, new_browser):
    patient = world["patient"]
    goal = proposal(world)
    me = signed_in(new_browser, world["caregiver_goals"])
    form = me.get(goal_url(patient, goal, "/edit"))
    assert "Save and say yes" in text(form)
    response = post(
        me,
        goal_url(patient, goal, "/edit"),
        {"description": "Check my feet on Sundays", "why_it_matters": "Dad forgets"},
    )
    assert response.status_code == 302
    goal = fresh(goal)
    assert goal.description == "Check my feet on Sundays"
    assert goal.lifecycle_status is GoalLifecycle.ACTIVE
    [change] = plan_changes(goal.id)
    assert change.change is ChangeKind.CHANGED
    assert {"description", "lifecycle_status"} <= set(change.fields)
    assert change.capacity == "caregiver"


def test_decline_needs_a_reason(world, new_browser):
    patient = world["patient"]
    goal = proposal(world)
    me = signed_in(new_browser, world["patient_user"])
    refused = post(me, goal_url(patient, goal, "/decline"), {"reason": "   "})
    assert refused.status_code == 422
    assert "Please tell your care team why you are saying no." in text(refused)
    assert fresh(goal).lifecycle_status is GoalLifecycle.PROPOSED
    assert plan_changes(goal.id) == []

    ok = post(me, goal_url(patient, goal, "/decline"), {"reason": "My feet are fine, I'm busy"})
    assert ok.status_code == 302
    goal = fresh(goal)
    assert goal.lifecycle_status is GoalLifecycle.REJECTED
    assert goal.status_reason == "My feet are fine, I'm busy"
    [change] = plan_changes(goal.id)
    assert change.change is ChangeKind.STOPPED
    team = signed_in(new_browser, world["member"])
    page = text(team.get(goal_url(patient, goal)))
    assert "Said no" in page
    assert "My feet are fine, I&#39;m busy" in page


def test_team_withdraws_its_proposal_but_the_patient_must_decline(world, new_browser):
    patient = world["patient"]
    goal = proposal(world)
    me = signed_in(new_browser, world["patient_user"])
    refused = post(me, goal_url(patient, goal, "/status"), {"status": "cancelled"})
    assert refused.status_code == 409
    assert "Say no" in text(refused)
    assert fresh(goal).lifecycle_status is GoalLifecycle.PROPOSED
    team = signed_in(new_browser, world["member"])
    ok = post(team, goal_url(patient, goal, "/status"), {"status": "cancelled", "reason": "Dup"})
    assert ok.status_code == 302
    assert fresh(goal).lifecycle_status is GoalLifecycle.CANCELLED
    assert plan_changes(goal.id)[-1].change is ChangeKind.STOPPED


# ------------------------------------------------------------------ lifecycle


def test_valid_lifecycle_path(world, new_browser):
    patient = world["patient"]
    goal = add_goal(
        patient,
        world["patient_user"],
        lifecycle_status=GoalLifecycle.ACCEPTED,
        achievement_status=None,
    )
    me = signed_in(new_browser, world["patient_user"])
    steps = [
        ({"status": "active"}, GoalLifecycle.ACTIVE, ChangeKind.CHANGED),
        (
            {"status": "on-hold", "reason": "Knee surgery"},
            GoalLifecycle.ON_HOLD,
            ChangeKind.CHANGED,
        ),
        ({"status": "active"}, GoalLifecycle.ACTIVE, ChangeKind.CHANGED),
        (
            {"status": "completed", "achievement": "achieved"},
            GoalLifecycle.COMPLETED,
            ChangeKind.COMPLETED,
        ),
    ]
    for data, expected, kind in steps:
        response = post(me, goal_url(patient, goal, "/status"), data)
        assert response.status_code == 302, data
        assert fresh(goal).lifecycle_status is expected
        assert plan_changes(goal.id)[-1].change is kind
    goal = fresh(goal)
    assert goal.achievement_status is GoalAchievement.ACHIEVED
    page = text(me.get(goal_url(patient, goal)))
    assert "Finished" in page
    assert "Reached" in page
    assert "Save check-in" not in page  # no check-ins on a finished goal


STATE_RULES = ("This goal is closed", "can&#39;t be", "can&#39;t be changed", "already")


@pytest.mark.parametrize(
    ("start", "data", "message"),
    [
        (GoalLifecycle.COMPLETED, {"status": "active"}, "This goal is closed"),
        (GoalLifecycle.CANCELLED, {"status": "active"}, "This goal is closed"),
        (GoalLifecycle.REJECTED, {"status": "active"}, "This goal is closed"),
        (
            GoalLifecycle.ACCEPTED,
            {"status": "completed", "achievement": "achieved"},
            "can&#39;t be",
        ),
        (GoalLifecycle.ON_HOLD, {"status": "completed", "achievement": "achieved"}, "can&#39;t be"),
        (GoalLifecycle.ACTIVE, {"status": "accepted"}, "can&#39;t be changed"),
        (GoalLifecycle.ACTIVE, {"status": "rejected"}, "can&#39;t be changed"),
        (GoalLifecycle.ACTIVE, {"status": "proposed"}, "can&#39;t be changed"),
        (GoalLifecycle.PROPOSED, {"status": "on-hold"}, "can&#39;t be changed"),
        (GoalLifecycle.ACTIVE, {"status": "active"}, "already"),
        (GoalLifecycle.ACTIVE, {"status": "completed"}, "say if you reached it"),
        (
            GoalLifecycle.ACTIVE,
            {"status": "completed", "achievement": "improving"},
            "Please choose if you reached the goal or not.",
        ),
        (GoalLifecycle.ACTIVE, {"status": "finished-ish"}, "Please choose what to do"),
    ],
)
def test_invalid_transitions_are_refused_and_nothing_is_written(
    world, new_browser, start, data, message
):
    patient = world["patient"]
    goal = add_goal(patient, world["patient_user"], lifecycle_status=start)
    me = signed_in(new_browser, world["patient_user"])
    response = post(me, goal_url(patient, goal, "/status"), data)
    # A move the lifecycle refuses is a conflict (409); a form not filled in is 422.
    assert response.status_code == (409 if message in STATE_RULES else 422)
    assert message in text(response)
    assert fresh(goal).lifecycle_status is start
    assert fresh(goal).achievement_status is GoalAchievement.IN_PROGRESS
    assert plan_changes(goal.id) == []


@pytest.mark.parametrize(
    "start", [GoalLifecycle.PROPOSED, GoalLifecycle.COMPLETED, GoalLifecycle.CANCELLED]
)
def test_check_ins_only_on_goals_being_worked_on(world, new_browser, start):
    patient = world["patient"]
    goal = add_goal(patient, world["patient_user"], lifecycle_status=start)
    me = signed_in(new_browser, world["patient_user"])
    response = post(me, goal_url(patient, goal, "/check-ins"), {"value": "5000"})
    assert response.status_code == 409
    assert "only on a goal that someone is working on" in text(response)
    assert check_ins(goal.id) == []
    assert plan_changes(goal.id) == []


@pytest.mark.parametrize("start", [GoalLifecycle.ACCEPTED, GoalLifecycle.ON_HOLD])
def test_check_ins_on_agreed_and_paused_goals(world, new_browser, start):
    patient = world["patient"]
    goal = add_goal(patient, world["patient_user"], lifecycle_status=start)
    me = signed_in(new_browser, world["patient_user"])
    response = post(me, goal_url(patient, goal, "/check-ins"), {"note": "Getting ready"})
    assert response.status_code == 302
    assert len(check_ins(goal.id)) == 1


# ------------------------------------------------------------------ check-ins and the chart


def test_check_in_form_errors(world, new_browser):
    patient = world["patient"]
    goal = add_goal(patient, world["patient_user"])
    me = signed_in(new_browser, world["patient_user"])
    for data, message in [
        ({}, "Add a number or a short note."),
        ({"value": "about five"}, "Please enter a number"),
        ({"note": "x" * 1001}, "under 1000 characters"),
    ]:
        response = post(me, goal_url(patient, goal, "/check-ins"), data)
        assert response.status_code == 422, data
        assert message in text(response)
    assert check_ins(goal.id) == []


def test_numeric_check_ins_draw_a_chart_with_one_point_each(world, new_browser):
    patient = world["patient"]
    goal = add_goal(
        patient,
        world["patient_user"],
        target_value=8000,
        target_unit="steps",
        higher_is_better=True,
    )
    me = signed_in(new_browser, world["patient_user"])
    page = text(me.get(goal_url(patient, goal)))
    assert 'class="goal-chart"' not in page  # (icons are <svg> too)
    assert "No check-ins yet." in page
    for data in [
        {"value": "3000"},
        {"value": "4,500", "note": "Walked with my daughter"},
        {"note": "Rained all week"},
        {"value": "4100"},
        {"value": "5200"},
    ]:
        assert post(me, goal_url(patient, goal, "/check-ins"), data).status_code == 302
    page = text(me.get(goal_url(patient, goal)))
    start = page.index('<svg class="goal-chart"')
    svg = page[start : page.index("</svg>", start)]
    assert svg.count('class="goal-point"') == 4
    assert 'role="img"' in svg
    assert "<title" in svg
    assert 'stroke-dasharray="6 4"' in svg  # the target as a dashed line
    assert "4 check-ins with a number, from 3,000 steps" in page
    assert "to 5,200 steps" in page
    assert "The target is 8,000 steps." in page
    assert "Walked with my daughter" in page
    assert "Rained all week" in page
    assert "style=" not in page  # the CSP forbids inline styles


def test_chart_without_a_target_has_no_target_line(world, new_browser):
    patient = world["patient"]
    goal = add_goal(patient, world["patient_user"], target_unit="minutes")
    me = signed_in(new_browser, world["patient_user"])
    post(me, goal_url(patient, goal, "/check-ins"), {"value": "20"})
    page = text(me.get(goal_url(patient, goal)))
    assert page.count('class="goal-point"') == 1
    assert "stroke-dasharray" not in page
    assert "One check-in with a number: 20 minutes" in page


@pytest.mark.parametrize(
    ("higher_is_better", "values", "expected"),
    [
        (True, ["3000", "4000"], GoalAchievement.IMPROVING),
        (True, ["4000", "3500"], GoalAchievement.WORSENING),
        (False, ["8.4", "7.9"], GoalAchievement.IMPROVING),
        (False, ["7.9", "8.2"], GoalAchievement.WORSENING),
    ],
)
def test_improving_or_worsening_from_the_last_two_numbers(
    world, new_browser, higher_is_better, values, expected
):
    patient = world["patient"]
    goal = add_goal(patient, world["patient_user"], higher_is_better=higher_is_better)
    me = signed_in(new_browser, world["patient_user"])
    for value in values:
        post(me, goal_url(patient, goal, "/check-ins"), {"value": value})
    first, second = check_ins(goal.id)
    assert first.achievement_status is None  # nothing to compare with yet
    assert second.achievement_status is expected
    assert fresh(goal).achievement_status is expected
    label = "Getting better" if expected is GoalAchievement.IMPROVING else "Getting harder"
    assert label in text(me.get(goal_url(patient, goal)))


def test_given_achievement_wins_and_no_direction_means_no_guess(world, new_browser):
    patient = world["patient"]
    steps = add_goal(patient, world["patient_user"], higher_is_better=True)
    plain = add_goal(patient, world["patient_user"], description="Read more")
    me = signed_in(new_browser, world["patient_user"])
    post(me, goal_url(patient, steps, "/check-ins"), {"value": "3000"})
    post(me, goal_url(patient, steps, "/check-ins"), {"value": "2000", "achievement": "achieved"})
    assert fresh(steps).achievement_status is GoalAchievement.ACHIEVED
    post(me, goal_url(patient, plain, "/check-ins"), {"value": "1"})
    post(me, goal_url(patient, plain, "/check-ins"), {"value": "3"})
    assert fresh(plain).achievement_status is GoalAchievement.IN_PROGRESS


# ------------------------------------------------------------------ sensitive goals


def test_sensitive_goal_is_hidden_from_a_caregiver_until_included(world, new_browser):
    from app.careplan.goals.queries import summary_goals

    patient = world["patient"]
    add_goal(patient, world["patient_user"])
    private = add_goal(
        patient,
        world["patient_user"],
        description="Call a friend twice a week",
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )
    helper = signed_in(new_browser, world["caregiver_goals"])
    assert "Call a friend" not in text(helper.get(f"/patients/{patient.id}/goals"))
    assert helper.get(goal_url(patient, private)).status_code == 404
    response = post(helper, goal_url(patient, private, "/check-ins"), {"note": "Peeking"})
    assert response.status_code == 404
    assert (
        post(helper, goal_url(patient, private, "/edit"), {"description": "x"}).status_code == 404
    )
    assert check_ins(private.id) == []
    hidden = frozenset({"behavioral_health", "substance_use", "sexual_reproductive"})
    assert [g.description for g in summary_goals(patient.id, hidden)] == [
        "Walk 20 minutes after dinner"
    ]
    assert len(summary_goals(patient.id, frozenset())) == 2

    # the patient and the team see it
    for who in ("patient_user", "member"):
        b = signed_in(new_browser, world[who])
        assert "Call a friend" in text(b.get(f"/patients/{patient.id}/goals"))
        assert b.get(goal_url(patient, private)).status_code == 200

    grant = db.session.scalar(
        sa.select(CaregiverGrant).where(CaregiverGrant.caregiver_id == world["caregiver_goals"].id)
    )
    grant.sensitive_categories = ["behavioral_health"]
    db.session.commit()
    helper = signed_in(new_browser, world["caregiver_goals"])
    assert "Call a friend" in text(helper.get(f"/patients/{patient.id}/goals"))
    assert helper.get(goal_url(patient, private)).status_code == 200
    assert post(helper, goal_url(patient, private, "/check-ins"), {"note": "Ok"}).status_code == 302


def test_summary_goals_lists_current_goals_proposals_first(world, app):
    from flask import render_template
    from flask_login import login_user

    from app.careplan.goals.queries import summary_goals

    patient = world["patient"]
    add_goal(patient, world["patient_user"], description="Walk daily")
    add_goal(
        patient,
        world["patient_user"],
        description="Old goal",
        lifecycle_status=GoalLifecycle.COMPLETED,
    )
    proposal(world, description="Check feet")
    found = summary_goals(patient.id, frozenset())
    assert [g.description for g in found] == ["Check feet", "Walk daily"]
    with app.test_request_context():
        login_user(world["patient_user"])
        html = render_template("goals/_summary.html", patient=patient, goals=found)
    assert "Check feet" in html
    assert "Walk daily" in html
    assert f"/patients/{patient.id}/goals/{found[0].id}" in html
    assert "Suggested" in html


# ------------------------------------------------------------------ change log and audit


def test_changes_and_audit_events_are_recorded(world, new_browser):
    patient = world["patient"]
    me = signed_in(new_browser, world["patient_user"])
    post(me, f"/patients/{patient.id}/goals/new", {"description": "Cook at home 3 nights"})
    [goal] = goals_of(patient)
    post(me, goal_url(patient, goal, "/check-ins"), {"note": "2 nights so far"})
    post(me, goal_url(patient, goal, "/status"), {"status": "completed", "achievement": "achieved"})
    rows = plan_changes(goal.id)
    assert [r.change for r in rows] == [ChangeKind.ADDED, ChangeKind.CHANGED, ChangeKind.COMPLETED]
    assert {r.title for r in rows} == {"Cook at home 3 nights"}
    assert {r.actor_id for r in rows} == {world["patient_user"].id}
    assert {r.capacity for r in rows} == {"patient"}
    events = list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.resource == "careplan.goal", AuditEvent.resource_id == str(goal.id))
            .order_by(AuditEvent.id)
        )
    )
    assert [e.action for e in events] == ["create", "update", "update"]
    assert {e.actor_id for e in events} == {world["patient_user"].id}


def test_sensitive_change_rows_keep_the_category(world, new_browser):
    patient = world["patient"]
    goal = add_goal(patient, world["patient_user"], sensitivity=Sensitivity.BEHAVIORAL_HEALTH)
    me = signed_in(new_browser, world["patient_user"])
    post(me, goal_url(patient, goal, "/check-ins"), {"note": "Saw a friend"})
    [row] = plan_changes(goal.id)
    assert row.sensitivity is Sensitivity.BEHAVIORAL_HEALTH


# ------------------------------------------------------------------ query counts


def page_queries(count_queries, b, url) -> int:
    with count_queries() as counter:
        response = b.get(url)
    assert response.status_code == 200, url
    return counter.count


def test_list_and_detail_queries_do_not_grow(world, new_browser, count_queries):
    patient = world["patient"]
    author = world["patient_user"]
    first = add_goal(patient, author, target_value=10, higher_is_better=True)
    now = utcnow()
    db.session.add(
        GoalCheckIn(goal_id=first.id, value=1, capacity="patient", recorded_by_id=author.id)
    )
    proposal(world)
    db.session.commit()
    for who in ("patient_user", "member"):
        b = signed_in(new_browser, world[who])
        list_url = f"/patients/{patient.id}/goals"
        detail_url = goal_url(patient, first)
        b.get(list_url)
        small_list = page_queries(count_queries, b, list_url)
        small_detail = page_queries(count_queries, b, detail_url)
        for i in range(12):
            goal = add_goal(
                patient,
                author if i % 2 else world["member"],
                description=f"Goal {who} {i}",
                lifecycle_status=list(GoalLifecycle)[i % len(GoalLifecycle)],
            )
            db.session.add(
                GoalCheckIn(goal_id=goal.id, value=i, capacity="patient", recorded_by_id=author.id)
            )
        for i in range(25):
            db.session.add(
                GoalCheckIn(
                    goal_id=first.id,
                    value=i,
                    note=f"note {i}",
                    capacity="care_team" if i % 2 else "patient",
                    recorded_by_id=(world["member"] if i % 2 else author).id,
                    recorded_at=now - timedelta(days=i),
                )
            )
        db.session.commit()
        assert page_queries(count_queries, b, list_url) == small_list
        assert page_queries(count_queries, b, detail_url) == small_detail
        assert small_list <= 10
        assert small_detail <= 11  # + where it came from (app.fhir.display.record_source)


# ------------------------------------------------------------------ CSRF


def test_posts_without_a_csrf_token_are_refused(world, new_browser):
    patient = world["patient"]
    goal = add_goal(patient, world["patient_user"])
    offer = proposal(world)
    me = signed_in(new_browser, world["patient_user"])
    attempts = [
        (f"/patients/{patient.id}/goals/new", {"description": "Sneaky goal"}),
        (goal_url(patient, goal, "/edit"), {"description": "Sneaky edit"}),
        (goal_url(patient, goal, "/check-ins"), {"value": "1"}),
        (goal_url(patient, goal, "/status"), {"status": "cancelled"}),
        (goal_url(patient, offer, "/accept"), {}),
        (goal_url(patient, offer, "/decline"), {"reason": "No"}),
    ]
    for url, data in attempts:
        assert me.client.post(url, data=data).status_code == 400, url
        assert me.client.post(url, data={**data, "csrf_token": "forged"}).status_code == 400, url
    assert [g.description for g in goals_of(patient)] == [
        "Walk 20 minutes after dinner",
        "Check my feet every evening",
    ]
    assert fresh(goal).lifecycle_status is GoalLifecycle.ACTIVE
    assert fresh(offer).lifecycle_status is GoalLifecycle.PROPOSED
    assert check_ins(goal.id) == []
    assert plan_changes() == []


# ------------------------------------------------------------------ pages and language


def test_pages_are_translatable_and_mobile_friendly(world, new_browser):
    patient = world["patient"]
    goal = add_goal(patient, world["patient_user"], target_value=5, higher_is_better=True)
    me = signed_in(new_browser, world["patient_user"])
    post(me, goal_url(patient, goal, "/check-ins"), {"value": "2"})
    for url in (
        f"/patients/{patient.id}/goals",
        goal_url(patient, goal),
        f"/patients/{patient.id}/goals/new",
        goal_url(patient, goal, "/edit"),
    ):
        page = text(me.get(url))
        assert re.search(r"<h1[^>]*>", page), url
        assert "style=" not in page, url
        assert "<table" not in page, url
        assert 'aria-current="page"' in page, url  # the record's section nav marks Goals
        assert "James&#39;s record" in page or "James's record" in page, url


def test_spanish_numbers_are_read_the_spanish_way(world, new_browser):
    patient = world["patient"]
    user = world["patient_user"]
    user.locale = "es"
    db.session.commit()
    goal = add_goal(patient, user, target_unit="%", higher_is_better=False)
    me = signed_in(new_browser, user)
    post(me, goal_url(patient, goal, "/check-ins"), {"value": "7,5"})
    post(me, goal_url(patient, goal, "/check-ins"), {"value": "6.200"})
    assert [c.value for c in check_ins(goal.id)] == [7.5, 6200]


# ------------------------------------------------------------------ demo data


def test_demo_goals_are_realistic_and_seeded_once(app, new_browser):
    from app.demo import DEMO_PASSWORD, DOMAIN
    from app.demo import goals as demo_goals
    from app.demo import seed as demo_seed
    from app.demo.accounts import Demo
    from app.patients.models import Patient
    from app.team.models import CareTeamMember

    demo_seed()
    db.session.commit()
    staff = ["nurse", "doctor", "therapist", "pharmacist", "chw", "dentist", "cardiologist"]
    users = {
        local: db.session.scalar(sa.select(User).where(User.email == f"{local}@{DOMAIN}"))
        for local in ["maria", "james", "ana", "rosa", "admin", *staff]
    }
    members = {
        local: db.session.scalar(
            sa.select(CareTeamMember).where(CareTeamMember.user_id == users[local].id)
        )
        for local in staff
    }
    by_name = {p.given_name: p for p in db.session.scalars(sa.select(Patient))}
    patients = {"maria": by_name["María"], "james": by_name["James"], "leo": by_name["Leo"]}
    demo_goals.seed(Demo(patients=patients, users=users, members=members))
    db.session.commit()
    counted = db.session.scalar(sa.select(sa.func.count(Goal.id)))
    counted_check_ins = db.session.scalar(sa.select(sa.func.count(GoalCheckIn.id)))
    demo_goals.seed(Demo(patients=patients, users=users, members=members))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Goal.id))) == counted
    assert db.session.scalar(sa.select(sa.func.count(GoalCheckIn.id))) == counted_check_ins

    maria = goals_of(patients["maria"])
    walk = next(g for g in maria if g.description.startswith("Caminar 20 minutos"))
    walk_check_ins = check_ins(walk.id)
    assert len({c.recorded_at.date() for c in walk_check_ins}) == len(walk_check_ins) >= 3
    assert all(c.recorded_at < utcnow() for c in walk_check_ins)
    assert any(
        g.lifecycle_status is GoalLifecycle.PROPOSED and g.expressed_by_id == users["nurse"].id
        for g in maria
    )
    james = goals_of(patients["james"])
    a1c = next(g for g in james if "A1c" in g.description)
    assert a1c.higher_is_better is False
    assert len([c for c in check_ins(a1c.id) if c.value is not None]) >= 3
    assert any(g.expressed_by_id == users["doctor"].id for g in james)
    assert any(g.sensitivity is Sensitivity.BEHAVIORAL_HEALTH for g in james)
    assert len(goals_of(patients["leo"])) >= 1

    # María reads her goals in Spanish; Ana (no behavioral health access) doesn't see Jim's
    maria_browser = new_browser()
    maria_browser.login(users["maria"].email, DEMO_PASSWORD)
    page = text(maria_browser.get(goal_url(patients["maria"], walk)))
    assert "Caminar 20 minutos" in page
    assert page.count('class="goal-point"') == len(walk_check_ins)
    ana = new_browser()
    ana.login(users["ana"].email, DEMO_PASSWORD)
    listing = text(ana.get(f"/patients/{patients['james'].id}/goals"))
    assert "A1c" in listing
    assert "friend" not in listing
