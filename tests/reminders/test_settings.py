"""The Text reminders page, reminder times on medicines, tasks and goals, and short links,
through the running app as a patient, a caregiver and the team use them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.careplan.goals.models import Goal, GoalLifecycle
from app.careplan.items.models import ItemKind
from app.core.audit import AuditEvent
from app.core.privacy import Sensitivity
from app.extensions import db
from app.patients.models import PatientPreferences
from app.reminders.models import ReminderSchedule, TextConsent
from app.texting.models import OutboundSms
from tests.fixtures.plan import add, med

SETTINGS = {
    "kinds": ["appointment", "medication", "goal"],
    "reminder_lead_hours": ["24", "2"],
    "quiet_start": "21:30",
    "quiet_end": "08:00",
    "more_texts": "y",
}


@pytest.fixture
def people(make_patient, make_member, make_org, assign, make_user, grant):
    patient = make_patient(given="Maria", family="Lopez", mobile_phone="+15035550101")
    member = make_member()
    assign(patient, member)
    goals_cg = make_user(Role.CAREGIVER)
    grant(patient, goals_cg, scopes=["goals"])
    plan_cg = make_user(Role.CAREGIVER)
    grant(patient, plan_cg, scopes=["plan"])
    org = make_org()
    return {
        "patient": patient,
        "org": org,
        "me": db.session.get(User, patient.user_id),
        "team": db.session.get(User, member.user_id),
        "goals_cg": goals_cg,
        "plan_cg": plan_cg,
        "pill": med(patient, org, "Metformin", ["metformin"], "Dr. A"),
    }


def as_(new_browser, user):
    b = new_browser()
    b.login(user.email)
    return b


def test_the_patient_chooses_texts_and_agrees_to_more_with_the_words_kept(people, new_browser):
    pid = people["patient"].id
    me = as_(new_browser, people["me"])
    page = me.get(f"/patients/{pid}/reminders").get_data(as_text=True)
    assert "at most 1 reminder a day and 3 a week" in page
    assert "Metformin" in page  # it can have reminder times
    response = me.post(f"/patients/{pid}/reminders", SETTINGS)
    assert response.status_code == 302
    prefs = db.session.scalar(sa.select(PatientPreferences))
    assert prefs.reminder_kinds == ["appointment", "medication", "goal"]
    assert prefs.reminder_lead_hours == [24, 2]
    assert prefs.quiet_start.strftime("%H:%M") == "21:30"
    assert prefs.detailed_texts is False
    [consent] = db.session.scalars(sa.select(TextConsent)).all()
    assert consent.given is True and consent.recorded_by_id == people["me"].id
    assert consent.wording.startswith("I agree to get more than one reminder text a day")
    assert "up to 6 a day" in consent.wording and consent.locale == "en"
    assert consent.recorded_at is not None
    # Saving again without a change records nothing new; unticking records the withdrawal.
    me.post(f"/patients/{pid}/reminders", SETTINGS)
    assert db.session.scalar(sa.select(sa.func.count(TextConsent.id))) == 1
    me.post(f"/patients/{pid}/reminders", {k: v for k, v in SETTINGS.items() if k != "more_texts"})
    db.session.expire_all()
    assert [
        c.given for c in db.session.scalars(sa.select(TextConsent).order_by(TextConsent.id))
    ] == [True, False]
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.resource == "patient.reminders"
            )
        )
        >= 3
    )


def test_bad_settings_are_refused_and_nothing_changes(people, new_browser):
    pid = people["patient"].id
    me = as_(new_browser, people["me"])
    bad = dict(SETTINGS, quiet_start="20:00", quiet_end="20:00")
    response = me.post(f"/patients/{pid}/reminders", bad)
    assert response.status_code == 422
    assert "Quiet hours need a different start and end." in response.get_data(as_text=True)
    missing = dict(SETTINGS, quiet_start="")
    assert "Choose a time." in me.post(f"/patients/{pid}/reminders", missing).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(PatientPreferences.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(TextConsent.id))) == 0


@pytest.mark.parametrize(
    ("who", "status"),
    # The patient's own, nobody else's: not a caregiver with "goals", not the team.
    [("me", 200), ("goals_cg", 404), ("plan_cg", 404), ("team", 404)],
)
def test_who_may_change_text_settings(people, new_browser, who, status):
    pid = people["patient"].id
    b = as_(new_browser, people[who])
    assert b.get(f"/patients/{pid}/reminders").status_code == status
    item = people["pill"].id
    assert b.get(f"/patients/{pid}/plan/items/{item}/reminders").status_code == status


def test_set_reminder_times_on_a_medicine_plans_texts(people, new_browser):
    pid, item = people["patient"].id, people["pill"].id
    me = as_(new_browser, people["me"])
    detail = me.get(f"/patients/{pid}/plan/items/{item}").get_data(as_text=True)
    assert f"/patients/{pid}/plan/items/{item}/reminders" in detail
    response = me.post(
        f"/patients/{pid}/plan/items/{item}/reminders", {"time_1": "08:00", "time_2": "20:00"}
    )
    assert response.status_code == 302
    schedule = db.session.scalar(sa.select(ReminderSchedule))
    assert schedule.times == ["08:00", "20:00"] and schedule.active
    rows = db.session.scalars(
        sa.select(OutboundSms).where(OutboundSms.schedule_id == schedule.id)
    ).all()
    assert rows and {r.purpose for r in rows} == {"medication"}
    page = me.get(f"/patients/{pid}/plan/items/{item}/reminders").get_data(as_text=True)
    assert "You chose more than one time a day" in page
    assert "is in your quiet hours" in page  # 20:00 with the default 20:00-09:00
    off = me.post(f"/patients/{pid}/plan/items/{item}/reminders", {"action": "off"})
    assert off.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReminderSchedule, schedule.id).active is False
    assert (
        db.session.scalar(
            sa.select(sa.func.count(OutboundSms.id)).where(
                OutboundSms.schedule_id == schedule.id, OutboundSms.status == "queued"
            )
        )
        == 0
    )


def test_times_are_required_and_only_for_medicines_tasks_and_visible_items(people, new_browser):
    pid = people["patient"].id
    me = as_(new_browser, people["me"])
    url = f"/patients/{pid}/plan/items/{people['pill'].id}/reminders"
    response = me.post(url, {"time_1": ""})
    assert response.status_code == 422 and "Choose at least one time." in response.get_data(
        as_text=True
    )
    assert me.post(url, {"time_1": "25:99"}).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(ReminderSchedule.id))) == 0
    visit = add(people["patient"], people["org"], kind=ItemKind.APPOINTMENT, title="Visit")
    assert me.get(f"/patients/{pid}/plan/items/{visit.id}/reminders").status_code == 404
    hidden = add(
        people["patient"],
        people["org"],
        title="Therapy homework",
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )
    goals_cg = as_(new_browser, people["goals_cg"])
    assert goals_cg.get(f"/patients/{pid}/plan/items/{hidden.id}/reminders").status_code == 404
    assert me.get(f"/patients/{pid}/plan/items/{hidden.id}/reminders").status_code == 200


def test_weekly_goal_check_in_reminder(people, new_browser):
    pid = people["patient"].id
    goal = Goal(
        patient_id=pid,
        description="Walk to the mailbox",
        lifecycle_status=GoalLifecycle.ACTIVE,
        expressed_by_capacity="patient",
    )
    db.session.add(goal)
    db.session.commit()
    me = as_(new_browser, people["me"])
    assert f"/goals/{goal.id}/reminders" in me.get(f"/patients/{pid}/goals/{goal.id}").get_data(
        as_text=True
    )
    response = me.post(
        f"/patients/{pid}/goals/{goal.id}/reminders", {"weekday": "4", "time_1": "17:00"}
    )
    assert response.status_code == 302
    schedule = db.session.scalar(sa.select(ReminderSchedule))
    assert (schedule.goal_id, schedule.weekdays, schedule.times) == (goal.id, [4], ["17:00"])


def test_turning_a_kind_off_drops_its_waiting_texts(people, new_browser):
    pid, item = people["patient"].id, people["pill"].id
    me = as_(new_browser, people["me"])
    me.post(f"/patients/{pid}/plan/items/{item}/reminders", {"time_1": "08:00"})
    assert db.session.scalar(sa.select(sa.func.count(OutboundSms.id))) >= 1
    me.post(f"/patients/{pid}/reminders", dict(SETTINGS, kinds=["appointment"]))
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(sa.func.count(OutboundSms.id)).where(OutboundSms.purpose == "medication")
        )
        == 0
    )


def test_short_links_lead_to_the_page_and_unknown_codes_404(people, new_browser, app, make_user):
    from app.texting.links import code_for

    pid, item = people["patient"].id, people["pill"].id
    with app.test_request_context():
        code = code_for(f"/patients/{pid}/plan/items/{item}")
        assert code_for(f"/patients/{pid}/plan/items/{item}") == code  # one code per path
        db.session.commit()
    assert len(code) == 7 and str(pid) not in code
    me = as_(new_browser, people["me"])
    response = me.get(f"/r/{code}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/patients/{pid}/plan/items/{item}")
    assert me.get("/r/zzzzzzz").status_code == 404
    # Anyone else following the link meets the access policy at the link itself: the same 404
    # as a made-up code, and the record's path is not revealed.
    stranger = as_(new_browser, make_user(Role.CAREGIVER))
    refused = stranger.get(f"/r/{code}")
    assert refused.status_code == 404 and "Location" not in refused.headers
    team = as_(new_browser, people["team"])
    target = team.get(f"/r/{code}").headers["Location"]
    assert team.get(target).status_code == 200
