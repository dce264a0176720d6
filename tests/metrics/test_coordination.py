"""Coordination measures (docs/metrics.md #response_time, #activation, #plan_reviewed,
#caregivers, #language_access), each on a hand-built data set whose answers are worked out by
hand in the comments.

The period is Monday 5 to Sunday 18 January 2026 in Oregon (local days, UTC-8): two weekly
buckets, 5-11 and 12-18 January. In every data set a row at 23:30 on 18 January counts and one
at 00:30 on 19 January does not. Organization A: Ana and Ben; organization B: Cy. The nurse's
panel ("team") is Ana alone. The clock is frozen on 13 February 2026.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import g

from app.auth.models import AccountToken, TokenPurpose, UserSession
from app.caregivers.models import GrantKind
from app.careplan.items.models import ItemStatus
from app.careplan.models import ChangeKind, ChangeSubject, PlanChange
from app.core import audit
from app.extensions import db
from app.messaging import services as messaging
from app.messaging.models import ResponseTime, Thread, Topic
from app.metrics.measures import REGISTRY, Kind, Scope
from app.patients.models import Patient
from app.texting.models import OutboundSms
from tests.fixtures import plan

ZONE = ZoneInfo("America/Los_Angeles")
PERIOD = Scope(date(2026, 1, 5), date(2026, 1, 18), zone=ZONE)
EMPTY = Scope(date(2025, 3, 3), date(2025, 3, 16), zone=ZONE)
NOW = datetime(2026, 2, 13, 20, 0, tzinfo=UTC)
_serial = itertools.count(1)


def at(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026) -> datetime:
    """A local time in Oregon, as the UTC instant the database keeps."""
    return datetime.combine(date(year, month, day), time(hour, minute), tzinfo=ZONE).astimezone(UTC)


LAST_MINUTES = at(1, 18, 23, 30)  # counts
NEXT_DAY = at(1, 19, 0, 30)  # does not


def figures(result) -> dict:
    return {f.key: f for f in result.figures}


def values(result) -> dict:
    return {f.key: f.value for f in result.figures}


def breakdown(result, title: str) -> dict[str, dict]:
    table = next(b for b in result.breakdowns if b.title == title)
    return {label: {f.key: f.value for f in row} for label, row in table.rows}


def visible(*patients) -> sa.Select:
    return sa.select(Patient.id).where(Patient.id.in_([p.id for p in patients]))


@pytest.fixture(autouse=True)
def in_request(app):
    """The dashboard computes in a request: labels and details in the viewer's language."""
    with app.test_request_context():
        yield


@dataclass
class World:
    org_a: object
    org_b: object
    nurse: object
    ana: Patient
    ben: Patient
    cy: Patient

    def scope(self, **kw) -> Scope:
        return Scope(PERIOD.start, PERIOD.end, zone=ZONE, **kw)


@pytest.fixture
def world(app, frozen_clock, make_org, make_member, make_patient, assign) -> World:
    frozen_clock(NOW)
    org_a, org_b = make_org(), make_org()
    nurse = make_member(org=org_a)
    ana = make_patient(given="Ana", organization_id=org_a.id, language="es")
    ben = make_patient(given="Ben", organization_id=org_a.id, language="es")
    cy = make_patient(given="Cy", organization_id=org_b.id, language="vi")
    assign(ana, nurse)
    return World(org_a, org_b, nurse, ana, ben, cy)


# ------------------------------------------------------------------ message response time


def answer(patient, topic: Topic, waited_hours: float, answered_at: datetime) -> Thread:
    """A thread the team answered after `waited_hours`, against the topic's target."""
    target = int(messaging.target(topic).total_seconds())
    waiting_since = answered_at - timedelta(hours=waited_hours)
    thread = Thread(
        patient_id=patient.id,
        topic=topic,
        subject="Question",
        created_at=waiting_since,
        last_message_at=answered_at,
    )
    db.session.add(thread)
    db.session.flush()
    db.session.add(
        ResponseTime(
            thread_id=thread.id,
            patient_id=patient.id,
            topic=topic,
            waiting_since=waiting_since,
            answered_at=answered_at,
            seconds=int(waited_hours * 3600),
            target_seconds=target,
        )
    )
    db.session.commit()
    return thread


@pytest.fixture
def messages(world, make_member):
    """Answers in the period (hours waited, target): Ana medication 2 (24) and 30 (24, late),
    appointment 3 (24) at 23:30 on the 18th, social needs 69 (48, late; due on the 11th,
    answered on the 12th); Ben symptoms 1 (4) and 6 (4, late); Cy billing 10 (72).
    Sorted: 1 2 3 6 10 30 69 -> median (rank 4 of 7) 6 h, 90th (rank 7) 69 h; 3 late.

    Past target and unanswered at the end of a bucket: Ben's "other" question (due the 10th)
    has only an internal note; Ana's social needs question was due on the 11th (bucket 0) and
    answered the 12th; Ana's care plan question was due the 17th and answered the 20th.
    Outside: an answer at 00:30 on the 19th and one on the 4th."""
    w = world
    threads = {
        "med_ok": answer(w.ana, Topic.MEDICATION, 2, at(1, 6, 10)),
        "med_late": answer(w.ana, Topic.MEDICATION, 30, at(1, 7, 10)),
        "appt": answer(w.ana, Topic.APPOINTMENT, 3, LAST_MINUTES),
        "social": answer(w.ana, Topic.SOCIAL_NEEDS, 69, at(1, 12, 9)),
        "sym_ok": answer(w.ben, Topic.SYMPTOMS, 1, at(1, 13, 10)),
        "sym_late": answer(w.ben, Topic.SYMPTOMS, 6, at(1, 14, 10)),
        "billing": answer(w.cy, Topic.BILLING, 10, at(1, 12, 10)),
        "after": answer(w.ana, Topic.APPOINTMENT, 3, NEXT_DAY),
        "before": answer(w.ben, Topic.APPOINTMENT, 3, at(1, 4, 23, 30)),
        # waiting since the 15th 08:00, due the 17th 08:00, answered the 20th
        "care_plan": answer(w.ana, Topic.CARE_PLAN, 120, at(1, 20, 8)),
    }
    # Ben asks; a team member writes only an internal note: the thread still waits.
    colleague = make_member(org=w.org_a)
    thread = messaging.start_thread(
        patient_id=w.ben.id,
        topic=Topic.OTHER,
        subject="A form",
        body="Can you send the form?",
        author_id=w.ben.user_id,
        capacity="patient",
        now=at(1, 8, 10),
    )
    messaging.add_message(
        thread,
        body="I will look for it",
        author_id=colleague.user_id,
        capacity="care_team",
        internal=True,
        now=at(1, 9, 10),
    )
    db.session.commit()
    threads["internal"] = thread
    return threads


def test_response_time_known_answers(messages):
    result = REGISTRY["response_time"].compute(PERIOD)
    got = figures(result)
    # 4 within target of 7 answered + 3 waiting past target
    assert got["within_target"].value == pytest.approx(0.4)
    assert (got["within_target"].numerator, got["within_target"].denominator) == (4, 10)
    assert got["within_target"].kind is Kind.SHARE and got["within_target"].target is None
    assert got["median_hours"].value == 6.0 and got["median_hours"].kind is Kind.HOURS
    assert got["p90_hours"].value == 69.0
    assert got["answered"].value == 7
    assert got["answered_late"].value == 3 and got["answered_late"].drill
    assert got["waiting_late"].value == 3
    # Week 1: 2 h within, 30 h late; waiting: Ben's internal-note thread and the social needs
    # question (due on the 11th, answered on the 12th) -> 1 / (2 + 2).
    # Week 2: 1, 3, 10 within, 6 and 69 late; the care plan question waits -> 3 / (5 + 1).
    assert result.trend == [pytest.approx(0.25), pytest.approx(0.5)]


def test_response_time_by_topic_and_team(messages):
    result = REGISTRY["response_time"].compute(PERIOD)
    topics = breakdown(result, "By topic")
    assert topics["A medicine question"]["median_hours"] == 2.0  # 2, 30: rank 1
    assert topics["A medicine question"]["p90_hours"] == 30.0  # rank 2
    assert topics["A medicine question"]["within_target"] == pytest.approx(0.5)
    assert topics["How I feel (symptoms)"]["answered"] == 2
    assert topics["Something else"]["answered"] == 0  # only the internal note
    assert topics["Something else"]["waiting_late"] == 1
    assert topics["Something else"]["within_target"] == 0.0
    assert topics["Something else"]["median_hours"] is None
    assert "My care plan" in topics and "Bills and costs" in topics
    teams = breakdown(result, "By team")
    # Nursing: appointment 3, symptoms 1 and 6, billing 10 -> median rank 2 = 3 h, 90th rank
    # 4 = 10 h; 3 within of 4 answered + 2 waiting (the internal note's, care plan).
    nursing = teams["Nursing and care coordination"]
    assert (nursing["answered"], nursing["median_hours"], nursing["p90_hours"]) == (4, 3.0, 10.0)
    assert nursing["waiting_late"] == 2
    assert nursing["within_target"] == pytest.approx(0.5)
    assert teams["Primary care"]["within_target"] == pytest.approx(1 / 3)  # symptoms, care plan
    assert teams["Pharmacy"]["within_target"] == pytest.approx(0.5)
    assert teams["Social services and community health"]["within_target"] == 0.0
    assert "Dental" not in teams


def test_response_time_filters(messages, world):
    org_b = REGISTRY["response_time"].compute(world.scope(organization_id=world.org_b.id))
    assert values(org_b)["answered"] == 1 and values(org_b)["within_target"] == 1.0
    assert values(org_b)["median_hours"] == 10.0 and values(org_b)["waiting_late"] == 0
    org_a = values(REGISTRY["response_time"].compute(world.scope(organization_id=world.org_a.id)))
    assert org_a["answered"] == 6 and org_a["waiting_late"] == 3
    # The nurse's panel: Ana. 2, 30, 3, 69 answered (2 late); social and care plan waited.
    team = values(REGISTRY["response_time"].compute(world.scope(member_id=world.nurse.id)))
    assert (team["answered"], team["answered_late"], team["waiting_late"]) == (4, 2, 2)
    assert team["within_target"] == pytest.approx(2 / 6)


def test_response_time_timezone_boundary(world):
    answer(world.ana, Topic.APPOINTMENT, 1, LAST_MINUTES)
    answer(world.ana, Topic.APPOINTMENT, 1, NEXT_DAY)
    answer(world.ana, Topic.APPOINTMENT, 1, at(1, 4, 23, 30))
    result = REGISTRY["response_time"].compute(PERIOD)
    assert values(result)["answered"] == 1
    assert result.trend == [None, 1.0]


def test_internal_note_alone_is_not_an_answer(messages, world):
    internal = messages["internal"]
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(ResponseTime.thread_id == internal.id))
        == 0
    )
    # Before its target (48 h from the 8th) passed, it is not late yet.
    early = Scope(date(2026, 1, 5), date(2026, 1, 9), zone=ZONE)
    assert values(REGISTRY["response_time"].compute(early))["waiting_late"] == 0
    # Once the team answers it, it is an answer (late: 49 h after the question).
    messaging.add_message(
        internal,
        body="Here it is",
        author_id=world.nurse.user_id,
        capacity="care_team",
        now=at(1, 10, 11),
    )
    db.session.commit()
    got = values(REGISTRY["response_time"].compute(PERIOD))
    assert got["answered"] == 8 and got["answered_late"] == 4
    # Still late at the end of its bucket? No: answered in the same week as it came due.
    assert got["waiting_late"] == 2


def test_response_time_empty_period(messages):
    result = REGISTRY["response_time"].compute(EMPTY)
    got = values(result)
    assert got["within_target"] is None and got["median_hours"] is None
    assert got["p90_hours"] is None and got["answered"] == 0
    assert result.trend == [None, None]
    assert all(not b.rows for b in result.breakdowns)


def test_response_time_drill_is_limited_to_visible_patients(messages, world):
    drill = REGISTRY["response_time"].drill
    rows = drill(PERIOD, "answered_late", visible(world.ana), 50)
    # Ana's late answers, newest first: social needs (12th), medication (7th).
    assert [r.thread_id for r in rows] == [messages["social"].id, messages["med_late"].id]
    assert {r.patient_id for r in rows} == {world.ana.id}
    assert rows[0].detail == "Food, housing or other needs: waited 69 hours"
    assert rows[0].when == at(1, 12, 9)
    assert len(drill(PERIOD, "answered_late", visible(world.ana, world.ben), 2)) == 2
    everyone = drill(PERIOD, "answered_late", visible(world.ana, world.ben, world.cy), 50)
    assert messages["sym_late"].id in {r.thread_id for r in everyone} and len(everyone) == 3
    assert drill(PERIOD, "answered_late", visible(world.cy), 50) == []
    assert (
        drill(world.scope(member_id=world.nurse.id), "answered_late", visible(world.ben), 50) == []
    )
    assert drill(PERIOD, "answered", visible(world.ana), 50) == []


def test_response_time_query_count(messages, count_queries):
    with count_queries() as counter:
        REGISTRY["response_time"].compute(PERIOD)
    assert counter.count == 2


# ------------------------------------------------------------------ portal activation


def invite(patient, when: datetime) -> None:
    db.session.add(
        AccountToken(
            user_id=patient.user_id,
            purpose=TokenPurpose.INVITATION,
            secret_hash=f"{next(_serial):064d}",
            created_at=when,
            expires_at=when + timedelta(days=3),
        )
    )
    db.session.commit()


def signed_in(patient_or_user_id, when: datetime, last_seen: datetime | None = None) -> None:
    user_id = getattr(patient_or_user_id, "user_id", patient_or_user_id)
    db.session.add(
        UserSession(
            token_hash=f"{next(_serial):064d}",
            user_id=user_id,
            created_at=when,
            last_seen_at=last_seen or when,
            expires_at=when + timedelta(hours=12),
        )
    )
    db.session.commit()


@pytest.fixture
def invitations(world, make_patient):
    """First invited in the period: Ana (es, the 6th; signs in the 10th), Ben (es, the 12th;
    signs in on 12 February, 31 days on: too late), Cy (vi, org B, the 15th; not yet, but it
    is 13 February: still within his 30 days), Eve (en, 23:30 on the 18th; signs in the 19th).
    Not: Dan (first invited on the 2nd, again on the 8th; uses the portal on the 9th), Fay
    (00:30 on the 19th). Used the portal in the period: Ana and Dan."""
    w = world
    dan = make_patient(given="Dan", organization_id=w.org_a.id, language="en")
    eve = make_patient(given="Eve", organization_id=w.org_a.id, language="en")
    fay = make_patient(given="Fay", organization_id=w.org_a.id, language="en")
    invite(w.ana, at(1, 6, 10))
    signed_in(w.ana, at(1, 10, 9))
    invite(w.ben, at(1, 12, 10))
    signed_in(w.ben, at(2, 12, 11))
    invite(w.cy, at(1, 15, 10))
    invite(dan, at(1, 2, 10))
    invite(dan, at(1, 8, 10))
    signed_in(dan, at(1, 9, 10))
    invite(eve, LAST_MINUTES)
    signed_in(eve, at(1, 19, 9))
    invite(fay, NEXT_DAY)
    signed_in(fay, NEXT_DAY + timedelta(hours=1))
    return {"dan": dan, "eve": eve, "fay": fay}


def test_activation_known_answers(invitations, world):
    result = REGISTRY["activation"].compute(PERIOD)
    got = figures(result)
    assert got["activated_share"].value == pytest.approx(0.5)  # Ana, Eve of 4
    assert (got["activated_share"].numerator, got["activated_share"].denominator) == (2, 4)
    assert values(result)["invited"] == 4 and values(result)["activated"] == 2
    assert values(result)["within_30_days"] == 1  # Cy
    assert values(result)["used_portal"] == 2  # Ana, Dan
    assert result.trend == [1.0, pytest.approx(1 / 3)]  # Ana | Ben, Cy, Eve
    languages = breakdown(result, "By language")
    assert list(languages) == ["Español", "English", "Tiếng Việt"]  # most invited first
    assert languages["Español"]["activated_share"] == pytest.approx(0.5)
    assert languages["English"]["invited"] == 1  # Eve; Dan and Fay are not in the cohort
    assert languages["Tiếng Việt"]["activated_share"] == 0.0


def test_activation_filters_and_empty(invitations, world):
    org_b = values(REGISTRY["activation"].compute(world.scope(organization_id=world.org_b.id)))
    assert (org_b["invited"], org_b["activated"], org_b["activated_share"]) == (1, 0, 0.0)
    team = values(REGISTRY["activation"].compute(world.scope(member_id=world.nurse.id)))
    assert (team["invited"], team["activated_share"], team["used_portal"]) == (1, 1.0, 1)
    empty = REGISTRY["activation"].compute(EMPTY)
    assert values(empty)["activated_share"] is None and empty.trend == [None, None]


# ------------------------------------------------------------------ care plan reviewed


def team_change(patient, when: datetime, capacity: str = "care_team") -> None:
    db.session.add(
        PlanChange(
            patient_id=patient.id,
            subject=ChangeSubject.ITEM,
            subject_id=0,
            change=ChangeKind.CHANGED,
            title="Walk",
            capacity=capacity,
            occurred_at=when,
        )
    )
    db.session.commit()


@pytest.fixture
def plans(world, make_patient):
    """Open plans (items added 1 December): Ana (the team changed it on the 10th), Ben (the
    patient changed it on the 10th; the team last on 1 September: too long ago), Gus (never),
    Hal (the team, 23:30 on the 18th), Ivy (the team, 00:30 on the 19th: after the period).
    Not counted: Cy (only a completed item), Jo (item added on the 20th)."""
    w = world
    extra = {
        name: make_patient(given=name, organization_id=w.org_a.id)
        for name in ("Gus", "Hal", "Ivy", "Jo")
    }
    for patient in (w.ana, w.ben, extra["Gus"], extra["Hal"], extra["Ivy"]):
        plan.add(patient, w.org_a, created_at=at(12, 1, year=2025))
    plan.add(w.cy, w.org_b, created_at=at(12, 1, year=2025), status=ItemStatus.COMPLETED)
    plan.add(extra["Jo"], w.org_a, created_at=at(1, 20))
    db.session.execute(sa.delete(PlanChange))  # what adding the items wrote
    db.session.commit()
    team_change(w.ana, at(1, 10))
    team_change(w.ben, at(1, 10), capacity="patient")
    team_change(w.ben, at(9, 1, year=2025))
    team_change(w.cy, at(1, 10))
    team_change(extra["Hal"], LAST_MINUTES)
    team_change(extra["Ivy"], NEXT_DAY)
    return extra


def test_plan_reviewed_known_answers(plans, world):
    result = REGISTRY["plan_reviewed"].compute(PERIOD)
    got = figures(result)
    assert got["reviewed_share"].value == pytest.approx(0.4)  # Ana, Hal of 5
    assert values(result)["open_plans"] == 5 and values(result)["not_reviewed"] == 2 + 1
    assert got["not_reviewed"].drill
    # End of week 1 (the 12th): only Ana's change of the 10th is in the 90 days.
    assert result.trend == [pytest.approx(0.2), pytest.approx(0.4)]
    team = values(REGISTRY["plan_reviewed"].compute(world.scope(member_id=world.nurse.id)))
    assert (team["open_plans"], team["reviewed_share"]) == (1, 1.0)
    org_b = values(REGISTRY["plan_reviewed"].compute(world.scope(organization_id=world.org_b.id)))
    assert org_b["reviewed_share"] is None  # Cy's plan is closed


def test_plan_reviewed_drill(plans, world):
    drill = REGISTRY["plan_reviewed"].drill
    everyone = visible(world.ana, world.ben, *plans.values())
    rows = drill(PERIOD, "not_reviewed", everyone, 50)
    # Ben (last team change 1 September), then the never-changed, newest record first.
    assert [r.patient_id for r in rows] == [world.ben.id, plans["Ivy"].id, plans["Gus"].id]
    assert rows[0].when == at(9, 1, year=2025) and rows[1].when is None
    assert rows[0].detail == "Last updated by the care team"
    assert rows[1].detail == "Never updated by the care team"
    assert [
        r.patient_id for r in drill(PERIOD, "not_reviewed", visible(world.ana, plans["Gus"]), 50)
    ] == [plans["Gus"].id]
    assert len(drill(PERIOD, "not_reviewed", everyone, 1)) == 1
    assert drill(PERIOD, "reviewed", everyone, 50) == []


def test_plan_reviewed_empty(world):
    result = REGISTRY["plan_reviewed"].compute(PERIOD)
    assert values(result)["reviewed_share"] is None and result.trend == [None, None]


# ------------------------------------------------------------------ caregiver engagement


def acted(patient, caregiver, when: datetime, action: str = "view", capacity="caregiver"):
    """An audit event as a request writes it (linked into the chain), at `when`."""
    values = audit.record(
        action=action,
        resource="patient.summary",
        patient_id=patient.id,
        actor_id=caregiver.id,
        capacity=capacity,
    )
    values["occurred_at"] = when
    audit.write(db.session, audit.pending_events())
    g.pending_audit = []
    db.session.commit()


@pytest.fixture
def caregiving(world, make_patient, make_user, grant):
    """Grants in force in the period: Ana's (Uma views on the 7th), Ben's (Vic is refused on
    the 8th, acts in another capacity on the 9th and views at 00:30 on the 19th), Kim's from
    the 15th (Wes views at 23:30 on the 18th). Not: Cy's (revoked 20 December), Lou's (a
    guardian of an adult, no continuing authority). Week 1: Ana, Ben -> 1/2; week 2: Ana, Ben,
    Kim -> 1/3; the period: 2/3."""
    w = world
    kim = make_patient(given="Kim", organization_id=w.org_a.id)
    lou = make_patient(given="Lou", organization_id=w.org_a.id, dob=date(2000, 1, 1))
    uma, vic, wes, xan, yul = (make_user("caregiver") for _ in range(5))
    grant(w.ana, uma, starts_at=at(12, 1, year=2025))
    grant(w.ben, vic, starts_at=at(12, 1, year=2025))
    grant(kim, wes, starts_at=at(1, 15))
    grant(w.cy, xan, starts_at=at(12, 1, year=2025), revoked_at=at(12, 20, year=2025))
    grant(lou, yul, starts_at=at(12, 1, year=2025), kind=GrantKind.GUARDIAN)
    acted(w.ana, uma, at(1, 7))
    acted(w.ben, vic, at(1, 9), capacity="patient")  # not in the capacity of a caregiver
    acted(w.ben, vic, at(1, 8), action="denied")
    acted(w.ben, vic, NEXT_DAY)
    acted(kim, wes, LAST_MINUTES)
    acted(w.cy, xan, at(1, 7))
    acted(lou, yul, at(1, 7))
    return {"kim": kim, "lou": lou}


def test_caregivers_known_answers(caregiving, world):
    result = REGISTRY["caregivers"].compute(PERIOD)
    got = figures(result)
    assert got["engaged_share"].value == pytest.approx(2 / 3)
    assert (got["engaged_share"].numerator, got["engaged_share"].denominator) == (2, 3)
    assert values(result)["active_caregivers"] == 2
    assert result.trend == [pytest.approx(0.5), pytest.approx(1 / 3)]
    team = values(REGISTRY["caregivers"].compute(world.scope(member_id=world.nurse.id)))
    assert (team["with_caregiver"], team["engaged_share"]) == (1, 1.0)
    org_b = values(REGISTRY["caregivers"].compute(world.scope(organization_id=world.org_b.id)))
    assert org_b["engaged_share"] is None  # Cy's grant ended before the period
    assert values(REGISTRY["caregivers"].compute(EMPTY))["engaged_share"] is None


# ------------------------------------------------------------------ language access


def text(
    patient, when: datetime, locale: str, *, user_id="patient", status="stored", purpose="reminder"
):
    db.session.add(
        OutboundSms(
            to_number="+15035550100",
            user_id=patient.user_id if user_id == "patient" else user_id,
            patient_id=patient.id,
            purpose=purpose,
            locale=locale,
            body="CareCircle",
            created_at=when,
            send_after=when,
            status=status,
        )
    )
    db.session.commit()


@pytest.fixture
def languages(world, make_patient, make_user):
    """Ana (es, portal in es): a text in es on the 6th, portal on the 7th: served.
    Ben (es, portal in en): a text in en on the 6th, portal on the 7th: not served.
    Cy (vi, no login... here his account): a text in vi on the 13th: served.
    Mai (vi, portal in vi): portal on the 14th; texts to her caregiver, skipped ones and a
    caregiver invitation in en do not count: served. Ned (en): not counted.
    Oz (es, portal in es): a text in es at 23:30 on the 18th; one in en at 00:30 on the 19th
    does not count: served. Pia (so, no language saved): portal on the 8th: not served.
    Reached 6, served 4; texts 3 of 4; portal 2 of 4. Week 1: Ana, Ben, Pia -> 1/3; week 2:
    Cy, Mai, Oz -> 3/3."""
    w = world
    from app.auth.models import User

    def locale(patient, code):
        db.session.get(User, patient.user_id).locale = code
        db.session.commit()

    mai = make_patient(given="Mai", organization_id=w.org_a.id, language="vi")
    ned = make_patient(given="Ned", organization_id=w.org_a.id, language="en")
    oz = make_patient(given="Oz", organization_id=w.org_a.id, language="es")
    pia = make_patient(given="Pia", organization_id=w.org_b.id, language="so")
    noone = make_patient(given="Quin", with_login=False, organization_id=w.org_b.id, language="vi")
    locale(w.ana, "es"), locale(w.ben, "en"), locale(mai, "vi"), locale(oz, "es")
    helper = make_user("caregiver")
    text(w.ana, at(1, 6), "es")
    signed_in(w.ana, at(1, 7))
    text(w.ben, at(1, 6), "en")
    signed_in(w.ben, at(1, 7))
    text(noone, at(1, 13), "vi", user_id=None)
    text(w.cy, at(1, 20), "en")  # after the period
    signed_in(mai, at(1, 14))
    text(mai, at(1, 14), "en", user_id=helper.id)
    text(mai, at(1, 14), "en", status="skipped")
    text(mai, at(1, 14), "en", user_id=None, purpose="caregiver_invite")
    text(ned, at(1, 14), "en")
    signed_in(ned, at(1, 14))
    text(oz, LAST_MINUTES, "es")
    text(oz, NEXT_DAY, "en")
    signed_in(pia, at(1, 8))
    return {"mai": mai, "oz": oz, "pia": pia, "quin": noone}


def test_language_access_known_answers(languages, world):
    result = REGISTRY["language_access"].compute(PERIOD)
    got = figures(result)
    assert (got["served_share"].numerator, got["served_share"].denominator) == (4, 6)
    assert values(result)["reached"] == 6
    assert (got["texts_share"].numerator, got["texts_share"].denominator) == (3, 4)
    assert (got["portal_share"].numerator, got["portal_share"].denominator) == (2, 4)
    assert result.trend == [pytest.approx(1 / 3), 1.0]
    by_language = breakdown(result, "By language")
    assert by_language["Español"]["reached"] == 3  # Ana, Ben, Oz
    assert by_language["Español"]["served_share"] == pytest.approx(2 / 3)
    assert by_language["Tiếng Việt"]["served_share"] == 1.0  # Quin, Mai
    assert by_language["Soomaali"]["portal_share"] == 0.0
    assert "English" not in by_language


def test_language_access_filters_and_empty(languages, world):
    org_b = values(REGISTRY["language_access"].compute(world.scope(organization_id=world.org_b.id)))
    assert (org_b["reached"], org_b["served_share"]) == (2, 0.5)  # Quin served, Pia not
    team = values(REGISTRY["language_access"].compute(world.scope(member_id=world.nurse.id)))
    assert (team["reached"], team["served_share"]) == (1, 1.0)  # Ana
    empty = REGISTRY["language_access"].compute(EMPTY)
    assert values(empty)["served_share"] is None and empty.trend == [None, None]


@pytest.mark.parametrize(
    ("key", "queries"),
    [("activation", 2), ("plan_reviewed", 1), ("caregivers", 2), ("language_access", 2)],
)
def test_query_counts(world, count_queries, key, queries):
    with count_queries() as counter:
        REGISTRY[key].compute(PERIOD)
    assert counter.count == queries
