"""Outcome measures (docs/metrics.md #goals, #decisions, #reminders, #no_shows, #flags), each on a
hand-built data set whose answers are worked out by hand in the comments.

The period is November 2026 in Oregon (local days; the clocks went back on 1 November, so a
local day is UTC-8). In every data set a row at 23:30 on 30 November counts and one at 00:30 on
1 December does not. Patients: James and Maria of organization A, Lee of organization B; the
nurse's panel ("team") is James and Lee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.careplan.decisions.models import Decision, DecisionEntry, DecisionEntryKind, DecisionStatus
from app.careplan.goals.models import Goal, GoalAchievement, GoalCheckIn, GoalLifecycle
from app.careplan.items.models import (
    Area,
    Attendance,
    FlagKind,
    FlagResolution,
    FlagStatus,
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanFlag,
    PlanItem,
)
from app.careplan.models import ChangeKind, ChangeSubject, PlanChange
from app.extensions import db
from app.metrics.measures import REGISTRY, Kind, Scope
from app.metrics.outcomes import price_of_test
from app.patients.models import Patient
from app.team.models import Discipline
from app.texting.models import InboundSms, OutboundSms, PhoneOptOut
from config import parse_prices

ZONE = ZoneInfo("America/Los_Angeles")
NOVEMBER = Scope(date(2026, 11, 1), date(2026, 11, 30), zone=ZONE)
EMPTY = Scope(date(2025, 3, 1), date(2025, 3, 31), zone=ZONE)


def at(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026) -> datetime:
    """A local time in Oregon, as the UTC instant the database keeps."""
    return datetime.combine(date(year, month, day), time(hour, minute), tzinfo=ZONE).astimezone(UTC)


LAST_MINUTES = at(11, 30, 23, 30)  # counts
NEXT_DAY = at(12, 1, 0, 30)  # does not


@dataclass
class World:
    org_a: object
    org_b: object
    james: Patient
    maria: Patient
    lee: Patient
    member_id: int

    def scopes(self) -> dict[str, Scope]:
        return {
            "all": NOVEMBER,
            "org_a": Scope(NOVEMBER.start, NOVEMBER.end, organization_id=self.org_a.id, zone=ZONE),
            "org_b": Scope(NOVEMBER.start, NOVEMBER.end, organization_id=self.org_b.id, zone=ZONE),
            "team": Scope(NOVEMBER.start, NOVEMBER.end, member_id=self.member_id, zone=ZONE),
        }


@pytest.fixture
def world(make_org, make_patient, make_member, assign) -> World:
    org_a, org_b = make_org(name="Org A"), make_org(name="Org B")
    james = make_patient(given="James", with_login=False, organization_id=org_a.id)
    maria = make_patient(given="Maria", with_login=False, organization_id=org_a.id)
    lee = make_patient(given="Lee", with_login=False, organization_id=org_b.id)
    nurse = make_member(org=org_a)
    assign(james, nurse)
    assign(lee, nurse)
    return World(org_a, org_b, james, maria, lee, nurse.id)


def compute(key: str, scope: Scope):
    return REGISTRY[key].compute(scope)


def figures(result) -> dict:
    return {f.key: f for f in result.figures}


def values(result) -> dict:
    return {f.key: f.value for f in result.figures}


def item(patient, org, kind=ItemKind.TASK, created=None, **kw) -> PlanItem:
    row = PlanItem(
        patient_id=patient.id,
        kind=kind,
        title=kw.pop("title", "Thing"),
        area=Area.PHYSICAL_HEALTH,
        discipline=Discipline.NURSING,
        source_organization_id=org.id,
        owner_kind=OwnerKind.TEAM_MEMBER,
        status=kw.pop("status", ItemStatus.ACTIVE),
        created_at=created or at(10, 1),
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


def sms(patient, purpose, status, sent_at=None, send_after=None, **kw) -> OutboundSms:
    row = OutboundSms(
        to_number=kw.pop("to_number", f"+1503555{patient.id:04d}"),
        patient_id=patient.id,
        purpose=purpose,
        locale="en",
        body="CareCircle: a reminder",
        status=status,
        sent_at=sent_at,
        send_after=send_after or sent_at,
        created_at=(send_after or sent_at),
        **kw,
    )
    db.session.add(row)
    return row


def test_every_outcome_measure_is_registered_in_order():
    from app.metrics.measures import ORDER, all_measures

    keys = [m.key for m in all_measures()]
    assert {"goals", "decisions", "reminders", "no_shows", "flags"} <= set(keys)
    ranked = [key for key in keys if key in ORDER]
    assert ranked == sorted(ranked, key=ORDER.index)


# ------------------------------------------------------------------ goals


def goal(patient, capacity, created, **kw) -> Goal:
    row = Goal(
        patient_id=patient.id,
        description=kw.pop("description", "Walk to the mailbox"),
        lifecycle_status=kw.pop("lifecycle_status", GoalLifecycle.ACTIVE),
        achievement_status=kw.pop("achievement_status", GoalAchievement.IN_PROGRESS),
        expressed_by_capacity=capacity,
        created_at=created,
        **kw,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def goals_data(world):
    w = world
    # James: a plan since October and his own goal since October; reached it on 15 November.
    item(w.james, w.org_a, created=at(10, 10))
    own = goal(w.james, "patient", at(10, 20), achievement_status=GoalAchievement.ACHIEVED)
    db.session.add(
        GoalCheckIn(
            goal_id=own.id,
            achievement_status=GoalAchievement.ACHIEVED,
            capacity="patient",
            recorded_at=at(11, 15),
        )
    )
    # Maria: a plan from 5 November; only the team's goals. One finished as reached at the last
    # minute of November, one as not reached, and one reached by a check-in on 1 December.
    item(w.maria, w.org_a, created=at(11, 5))
    for capacity_goal, achievement, when in (
        (GoalAchievement.ACHIEVED, ChangeKind.COMPLETED, LAST_MINUTES),
        (GoalAchievement.NOT_ACHIEVED, ChangeKind.COMPLETED, at(11, 20)),
    ):
        done = goal(
            w.maria,
            "care_team",
            at(11, 6),
            lifecycle_status=GoalLifecycle.COMPLETED,
            achievement_status=capacity_goal,
        )
        db.session.add(
            PlanChange(
                patient_id=w.maria.id,
                subject=ChangeSubject.GOAL,
                subject_id=done.id,
                change=achievement,
                title=done.description,
                capacity="care_team",
                occurred_at=when,
            )
        )
    late = goal(w.maria, "care_team", at(11, 6), achievement_status=GoalAchievement.ACHIEVED)
    db.session.add(
        GoalCheckIn(
            goal_id=late.id,
            achievement_status=GoalAchievement.ACHIEVED,
            capacity="care_team",
            recorded_at=NEXT_DAY,
        )
    )
    # Lee: his caregiver writes his first goal at 23:30 on 30 November (his plan starts then).
    goal(w.lee, "caregiver", LAST_MINUTES)
    db.session.commit()
    return w


def test_goals_share_in_own_words_reached_and_set(goals_data):
    result = compute("goals", NOVEMBER)
    headline = result.figures[0]
    # With a plan by the end: James, Maria, Lee; in their own words: James, Lee.
    assert (headline.key, headline.kind) == ("own_words", Kind.SHARE)
    assert (headline.numerator, headline.denominator) == (2, 3)
    assert headline.value == pytest.approx(2 / 3)
    # Reached: James's (check-in 15 Nov) and Maria's finished one (23:30 on 30 Nov); not the
    # one finished "not reached", nor the check-in on 1 December.
    # Set by the patient side in November: Lee's (James's is from October).
    assert values(result)["achieved"] == 2
    assert values(result)["set"] == 1
    # Weeks: 1 Nov (Sun), 2-8, 9-15, 16-22, 23-29, 30 Nov. At the end of 1 Nov only James has
    # a plan (Maria's starts 5 Nov, Lee's on 30 Nov).
    assert result.trend == pytest.approx([1.0, 0.5, 0.5, 0.5, 0.5, 2 / 3])


def test_goals_filters(goals_data):
    found = {name: compute("goals", s).figures[0] for name, s in goals_data.scopes().items()}
    assert (found["org_a"].numerator, found["org_a"].denominator) == (1, 2)  # James, Maria
    assert (found["org_b"].numerator, found["org_b"].denominator) == (1, 1)  # Lee
    assert (found["team"].numerator, found["team"].denominator) == (2, 2)  # James, Lee
    assert values(compute("goals", goals_data.scopes()["org_b"]))["achieved"] == 0


def test_goals_empty_period_is_no_data(goals_data):
    result = compute("goals", EMPTY)
    assert result.figures[0].value is None
    assert result.figures[0].denominator == 0
    assert result.trend == [None] * len(EMPTY.buckets())


# ------------------------------------------------------------------ decisions


def decision(patient, created, status=DecisionStatus.OPEN, decided_at=None) -> Decision:
    row = Decision(
        patient_id=patient.id,
        question="How do you want to treat your knee pain?",
        status=status,
        decided_at=decided_at,
        created_at=created,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def decisions_data(world):
    w = world
    decision(w.james, at(10, 1), DecisionStatus.DECIDED, at(11, 10))  # d1: decided in Nov
    decision(w.james, at(10, 1))  # d2: open all along
    decision(w.maria, at(11, 20), DecisionStatus.DECIDED, LAST_MINUTES)  # d3: decided, last minute
    decision(w.maria, at(10, 1), DecisionStatus.DECIDED, at(10, 31, 23, 30))  # d4: before Nov
    d5 = decision(w.lee, at(11, 2), DecisionStatus.WITHDRAWN)  # d5: withdrawn 3 Nov
    db.session.add(
        DecisionEntry(
            decision_id=d5.id,
            kind=DecisionEntryKind.WITHDRAWN,
            text="Not needed",
            capacity="care_team",
            created_at=at(11, 3),
        )
    )
    decision(w.lee, NEXT_DAY)  # d6: opened after November
    decision(w.lee, at(10, 1), DecisionStatus.DECIDED, NEXT_DAY)  # d7: open in Nov, decided after
    db.session.commit()
    return w


def test_decisions_decided_of_open(decisions_data):
    result = compute("decisions", NOVEMBER)
    headline = result.figures[0]
    # Open at some time in November: d1, d2, d3, d5, d7; decided in it: d1, d3.
    assert (headline.numerator, headline.denominator) == (2, 5)
    assert headline.value == pytest.approx(0.4)
    assert values(result) | {"decided_share": None} == {
        "decided_share": None,
        "decided": 2,
        "open": 5,
        "withdrawn": 1,
    }
    # 1 Nov: d1 d2 d7 open, none decided; 2-8: + d5; 9-15: d1 (decided 10th) d2 d7, one
    # decided; 16-22 and 23-29: d2 d3 d7; 30 Nov: d2 d3 d7, d3 decided.
    assert result.trend == pytest.approx([0.0, 0.0, 1 / 3, 0.0, 0.0, 1 / 3])


def test_decisions_filters_and_empty(decisions_data):
    scopes = decisions_data.scopes()
    org_a = compute("decisions", scopes["org_a"]).figures[0]
    assert (org_a.numerator, org_a.denominator) == (2, 3)  # d1 d2 d3
    team = compute("decisions", scopes["team"]).figures[0]
    assert (team.numerator, team.denominator) == (1, 4)  # d1 d2 d5 d7
    empty = compute("decisions", EMPTY)
    assert empty.figures[0].value is None
    assert set(empty.trend) == {None}


# ------------------------------------------------------------------ reminders


@pytest.fixture
def reminders_data(world):
    w = world
    appointment = item(w.james, w.org_a, ItemKind.APPOINTMENT, starts_at=at(11, 7))
    appointment.patient_confirmed_at = at(11, 6)
    unreminded = item(w.lee, w.org_b, ItemKind.APPOINTMENT, starts_at=at(11, 7))
    unreminded.patient_confirmed_at = at(11, 4)
    sms(w.james, "appointment", "delivered", at(11, 5), plan_item_id=appointment.id)  # r1
    sms(w.james, "medication", "sent", at(11, 6))  # r2: no outcome yet
    sms(w.maria, "task", "failed", send_after=at(11, 7))  # r3: refused at once
    sms(w.maria, "goal", "skipped", send_after=at(11, 8))  # r4: a cap
    sms(w.lee, "appointment", "delivered", LAST_MINUTES)  # r5
    sms(w.lee, "appointment", "delivered", NEXT_DAY)  # r6: December
    sms(w.james, "team_replied", "delivered", at(11, 5))  # r7: not a reminder
    sms(w.maria, "medication", "undelivered", at(11, 9))  # r8
    for n, (patient, handled, when) in enumerate(
        [
            (w.maria, "opt_out", at(11, 10)),  # Maria says STOP in November
            (w.james, "opt_out", at(10, 10)),  # James in October: not this period
            (w.james, "confirm", at(11, 6)),
            (w.james, "confirm", NEXT_DAY),
        ]
    ):
        db.session.add(
            InboundSms(
                message_sid=f"SM{n}",
                from_number=f"+1503555{patient.id:04d}",
                patient_id=patient.id,
                handled_as=handled,
                received_at=when,
            )
        )
    # Lee's number stops on 1 December (00:30): not in November.
    db.session.add(
        PhoneOptOut(
            phone=f"+1503555{w.lee.id:04d}", opted_out=True, reason="STOP", changed_at=NEXT_DAY
        )
    )
    db.session.commit()
    return w


def test_reminders_sent_delivered_confirmed_opted_out(reminders_data):
    result = compute("reminders", NOVEMBER)
    found = figures(result)
    # Sent: r1 r2 r3 r5 r8; delivered r1 r5; not delivered r3 r8; not sent r4.
    assert (found["delivered_share"].numerator, found["delivered_share"].denominator) == (2, 5)
    assert result.figures[0].value == pytest.approx(0.4)
    assert {k: found[k].value for k in ("sent", "delivered", "failed", "skipped")} == {
        "sent": 5,
        "delivered": 2,
        "failed": 2,
        "skipped": 1,
    }
    # James's appointment confirmed after its reminder; Lee's had none. One C in November.
    assert found["confirmed"].value == 1
    assert found["confirmed_by_text"].value == 1
    # Texted: James, Maria, Lee; Maria said STOP in November.
    assert (found["opt_out"].numerator, found["opt_out"].denominator) == (1, 3)
    # Weeks: r1 r2 r3 in 2-8 (1 of 3 delivered); r8 in 9-15 (0 of 1); r5 on 30 Nov.
    assert result.trend == pytest.approx([None, 1 / 3, 0.0, None, None, 1.0])


def test_reminders_filters_and_empty(reminders_data):
    scopes = reminders_data.scopes()
    org_a = figures(compute("reminders", scopes["org_a"]))
    assert (org_a["delivered_share"].numerator, org_a["delivered_share"].denominator) == (1, 4)
    assert (org_a["opt_out"].numerator, org_a["opt_out"].denominator) == (1, 2)
    team = figures(compute("reminders", scopes["team"]))
    assert (team["delivered_share"].numerator, team["delivered_share"].denominator) == (2, 3)
    assert team["confirmed_by_text"].value == 1
    assert figures(compute("reminders", scopes["org_b"]))["confirmed"].value == 0
    empty = compute("reminders", EMPTY)
    assert empty.figures[0].value is None
    assert figures(empty)["opt_out"].value is None


# ------------------------------------------------------------------ no-shows


@pytest.fixture
def no_show_data(world):
    w = world
    made = {}

    def appt(name, patient, starts, attendance, reminder=None):
        row = item(patient, w.org_a, ItemKind.APPOINTMENT, starts_at=starts, attendance=attendance)
        if reminder is not None:
            status, sent = reminder
            sms(patient, "appointment", status, sent, plan_item_id=row.id)
        made[name] = row

    appt("a1", w.james, at(11, 10, 10), Attendance.NO_SHOW, ("delivered", at(11, 9)))
    appt("a2", w.james, at(11, 12, 10), Attendance.ATTENDED, ("sent", at(11, 11)))
    appt("a3", w.maria, at(11, 12, 11), Attendance.NO_SHOW)
    appt("a4", w.maria, at(11, 13, 10), Attendance.ATTENDED, ("failed", at(11, 12)))
    appt("a5", w.maria, at(11, 14, 10), Attendance.ATTENDED, ("delivered", at(11, 14, 11)))
    appt("a6", w.lee, LAST_MINUTES, Attendance.NO_SHOW, ("delivered", at(11, 30, 9)))
    appt("a7", w.lee, NEXT_DAY, Attendance.NO_SHOW)
    appt("a8", w.james, at(11, 20), None)
    db.session.commit()
    return w, made


def test_no_shows_reminded_and_not(no_show_data):
    result = compute("no_shows", NOVEMBER)
    found = figures(result)
    # Recorded in November: a1-a6. Reminded before the start: a1, a2, a6 (a4's failed, a5's
    # came after it started); missed: a1, a6 of those, a3 of the others.
    assert (found["no_show_rate"].numerator, found["no_show_rate"].denominator) == (3, 6)
    assert (found["reminded_rate"].numerator, found["reminded_rate"].denominator) == (2, 3)
    assert (found["not_reminded_rate"].numerator, found["not_reminded_rate"].denominator) == (1, 3)
    assert found["reminded_rate"].value == pytest.approx(2 / 3)
    assert (found["no_shows"].value, found["recorded"].value) == (3, 6)
    # a1-a5 in 9-15 Nov (2 of 5 missed), a6 on 30 Nov.
    assert result.trend == pytest.approx([None, None, 0.4, None, None, 1.0])


def test_no_shows_filters_and_empty(no_show_data):
    w, _made = no_show_data
    scopes = w.scopes()
    org_a = figures(compute("no_shows", scopes["org_a"]))
    assert (org_a["no_show_rate"].numerator, org_a["no_show_rate"].denominator) == (2, 5)
    team = figures(compute("no_shows", scopes["team"]))
    assert (team["reminded_rate"].numerator, team["reminded_rate"].denominator) == (2, 3)
    assert team["not_reminded_rate"].value is None  # none without a reminder: no data
    empty = compute("no_shows", EMPTY)
    assert [f.value for f in empty.figures[:3]] == [None, None, None]


def test_no_show_drill_lists_only_visible_patients(no_show_data, app):
    w, made = no_show_data
    drill = REGISTRY["no_shows"].drill
    everyone = sa.select(Patient.id)
    only_james = sa.select(Patient.id).where(Patient.id == w.james.id)

    def ids(key, visible=everyone, limit=50, scope=NOVEMBER):
        return [row.item_id for row in drill(scope, key, visible, limit)]

    with app.test_request_context():  # the detail is in the viewer's language
        assert ids("no_show_rate") == [made["a6"].id, made["a3"].id, made["a1"].id]  # newest
        assert ids("reminded_rate") == [made["a6"].id, made["a1"].id]
        assert ids("not_reminded_rate") == [made["a3"].id]
        assert ids("no_show_rate", only_james) == [made["a1"].id]
        assert ids("no_shows", limit=1) == [made["a6"].id]
        assert ids("no_show_rate", scope=w.scopes()["org_b"]) == [made["a6"].id]
        assert ids("recorded") == []  # no list behind it
        row = drill(NOVEMBER, "no_shows", only_james, 5)[0]
    assert (row.patient_id, row.when, row.detail) == (
        w.james.id,
        made["a1"].starts_at,
        "Did not come",
    )


# ------------------------------------------------------------------ flags


@pytest.fixture
def flags_data(world, app):
    w = world
    app.config["MEDICATION_CONFLICT_SAVING_USD"] = 7.5

    def flag(patient, kind, created, resolution=None, resolved=None, code=("LOINC", "4548-4")):
        system, test_code = code
        is_test = kind is FlagKind.DUPLICATE_TEST
        pair = [
            item(
                patient,
                w.org_a,
                ItemKind.TEST if is_test else ItemKind.MEDICATION,
                code=test_code if is_test else None,
                code_system=system if is_test else None,
            )
            for _ in range(2)
        ]
        db.session.add(
            PlanFlag(
                patient_id=patient.id,
                kind=kind,
                item_a_id=pair[0].id,
                item_b_id=pair[1].id,
                status=FlagStatus.RESOLVED if resolution else FlagStatus.OPEN,
                resolution=resolution,
                resolved_at=resolved,
                created_at=created,
            )
        )

    T, C, K, G = (
        FlagKind.DUPLICATE_TEST,
        FlagResolution.CANCELLED_ONE,
        FlagResolution.KEEP_BOTH,
        FlagResolution.GONE,
    )
    flag(w.james, T, at(11, 3), C, at(11, 4))  # f1: A1c cancelled, $10
    flag(w.maria, T, at(11, 5), K, at(11, 6), code=("CPT", "71046"))  # f2: kept both
    flag(w.maria, T, at(10, 20), C, LAST_MINUTES, code=("LOCAL", "ZZZ"))  # f3: unpriced, $50
    flag(w.lee, FlagKind.SAME_INGREDIENT, at(11, 10), C, at(11, 11))  # f4: flat $7.50
    flag(w.lee, FlagKind.DUPLICATE_MEDICATION, at(11, 12))  # f5: open
    flag(w.james, T, at(11, 20), G, at(11, 21))  # f6: went away by itself
    flag(w.james, T, NEXT_DAY, C, at(12, 1, 1))  # f7: December
    db.session.commit()
    return w


def test_flags_found_settled_and_cost_avoided(flags_data):
    result = compute("flags", NOVEMBER)
    headline = result.figures[0]
    assert (headline.key, headline.kind) == ("cost_avoided", Kind.MONEY)
    assert headline.value == pytest.approx(10 + 50 + 7.5)
    assert values(result) | {"cost_avoided": None} == {
        "cost_avoided": None,
        "tests_flagged": 3,  # f1 f2 f6 (f3 is from October)
        "tests_settled": 3,  # f1 f2 f3
        "tests_cancelled": 2,  # f1 f3
        "medicines_flagged": 2,  # f4 f5
        "medicines_settled": 1,  # f4
    }
    # f1 4 Nov ($10) and f2 6 Nov ($0) in 2-8; f4 11 Nov; f3 on 30 Nov.
    assert result.trend == pytest.approx([None, 10.0, 7.5, None, None, 50.0])


def test_flags_filters_and_empty(flags_data):
    scopes = flags_data.scopes()
    assert compute("flags", scopes["org_a"]).figures[0].value == pytest.approx(60.0)  # f1 f3
    assert compute("flags", scopes["team"]).figures[0].value == pytest.approx(17.5)  # f1 f4
    assert values(compute("flags", scopes["org_b"]))["tests_flagged"] == 0
    empty = compute("flags", EMPTY)
    assert empty.figures[0].value is None
    assert set(empty.trend) == {None}


def test_test_prices_from_the_table_the_code_or_the_default(app, monkeypatch):
    monkeypatch.setitem(app.config, "TEST_PRICES", {"LOINC:4548-4": 12.5, "80053": 3.0})
    monkeypatch.setitem(app.config, "TEST_PRICE_DEFAULT_USD", 40.0)
    assert price_of_test("loinc", " 4548-4 ") == 12.5
    assert price_of_test("CPT", "80053") == 3.0  # a bare code: any system
    assert price_of_test("CPT", "99999") == 40.0
    assert price_of_test(None, None) == 40.0


def test_test_prices_from_the_environment():
    assert parse_prices("loinc:4548-4=12.50, 80053=3") == {"LOINC:4548-4": 12.5, "80053": 3.0}
    assert parse_prices("") == {}
    for bad in ("LOINC:4548-4=cheap", "=12", "80053=-1", "80053=nan"):
        with pytest.raises(RuntimeError):
            parse_prices(bad)
