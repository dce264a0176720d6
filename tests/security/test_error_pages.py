"""A page is shown only to who may see it, its 422 re-render included (issue 11, finding 3).

A caregiver with "decisions" and "goals" but not "plan" got 404 on a decision, yet an empty
"what matters" answered 422 with the whole decision page (options, risks, history); a bad
check-in re-rendered the whole goal. Acting on a thing implies the right to see it."""

from __future__ import annotations

import itertools

import pytest

from app.auth.models import Role
from app.caregivers.models import CaregiverGrant, Scope
from app.caregivers.policy import (
    ADMIN_PERMISSIONS,
    CARE_TEAM_PERMISSIONS,
    IMPLIES,
    PATIENT_PERMISSIONS,
    caregiver_permissions,
)
from app.careplan.decisions import services as decisions
from app.careplan.goals import services as goals
from app.core.privacy import Actor, Capacity, acting_as
from app.extensions import db
from tests.fixtures.browser import signed_in


@pytest.fixture
def record(two_patients):
    w = two_patients
    helper = w.helper("Dee Decides", ["decisions", "goals"])
    with acting_as(Actor(user_id=w.member_user.id, capacity=Capacity.CARE_TEAM, patient=w.patient)):
        decision = decisions.open_decision(
            w.patient.id,
            decisions.DecisionInput(
                question="Which knee treatment?",
                options=[
                    decisions.OptionInput("Therapy", "Stronger knee.", "Sore days.", "Weekly."),
                    decisions.OptionInput("Injection", "Quick relief.", "Wears off.", "Once."),
                ],
            ),
        )
    with acting_as(Actor(user_id=w.patient_user.id, capacity=Capacity.PATIENT, patient=w.patient)):
        goal = goals.create_goal(
            w.patient.id, goals.GoalInput(description="Walk to the park"), today=w.patient.today()
        )
    db.session.commit()
    return {"w": w, "helper": helper, "decision": decision, "goal": goal}


def test_a_refused_form_shows_only_what_its_sender_may_see(record, new_browser):
    w = record["w"]
    base = f"/patients/{w.patient.id}"
    decision = f"{base}/decisions/{record['decision'].id}"
    goal = f"{base}/goals/{record['goal'].id}"
    dee = signed_in(new_browser, record["helper"])
    checks = [
        (
            dee.post(f"{decision}/what-matters", {"what_matters": ""}, form_url="/auth/account"),
            decision,
        ),
        (dee.post(f"{goal}/check-ins", {"value": "lots"}, form_url="/auth/account"), goal),
        (dee.get(f"{goal}/edit"), goal),
    ]
    for response, page in checks:
        assert response.status_code in (200, 422), page
        # whatever renders the thing is only for someone who may open the thing itself
        assert dee.get(page).status_code == 200, page
    assert dee.get(f"{base}/plan").status_code == 404  # and no more than that
    assert "Which knee treatment?" in dee.get(f"{base}/decisions").get_data(as_text=True)


def test_every_permission_set_includes_what_acting_implies():
    def closed(permissions) -> bool:
        return all(needed in permissions for p in permissions for needed in IMPLIES.get(p, ()))

    for capacity_set in (PATIENT_PERMISSIONS, CARE_TEAM_PERMISSIONS, ADMIN_PERMISSIONS):
        assert closed(capacity_set)
    scopes = [s.value for s in Scope]
    for n in range(len(scopes) + 1):
        for chosen in itertools.combinations(scopes, n):
            grant = CaregiverGrant(scopes=list(chosen))
            assert closed(caregiver_permissions(grant)), chosen


@pytest.mark.parametrize("role", [Role.CAREGIVER])
def test_a_caregiver_with_nothing_but_the_summary_sees_no_goal_or_decision(
    record, new_browser, make_user, grant, role
):
    w = record["w"]
    bare = make_user(role)
    grant(w.patient, bare, scopes=[])
    b = signed_in(new_browser, bare)
    base = f"/patients/{w.patient.id}"
    for path in (f"{base}/decisions/{record['decision'].id}", f"{base}/goals/{record['goal'].id}"):
        assert b.get(path).status_code == 404
        assert b.post(f"{path}/what-matters", {}, form_url="/auth/account").status_code == 404
