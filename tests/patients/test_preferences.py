import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.extensions import db
from app.patients.models import Patient, PatientPreferences


@pytest.fixture
def people(make_patient, make_member, assign, make_user, grant):
    patient = make_patient(given="Maria", family="Lopez", mobile_phone="+15035550101")
    member = make_member()
    assign(patient, member)
    goals_cg = make_user(Role.CAREGIVER)
    grant(patient, goals_cg, scopes=["goals"])
    plan_cg = make_user(Role.CAREGIVER)
    grant(patient, plan_cg, scopes=["plan"])
    return {
        "patient": patient,
        "me": db.session.get(User, patient.user_id),
        "team": db.session.get(User, member.user_id),
        "goals_cg": goals_cg,
        "plan_cg": plan_cg,
        "admin": make_user(Role.ADMIN),
        "stranger": make_user(Role.CAREGIVER),
    }


FORM = {
    "what_matters_most": "Caring for my grandchildren",
    "preferred_name": "Mari",
    "pronouns": "ella",
    "language": "es",
    "interpreter_needed": "y",
    "contact_channels": ["sms", "portal"],
    "timezone": "America/Los_Angeles",
    "large_text": "y",
    "preferred_pharmacy": "Hillside",
    "decision_involvement": "My daughter",
}


def test_patient_sets_preferences_and_the_team_sees_them(people, new_browser):
    pid = people["patient"].id
    me = new_browser()
    me.login(people["me"].email)
    response = me.post(f"/patients/{pid}/preferences/edit", FORM)
    assert response.status_code == 302
    prefs = db.session.scalar(sa.select(PatientPreferences))
    assert prefs.contact_channels == ["sms", "portal"]
    assert prefs.large_text is True and prefs.detailed_texts is False
    db.session.expire_all()
    assert db.session.get(Patient, pid).preferred_name == "Mari"
    team = new_browser()
    team.login(people["team"].email)
    summary = team.get(f"/patients/{pid}").get_data(as_text=True)
    assert "Caring for my grandchildren" in summary
    assert "No texts from 20:00 to 09:00" in summary  # text settings: tests/reminders
    assert "My daughter" in summary


@pytest.mark.parametrize(
    ("who", "view", "edit"),
    [
        ("me", 200, 200),
        ("goals_cg", 200, 200),
        ("plan_cg", 200, 404),
        ("team", 200, 404),
        ("admin", 200, 404),
        ("stranger", 404, 404),
    ],
)
def test_who_sees_and_changes_preferences(people, new_browser, who, view, edit):
    b = new_browser()
    b.login(people[who].email)
    pid = people["patient"].id
    assert b.get(f"/patients/{pid}/preferences").status_code == view
    assert b.get(f"/patients/{pid}/preferences/edit").status_code == edit


def test_bad_preferences_are_refused_with_messages(people, new_browser):
    pid = people["patient"].id
    people["patient"].mobile_phone = None
    db.session.commit()
    me = new_browser()
    me.login(people["me"].email)
    bad = dict(FORM, contact_channels=["sms"], language="xx")
    response = me.post(f"/patients/{pid}/preferences/edit", bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Add a mobile phone number first." in html
    assert db.session.scalar(sa.select(sa.func.count(PatientPreferences.id))) == 0
    none = dict(FORM, contact_channels=[])
    assert "Choose at least one way." in me.post(
        f"/patients/{pid}/preferences/edit", none
    ).get_data(as_text=True)
