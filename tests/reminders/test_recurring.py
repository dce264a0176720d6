"""Medicine, task and goal reminders at the patient's chosen times: local wall-clock times
across DST, quiet hours, frequency caps and consent, caregivers as recipients, and the
dispatcher's last check before sending."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.careplan.goals.models import Goal, GoalLifecycle
from app.careplan.items import services
from app.careplan.items.models import ItemKind, ItemStatus, PlanItem, Schedule
from app.core.privacy import Sensitivity
from app.extensions import db
from app.patients.models import PatientPreferences
from app.reminders.models import ReminderSchedule, TextConsent
from app.reminders.recurring import plan_due, replan_schedule
from app.reminders.replan import replan_item
from app.reminders.worker import plan_and_send
from app.texting import dispatcher
from app.texting.models import OutboundSms
from tests.fixtures.plan import add, med

LA = ZoneInfo("America/Los_Angeles")
PHONE = "+15035550101"
CAREGIVER_PHONE = "+15035550177"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LA)


@pytest.fixture
def maria(make_patient, make_org):
    patient = make_patient(
        given="María",
        family="López",
        mobile_phone=PHONE,
        language="es",
        timezone="America/Los_Angeles",
    )
    db.session.add(
        PatientPreferences(
            patient_id=patient.id,
            contact_channels=["sms", "portal"],
            quiet_start=time(21, 0),
            quiet_end=time(7, 0),
        )
    )
    db.session.commit()
    return {"patient": patient, "org": make_org()}


def schedule(patient, times, **subject) -> ReminderSchedule:
    row = ReminderSchedule(patient_id=patient.id, times=times, **subject)
    db.session.add(row)
    db.session.commit()
    return row


def texts(**where):
    db.session.expire_all()
    query = sa.select(OutboundSms).order_by(OutboundSms.send_after, OutboundSms.id)
    for name, value in where.items():
        query = query.where(getattr(OutboundSms, name) == value)
    return list(db.session.scalars(query))


def wall(rows, zone=LA):
    return [r.send_after.astimezone(zone).strftime("%m-%d %H:%M") for r in rows]


def metformin(maria, **kw):
    return med(maria["patient"], maria["org"], "Metformin", ["metformin"], "Dr. A", **kw)


def test_a_daily_medicine_reminder_stays_at_8_local_across_the_dst_change(app, maria):
    item = metformin(maria)
    plan = schedule(maria["patient"], ["08:00"], plan_item_id=item.id)
    # US DST ends Sunday 2026-11-01 at 02:00: 08:00 PDT is 15:00 UTC, 08:00 PST is 16:00 UTC.
    for day in (30, 31):
        plan_due(now=local(2026, 10, day, 9, 0))
    plan_due(now=local(2026, 11, 1, 9, 0))
    rows = texts(schedule_id=plan.id)
    assert wall(rows) == ["10-31 08:00", "11-01 08:00", "11-02 08:00"]
    assert [r.send_after.astimezone(UTC).hour for r in rows] == [15, 16, 16]
    assert {r.locale for r in rows} == {"es"} and {r.purpose for r in rows} == {"medication"}
    assert all("Metformin" not in r.body and "/r/" in r.body for r in rows)  # discreet


def test_planning_twice_plans_once(app, maria):
    item = metformin(maria)
    schedule(maria["patient"], ["08:00"], plan_item_id=item.id)
    first = plan_due(now=local(2026, 12, 1, 9, 0))
    again = plan_due(now=local(2026, 12, 1, 9, 5))
    assert (first, again) == (1, 0)
    assert len(texts()) == 1


def test_a_time_in_quiet_hours_waits_only_if_it_still_matters(app, maria):
    app.config["REMINDER_MAX_DELAY_MINUTES"] = 120
    early = metformin(maria, title="Early pill")
    late = metformin(maria, title="Late pill")
    TextConsent_agree(maria)
    schedule(maria["patient"], ["06:00"], plan_item_id=early.id)  # quiet until 07:00: 1 h late
    schedule(maria["patient"], ["22:30"], plan_item_id=late.id)  # would be 07:00 next day
    plan_due(now=local(2026, 12, 1, 12, 0))
    assert wall(texts(plan_item_id=early.id)) == ["12-02 07:00"]
    assert texts(plan_item_id=late.id) == []


def TextConsent_agree(maria):
    db.session.add(
        TextConsent(patient_id=maria["patient"].id, given=True, wording="I agree", locale="es")
    )
    db.session.commit()


def test_caps_one_a_day_unless_the_patient_agreed_to_more(app, maria):
    app.config["REMINDER_PLAN_HOURS"] = 12  # today only
    item = metformin(maria)
    plan = schedule(maria["patient"], ["08:00", "18:00"], plan_item_id=item.id)
    plan_due(now=local(2026, 12, 1, 7, 0))
    rows = texts(schedule_id=plan.id)
    assert [(r.status, r.error_code) for r in rows] == [
        ("queued", None),
        ("skipped", "daily_limit"),
    ]
    TextConsent_agree(maria)
    replan_schedule(db.session.get(ReminderSchedule, plan.id), now=local(2026, 12, 1, 7, 0))
    db.session.commit()
    assert [r.status for r in texts(schedule_id=plan.id)] == ["queued", "queued"]
    # Taking it back (a newer row) restores the cap.
    db.session.add(
        TextConsent(patient_id=maria["patient"].id, given=False, wording="no", locale="es")
    )
    db.session.commit()
    replan_schedule(db.session.get(ReminderSchedule, plan.id), now=local(2026, 12, 1, 7, 0))
    db.session.commit()
    assert [r.status for r in texts(schedule_id=plan.id)] == ["queued", "skipped"]


def test_three_a_week(app, maria):
    item = metformin(maria)
    schedule(maria["patient"], ["08:00"], plan_item_id=item.id)
    # Monday 2026-11-30 to Sunday 2026-12-06 is one calendar week.
    for day in range(29, 31):
        plan_due(now=local(2026, 11, day, 9, 0))
    for day in range(1, 7):
        plan_due(now=local(2026, 12, day, 9, 0))
    week = [r for r in texts() if local(2026, 11, 30) <= r.send_after < local(2026, 12, 7)]
    assert [r.status for r in week] == ["queued"] * 3 + ["skipped"] * 4
    assert {r.error_code for r in week if r.status == "skipped"} == {"weekly_limit"}


def test_an_appointment_reminder_takes_the_place_of_a_medicine_reminder(app, maria):
    app.config["REMINDER_PLAN_HOURS"] = 12  # today only
    item = metformin(maria)
    plan = schedule(maria["patient"], ["08:00"], plan_item_id=item.id)
    plan_due(now=local(2026, 12, 1, 7, 0))
    prefs = db.session.scalar(sa.select(PatientPreferences))
    prefs.reminder_lead_hours = [2]
    visit = add(
        maria["patient"],
        maria["org"],
        kind=ItemKind.APPOINTMENT,
        title="Visit",
        starts_at=local(2026, 12, 1, 15, 0),
    )
    replan_item(visit, now=local(2026, 12, 1, 7, 30))
    db.session.commit()
    assert [(r.purpose, r.status) for r in texts(schedule_id=plan.id)] == [
        ("medication", "skipped")
    ]
    assert [r.status for r in texts(plan_item_id=visit.id)] == ["queued"]


def test_weekly_task_goal_and_one_time_task(app, maria):
    weekly = add(
        maria["patient"], maria["org"], title="Weigh yourself", schedule=Schedule.WEEKLY, weekday=2
    )
    once = add(
        maria["patient"],
        maria["org"],
        title="Call the food bank",
        schedule=Schedule.ONCE,
        due_date=date(2026, 12, 4),
    )
    goal = Goal(
        patient_id=maria["patient"].id,
        description="Walk every day",
        lifecycle_status=GoalLifecycle.ACTIVE,
        expressed_by_capacity="patient",
    )
    db.session.add(goal)
    db.session.commit()
    TextConsent_agree(maria)
    schedule(maria["patient"], ["10:00"], plan_item_id=weekly.id, weekdays=[2])
    schedule(maria["patient"], ["11:00"], plan_item_id=once.id)
    schedule(maria["patient"], ["17:00"], goal_id=goal.id, weekdays=[4])
    for day in range(1, 8):
        plan_due(now=local(2026, 12, day, 9, 0))
    assert wall(texts(purpose="task")) == ["12-02 10:00", "12-04 11:00"]
    assert wall(texts(purpose="goal")) == ["12-04 17:00"]
    assert "/r/" in texts(purpose="goal")[0].body


def test_closed_items_and_finished_goals_get_no_more_reminders(app, maria):
    item = metformin(maria)
    plan = schedule(maria["patient"], ["08:00"], plan_item_id=item.id)
    plan_due(now=local(2026, 12, 1, 9, 0))
    assert len(texts(schedule_id=plan.id)) == 1
    services.set_status(db.session.get(PlanItem, item.id), ItemStatus.STOPPED)
    db.session.commit()
    assert texts(schedule_id=plan.id) == []  # the waiting one went with it
    plan_due(now=local(2026, 12, 2, 9, 0))
    assert texts(schedule_id=plan.id) == []


def test_kinds_turned_off_are_not_planned(app, maria):
    prefs = db.session.scalar(sa.select(PatientPreferences))
    prefs.reminder_kinds = ["appointment"]
    db.session.commit()
    schedule(maria["patient"], ["08:00"], plan_item_id=metformin(maria).id)
    assert plan_due(now=local(2026, 12, 1, 9, 0)) == 0


# ------------------------------------------------------------------ caregivers


@pytest.fixture
def ana(make_user, grant, maria):
    user = make_user(
        Role.CAREGIVER,
        name="Ana Carter",
        locale="en",
        mobile_phone=CAREGIVER_PHONE,
        mobile_phone_verified_at=datetime(2026, 11, 1, tzinfo=UTC),
        timezone="America/New_York",
    )
    row = grant(maria["patient"], user, scopes=("plan", "reminders"))
    return {"user": user, "grant": row}


def test_a_caregiver_with_the_reminders_scope_gets_their_own_text(app, maria, ana):
    item = metformin(maria)
    schedule(maria["patient"], ["08:00"], plan_item_id=item.id)
    plan_due(now=local(2026, 12, 1, 4, 0))
    mine, hers = texts(to_number=PHONE), texts(to_number=CAREGIVER_PHONE)
    assert len(mine) == 1 and len(hers) == 1
    assert hers[0].locale == "en" and hers[0].user_id == ana["user"].id
    assert hers[0].body.startswith("CareCircle: a reminder for María")
    assert "Metformin" not in hers[0].body


def test_caregivers_get_nothing_without_scope_proof_or_category(app, maria, ana, make_user, grant):
    unproven = make_user(Role.CAREGIVER, mobile_phone="+15035550178")
    grant(maria["patient"], unproven, scopes=("reminders",))
    counseling = add(
        maria["patient"],
        maria["org"],
        title="Counseling homework",
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )
    schedule(maria["patient"], ["10:00"], plan_item_id=counseling.id)
    plan_due(now=local(2026, 12, 1, 4, 0))
    assert texts(to_number="+15035550178") == []  # number never proven
    assert texts(to_number=CAREGIVER_PHONE) == []  # category not included for Ana
    assert len(texts(to_number=PHONE)) == 1
    ana["grant"].sensitive_categories = ["behavioral_health"]
    db.session.commit()
    replan_schedule(db.session.scalar(sa.select(ReminderSchedule)), now=local(2026, 12, 1, 4, 0))
    db.session.commit()
    assert len(texts(to_number=CAREGIVER_PHONE)) == 1


def test_access_ending_stops_a_planned_text_at_dispatch(app, maria, ana, frozen_clock):
    ana["grant"].starts_at = local(2026, 11, 1, 0, 0)  # not "now": the clock is frozen below
    db.session.commit()
    item = metformin(maria)
    schedule(maria["patient"], ["08:00"], plan_item_id=item.id)
    frozen_clock(local(2026, 12, 1, 4, 0).astimezone(UTC))
    plan_due()
    assert len(texts(to_number=CAREGIVER_PHONE)) == 1
    ana["grant"].ends_at = local(2026, 12, 1, 6, 0)  # expires before the text is due
    db.session.commit()
    frozen_clock(local(2026, 12, 1, 8, 1).astimezone(UTC))
    outcome = dispatcher.dispatch_once()
    assert outcome["sent"] == 1 and outcome["skipped"] == 1
    [hers] = texts(to_number=CAREGIVER_PHONE)
    assert (hers.status, hers.error_code) == ("skipped", "no_access")
    [mine] = texts(to_number=PHONE)
    assert mine.status == "stored"


def test_a_kind_turned_off_after_planning_is_not_sent(app, maria, frozen_clock):
    schedule(maria["patient"], ["08:00"], plan_item_id=metformin(maria).id)
    frozen_clock(local(2026, 12, 1, 4, 0).astimezone(UTC))
    plan_due()
    db.session.scalar(sa.select(PatientPreferences)).reminder_kinds = ["appointment"]
    db.session.commit()
    frozen_clock(local(2026, 12, 1, 8, 1).astimezone(UTC))
    assert dispatcher.dispatch_once()["skipped"] == 1
    assert texts()[0].error_code == "turned_off"


def test_the_dispatcher_plans_and_sends_through_twilio(app, maria, fake_twilio, frozen_clock):
    app.config["REMINDER_PLAN_HOURS"] = 12  # today only
    app.config["SMS_RATE_PER_SECOND"] = 0
    schedule(maria["patient"], ["08:00"], plan_item_id=metformin(maria).id)
    frozen_clock(local(2026, 12, 1, 7, 59).astimezone(UTC))
    assert plan_and_send()["planned"] == 1
    frozen_clock(local(2026, 12, 1, 8, 0).astimezone(UTC) + timedelta(seconds=1))
    outcome = plan_and_send()
    assert outcome["sent"] == 1
    [sent] = fake_twilio.messages
    assert sent["To"] == PHONE and "/r/" in sent["Body"]


# ------------------------------------------------------------------ planned_until


def test_a_steady_round_looks_only_at_schedules_with_something_new(app, maria, count_queries):
    """The planner ran 9 queries per schedule per round; now a round where nothing new came
    within the horizon is one query, whatever the number of schedules."""
    for name in ("Metformin", "Lisinopril", "Atorvastatin"):
        item = med(maria["patient"], maria["org"], name, [name.lower()], "Dr. A")
        schedule(maria["patient"], ["08:00", "20:00"], plan_item_id=item.id)
    plan_due(now=local(2026, 12, 1, 9, 0))
    planned = {r.reminder_key for r in texts()}

    with count_queries() as counter:
        assert plan_due(now=local(2026, 12, 1, 9, 1)) == 0
    selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    assert len([s for s in selects if "reminder_schedules" in s]) == 1
    assert not [s for s in counter.statements if "outbound_sms" in s]

    # A day later each schedule has new occurrences within the horizon: planned once each.
    plan_due(now=local(2026, 12, 2, 9, 0))
    again = [r for r in texts() if r.reminder_key not in planned]
    assert again and len({r.reminder_key for r in texts()}) == len(texts())


def test_planned_until_is_the_first_occurrence_not_planned(app, maria):
    item = metformin(maria)
    plan = schedule(maria["patient"], ["08:00"], plan_item_id=item.id)
    app.config["REMINDER_PLAN_HOURS"] = 26
    plan_due(now=local(2026, 12, 1, 9, 0))  # plans 12-02 08:00; 12-03 08:00 is beyond
    db.session.refresh(plan)
    assert plan.planned_until.astimezone(LA) == local(2026, 12, 3, 8, 0)
    assert plan_due(now=local(2026, 12, 2, 5, 0)) == 0  # not within 26 h yet: not looked at
    assert plan_due(now=local(2026, 12, 2, 7, 0)) == 1  # now it is


def test_changing_the_times_plans_again_at_once(app, maria):
    item = metformin(maria)
    plan = schedule(maria["patient"], ["08:00"], plan_item_id=item.id)
    plan_due(now=local(2026, 12, 1, 9, 0))
    plan.times = ["08:00", "18:00"]
    replan_schedule(plan, now=local(2026, 12, 1, 9, 30))
    db.session.commit()
    assert wall(texts(schedule_id=plan.id)) == ["12-01 18:00", "12-02 08:00"]


def test_the_planner_runs_on_its_own(app, maria):
    """`flask reminders plan --once`: a full round, without sending anything."""
    item = metformin(maria)
    schedule(maria["patient"], ["08:00", "20:00"], plan_item_id=item.id)
    result = app.test_cli_runner().invoke(args=["reminders", "plan", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("planned=")
    assert {r.status for r in texts()} <= {"queued", "skipped"} and texts()
