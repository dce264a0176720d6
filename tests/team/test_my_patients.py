"""My patients: a member's own panel, a page at a time; nobody else's, and only for the team."""

from __future__ import annotations

import pytest

from app.auth.models import Role, User
from app.extensions import db
from app.team import queries
from tests.fixtures.browser import signed_in


@pytest.fixture
def panel(make_patient, make_member, assign):
    nurse = make_member(name="Nina Patel")
    colleague = make_member(name="Other Nurse")
    mine = [make_patient(given=f"Mine{n:02d}", family="Panel") for n in range(27)]
    for patient in mine:
        assign(patient, nurse, coordinator=patient is mine[0])
    theirs = make_patient(given="Theirs", family="Elsewhere")
    assign(theirs, colleague)
    return {"nurse": nurse, "mine": mine, "theirs": theirs}


def test_a_member_sees_their_own_panel_a_page_at_a_time(panel, new_browser):
    browser = signed_in(new_browser, db.session.get(User, panel["nurse"].user_id))
    first = browser.get("/team/patients").get_data(as_text=True)
    assert "27 patients on your care teams" in first
    assert "Theirs Elsewhere" not in first
    assert first.count('class="row-link"') == 25
    assert "You coordinate" in first
    second = browser.get("/team/patients?page=2").get_data(as_text=True)
    assert second.count('class="row-link"') == 2 and "Theirs" not in second
    assert browser.get("/team/patients?page=0").status_code == 404
    assert browser.get("/team/patients?page=999999999999999999999").status_code == 404


@pytest.mark.parametrize("role", [Role.PATIENT, Role.CAREGIVER, Role.ADMIN])
def test_only_care_team_members_have_a_panel(role, make_user, new_browser):
    browser = signed_in(new_browser, make_user(role))
    assert browser.get("/team/patients").status_code == 404
    assert browser.get("/team/inbox").status_code == 404


def test_team_queries_answer_for_this_patient_only(panel):
    nurse = panel["nurse"]
    assert queries.on_care_team(panel["mine"][3].id, member_id=nurse.id)
    assert queries.on_care_team(panel["mine"][3].id, user_id=nurse.user_id)
    assert not queries.on_care_team(panel["theirs"].id, member_id=nurse.id)
    assert not queries.on_care_team(panel["theirs"].id, user_id=nurse.user_id)
    assert queries.member_for_user(nurse.user_id).id == nurse.id
    names = [p.given_name for p in queries.panel(nurse.id)]
    assert names == [f"Mine{n:02d}" for n in range(27)]
    assert [a.member_id for a in queries.care_team(panel["mine"][0].id)] == [nurse.id]
