"""My patients: a member's own panel, a page at a time; nobody else's, and only for the team."""

from __future__ import annotations

import re

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
    following = re.search(r'href="(/team/patients\?after=\d+)"', first).group(1)
    second = browser.get(following).get_data(as_text=True)
    assert second.count('class="row-link"') == 2 and "Theirs" not in second
    assert "Mine25 Panel" in second and "Mine26 Panel" in second and "Mine24" not in second
    assert "Previous" in second and ">Next<" not in second
    # Someone else's patient, an unknown id, a huge id or garbage as the cursor: 404
    for cursor in (panel["theirs"].id, 10**8, "999999999999999999999", "x"):
        assert browser.get(f"/team/patients?after={cursor}").status_code == 404
        assert browser.get(f"/team/patients?before={cursor}").status_code == 404
    assert browser.get("/team/patients?after=1%00").status_code in (400, 404)


def test_a_member_finds_a_patient_by_the_first_letters_of_the_name(panel, new_browser):
    browser = signed_in(new_browser, db.session.get(User, panel["nurse"].user_id))
    found = browser.get("/team/patients?q=panel+MINE1").get_data(as_text=True)
    assert found.count('class="row-link"') == 10 and "Mine10 Panel" in found
    assert "10 patients on your care teams" in found
    accents = browser.get("/team/patients?q=P%C3%A1nel").get_data(as_text=True)
    assert accents.count('class="row-link"') == 25  # "Pánel" finds "Panel"
    elsewhere = browser.get("/team/patients?q=Elsewhere").get_data(as_text=True)
    assert "Theirs" not in elsewhere and "starts like that" in elsewhere
    assert browser.get("/team/patients?q=a%00b").status_code == 400


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
    page, total = queries.panel_page(nurse.id, 100)
    assert [row[0].given_name for row in page.rows] == [f"Mine{n:02d}" for n in range(27)]
    assert total == 27
    assert [a.member_id for a in queries.care_team(panel["mine"][0].id)] == [nurse.id]
