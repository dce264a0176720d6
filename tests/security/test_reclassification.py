"""Sensitivity is decided when the thing is read (issue 11, finding 2).

The nurse adds "Naltrexone 50 mg" to James's plan, James asks about it, a goal and a decision
talk about drinking; then each is set to substance use. Ana (no substance-use category) must
lose every trace at once: the item, its row in "What changed", James's question about it, the
goal, the decision, the counts and badges; and no text or email about them may reach her."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from app.auth.models import Role, User
from app.careplan.decisions import services as decisions
from app.careplan.decisions.models import Decision
from app.careplan.goals import services as goals
from app.careplan.goals.models import Goal
from app.careplan.items import services as items
from app.careplan.items.models import Area, ItemKind, OwnerKind, PlanItem
from app.careplan.items.services import ItemInput
from app.core.privacy import Actor, Capacity, Sensitivity, acting_as
from app.extensions import db
from app.messaging import services as messaging
from app.messaging.models import Topic
from app.team.models import Discipline
from tests.fixtures.browser import signed_in
from tests.fixtures.mail import outbox_emails

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
WORDS = ("Naltrexone", "drinking", "Drinking")


@pytest.fixture
def james(frozen_clock, make_patient, make_member, make_user, make_org, assign, grant):
    frozen_clock(NOW)
    patient = make_patient(given="James", family="Carter")
    nurse = make_member(Discipline.NURSING, name="Nina Patel")
    assign(patient, nurse, coordinator=True)
    ana = make_user(Role.CAREGIVER, name="Ana Carter")
    grant(patient, ana, scopes=["plan", "messages", "goals", "decisions"])
    org = make_org()
    nurse_user = db.session.get(User, nurse.user_id)
    team = Actor(user_id=nurse_user.id, capacity=Capacity.CARE_TEAM, patient=patient)
    with acting_as(team):
        item = items.add_item(
            patient.id,
            ItemInput(
                kind=ItemKind.MEDICATION,
                title="Naltrexone 50 mg each morning",
                area=Area.MEDICINES,
                status="active",
                discipline=Discipline.PRIMARY_CARE,
                source_organization_id=org.id,
                owner_kind=OwnerKind.PATIENT,
                medication_name="Naltrexone",
                dose="50 mg",
                prescriber_name="Dr. Okafor",
            ),
        )
        goal = goals.create_goal(
            patient.id,
            goals.GoalInput(description="Drinking: two nights a week at most"),
            today=NOW.date(),
        )
        decision = decisions.open_decision(
            patient.id,
            decisions.DecisionInput(
                question="How do you want to cut down on drinking?",
                options=[
                    decisions.OptionInput("A group", "Support.", "Time.", "Weekly."),
                    decisions.OptionInput("Alone", "Privacy.", "Harder.", "Daily."),
                ],
            ),
        )
    thread = messaging.start_thread(
        patient_id=patient.id,
        topic=Topic.MEDICATION,
        subject="Question about: Naltrexone 50 mg each morning",
        body="Can I drink at all while on this?",
        author_id=patient.user_id,
        capacity="patient",
        plan_item=item,
    )
    db.session.commit()
    return {
        "patient": patient,
        "ana": ana,
        "nurse": nurse_user,
        "me": db.session.get(User, patient.user_id),
        "item": item,
        "goal": goal,
        "decision": decision,
        "thread": thread,
    }


def pages(w) -> list[str]:
    base = f"/patients/{w['patient'].id}"
    return [
        base,
        f"{base}/today",
        f"{base}/plan",
        f"{base}/changes",
        f"{base}/goals",
        f"{base}/decisions",
        f"{base}/messages",
    ]


def things(w) -> list[str]:
    base = f"/patients/{w['patient'].id}"
    return [
        f"{base}/plan/items/{w['item'].id}",
        f"{base}/goals/{w['goal'].id}",
        f"{base}/decisions/{w['decision'].id}",
        f"{base}/messages/{w['thread'].id}",
    ]


def text(response) -> str:
    return response.get_data(as_text=True)


def reclassify(w) -> None:
    """Each kind, as the path it would take: the team's item form, the goal form, and (for the
    decision, which has no form for it) the row itself, as an import would."""
    team = Actor(user_id=w["nurse"].id, capacity=Capacity.CARE_TEAM, patient=w["patient"])
    with acting_as(team):
        item = db.session.get(PlanItem, w["item"].id)
        items.update_item(
            item, replace(ItemInput.from_item(item), sensitivity=Sensitivity.SUBSTANCE_USE)
        )
        goal = db.session.get(Goal, w["goal"].id)
        goals.edit_goal(
            goal,
            goals.GoalInput(description=goal.description, sensitivity=Sensitivity.SUBSTANCE_USE),
        )
    db.session.get(Decision, w["decision"].id).sensitivity = Sensitivity.SUBSTANCE_USE
    db.session.commit()


def test_before_reclassification_ana_sees_it_all(james, new_browser):
    ana = signed_in(new_browser, james["ana"])
    seen = " ".join(text(ana.get(p)) for p in pages(james))
    assert all(word in seen for word in ("Naltrexone", "drinking"))
    assert all(ana.get(p).status_code == 200 for p in things(james))


def test_after_reclassification_no_trace_is_left_for_ana(james, new_browser):
    reclassify(james)
    ana = signed_in(new_browser, james["ana"])
    for path in pages(james):
        response = ana.get(path)
        assert response.status_code == 200, path
        for word in WORDS:
            assert word not in text(response), (path, word)
    for path in things(james):
        assert ana.get(path).status_code == 404, path
    # the patient and the team still see everything
    me = signed_in(new_browser, james["me"])
    assert "Naltrexone" in text(me.get(f"/patients/{james['patient'].id}/changes"))
    assert me.get(things(james)[3]).status_code == 200


def test_after_reclassification_the_teams_answer_is_told_to_the_patient_only(james, new_browser):
    reclassify(james)
    messaging.add_message(
        james["thread"],
        body="Best not to.",
        author_id=james["nurse"].id,
        capacity="care_team",
    )
    db.session.commit()
    assert james["ana"].email not in {e.to_address for e in outbox_emails()}


def test_unread_counts_do_not_count_what_ana_may_not_see(james, new_browser):
    reclassify(james)
    messaging.add_message(
        james["thread"], body="Best not to.", author_id=james["nurse"].id, capacity="care_team"
    )
    db.session.commit()
    ana = signed_in(new_browser, james["ana"])
    listing = text(ana.get(f"/patients/{james['patient'].id}/messages"))
    assert 'id="unread-total">0 ' in listing and "Naltrexone" not in listing
