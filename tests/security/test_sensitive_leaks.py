"""Behavioral health stays hidden from a caregiver the patient did not include it for.

Paula has an ordinary record and, in the behavioral health category, a plan item of several
kinds (an appointment, a medicine that shares an ingredient with an ordinary one, a task), a
goal with a check-in, a shared decision, a message thread with the team's answer, and the
"What changed" entries all of these made. Carla helps Paula with the plan, messages,
decisions, goals and reminders, but not behavioral health.

Every page Carla can open (found by walking the URL map and following the links on her pages)
must be exactly the page she would see if the hidden rows did not exist at all: not only no
titles, but no totals, badges, "New" markers, flags or empty slots that give them away. Then
Paula includes the category, and the same walk must show the titles, so the test can fail.
"""

from __future__ import annotations

import difflib
import html
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.caregivers.models import CaregiverGrant, Scope
from app.careplan.decisions import services as decision_service
from app.careplan.decisions.models import Decision
from app.careplan.goals import services as goal_service
from app.careplan.goals.models import Goal
from app.careplan.items.models import Area, ItemKind, OwnerKind, PlanFlag, PlanItem
from app.careplan.models import PlanChange, PlanVisit
from app.core.mail import OutboundEmail
from app.core.privacy import Capacity, Sensitivity
from app.extensions import db
from app.messaging import services as messaging
from app.messaging.models import Thread, ThreadRead, Topic
from app.reminders.replan import replan_item
from app.team.models import Discipline, OrganizationKind
from app.texting import dispatcher
from app.texting.models import OutboundSms
from tests.fixtures.plan import add
from tests.fixtures.probe import (
    leaked,
    normal,
    object_args,
    patient_rules,
    readable,
    send,
    signed_in,
    urls,
)
from tests.fixtures.records import NOW, TODAY, build_record

BH = Sensitivity.BEHAVIORAL_HEALTH
CARLA_PHONE = "+15035550142"
#: When the records were made, when Carla last looked at everything, and when new things
#: (hidden and visible) happened since her visit.
MADE, LOOKED, SINCE = NOW - timedelta(days=3), NOW - timedelta(days=1), NOW - timedelta(hours=2)
CARLA_SCOPES = [
    Scope.PLAN.value,
    Scope.MESSAGES.value,
    Scope.DECISIONS.value,
    Scope.GOALS.value,
    Scope.REMINDERS.value,
]
MAX_PAGES = 250


# ------------------------------------------------------------------ the world


@pytest.fixture
def world(app, frozen_clock, make_patient, make_user, make_member, make_org, assign, grant):
    frozen_clock(MADE)
    paula = build_record(
        "Paula",
        phone="+15035550141",
        caregiver_phone="+15035550149",
        make_patient=make_patient,
        make_user=make_user,
        make_member=make_member,
        make_org=make_org,
        assign=assign,
        grant=grant,
    )
    carla = make_user(Role.CAREGIVER, name="Carla Helper")
    carla.mobile_phone = CARLA_PHONE
    carla.mobile_phone_verified_at = MADE - timedelta(days=30)
    carla_grant = grant(paula.patient, carla, scopes=CARLA_SCOPES, relationship_label="sister")
    db.session.commit()
    replan_item(paula.items["appointment"])  # Carla now gets the ordinary reminders too
    counseling = make_org(OrganizationKind.BEHAVIORAL_HEALTH, name="Willow Counseling Center")
    hidden = add_hidden_rows(paula, counseling)
    db.session.commit()
    medicine = hidden.items[1]
    assert db.session.scalar(  # the hidden medicine and the ordinary one are flagged together
        sa.select(PlanFlag.id).where(
            (PlanFlag.item_a_id == medicine.id) | (PlanFlag.item_b_id == medicine.id)
        )
    ), "expected a same-ingredient flag"
    return SimpleNamespace(
        paula=paula,
        counseling=counseling,
        patient=paula.patient,
        carla=carla,
        carla_grant=carla_grant,
        hidden=hidden,
        frozen_clock=frozen_clock,
    )


def add_hidden_rows(paula, counseling) -> SimpleNamespace:
    patient, nurse = paula.patient, paula.member_user
    appointment = add(
        patient,
        counseling,
        kind=ItemKind.APPOINTMENT,
        title="Counseling session with Leah",
        starts_at=NOW + timedelta(days=4),
        location="Willow Counseling Center room 2",
        with_whom="Leah Cohen, LCSW",
        preparation="Write down what made you anxious this week",
        area=Area.EMOTIONAL_HEALTH,
        discipline=Discipline.BEHAVIORAL_HEALTH,
        owner_kind=OwnerKind.ORGANIZATION,
        owner_organization_id=counseling.id,
        sensitivity=BH,
    )
    medicine = add(
        patient,
        counseling,
        kind=ItemKind.MEDICATION,
        title="Take sertraline for low mood",
        medication_name="Sertraline",
        dose="50 mg",
        # shares an ingredient with Paula's ordinary medicine: a flag only the team and
        # those who may see both items should see
        ingredients=["sertraline", "paulapril"],
        prescriber_name="Dr. Rivera, psychiatrist",
        area=Area.MEDICINES,
        discipline=Discipline.BEHAVIORAL_HEALTH,
        sensitivity=BH,
    )
    journal = add(
        patient,
        counseling,
        title="Write in the mood journal",
        area=Area.EMOTIONAL_HEALTH,
        discipline=Discipline.BEHAVIORAL_HEALTH,
        sensitivity=BH,
    )
    goal = goal_service.create_goal(
        patient.id,
        goal_service.GoalInput(
            description="Use the calming breathing plan when panic starts",
            why_it_matters="Panic attacks keep Paula from the bus",
            sensitivity=BH,
        ),
        today=TODAY - timedelta(days=3),
        actor_id=paula.user.id,
        capacity=Capacity.PATIENT,
    )
    goal_service.add_check_in(
        goal, note="Felt panicky twice this week", actor_id=paula.user.id, capacity=Capacity.PATIENT
    )
    decision = decision_service.open_decision(
        patient.id,
        decision_service.DecisionInput(
            question="Which treatment for depression feels right",
            background="Your mood has been low for months",
            options=[
                decision_service.OptionInput(
                    "Weekly talk therapy", "Skills that last.", "Takes time.", "An hour a week."
                ),
                decision_service.OptionInput(
                    "An antidepressant medicine",
                    "Works in weeks.",
                    "Side effects.",
                    "A daily pill.",
                ),
            ],
            sensitivity=BH,
        ),
        author_id=nurse.id,
    )
    db.session.flush()
    thread = messaging.start_thread(
        patient_id=patient.id,
        topic=Topic.CARE_PLAN,
        subject="Question about my counseling",
        body="Can Leah see me sooner, the panic is worse",
        author_id=paula.user.id,
        capacity="patient",
        plan_item=appointment,
        now=MADE,
    )
    db.session.flush()
    return SimpleNamespace(
        items=[appointment, medicine, journal],
        goal=goal,
        decision=decision,
        thread=thread,
        # words that would give the hidden rows away
        words=[
            "Counseling session with Leah",
            "Willow Counseling Center",
            "Leah Cohen",
            "Write down what made you anxious",
            "Take sertraline for low mood",
            "Sertraline",
            "Dr. Rivera",
            "Write in the mood journal",
            "Use the calming breathing plan",
            "Panic attacks keep Paula",
            "Felt panicky twice",
            "Which treatment for depression",
            "Your mood has been low",
            "Weekly talk therapy",
            "An antidepressant medicine",
            "Question about my counseling",
            "Can Leah see me sooner",
            "The team will call you about therapy",
            "Join the anxiety skills group",
            "Breathing helped on the bus",
        ],
    )


def things_happen_after_carla_looked(world) -> None:
    """New visible and hidden things, after Carla's last visit: "New" markers and unread
    counts must count only the visible ones."""
    paula, hidden = world.paula, world.hidden
    nurse = paula.member_user
    world.frozen_clock(SINCE)
    add(paula.patient, paula.orgs[0], title="Paula stretch before bed")
    add(
        paula.patient,
        paula.orgs[0],
        title="Join the anxiety skills group",
        area=Area.EMOTIONAL_HEALTH,
        discipline=Discipline.BEHAVIORAL_HEALTH,
        sensitivity=BH,
    )
    messaging.add_message(
        db.session.get(Thread, paula.thread.id),
        body="Paula no fasting needed",
        author_id=nurse.id,
        capacity="care_team",
    )
    messaging.add_message(
        db.session.get(Thread, hidden.thread.id),
        body="The team will call you about therapy",
        author_id=nurse.id,
        capacity="care_team",
    )
    goal_service.add_check_in(
        db.session.get(Goal, hidden.goal.id),
        note="Breathing helped on the bus",
        actor_id=paula.user.id,
        capacity=Capacity.PATIENT,
    )
    decision_service.answer_question(
        db.session.get(Decision, paula.decision.id),
        "Paula therapy takes six weeks",
        author_id=nurse.id,
        capacity="care_team",
    )
    db.session.commit()
    world.frozen_clock(NOW)


def delete_hidden_rows(patient_id: int) -> None:
    """Remove every behavioral health row (and what hangs off it), as if it never existed."""
    item_ids = sa.select(PlanItem.id).where(
        PlanItem.patient_id == patient_id, PlanItem.sensitivity == BH
    )
    # What is sensitive because of what it is about goes first, while that is still there.
    for statement in (
        sa.delete(PlanChange).where(
            PlanChange.patient_id == patient_id, PlanChange.sensitivity == BH
        ),
        sa.delete(Thread).where(
            Thread.patient_id == patient_id, Thread.effective_sensitivity == BH
        ),
        sa.delete(OutboundSms).where(OutboundSms.plan_item_id.in_(item_ids)),
        sa.delete(PlanFlag).where(
            PlanFlag.item_a_id.in_(item_ids) | PlanFlag.item_b_id.in_(item_ids)
        ),
        sa.delete(PlanItem).where(PlanItem.patient_id == patient_id, PlanItem.sensitivity == BH),
        sa.delete(Goal).where(Goal.patient_id == patient_id, Goal.sensitivity == BH),
        sa.delete(Decision).where(Decision.patient_id == patient_id, Decision.sensitivity == BH),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))
    db.session.commit()


def set_included(grant: CaregiverGrant, categories: list[str]) -> None:
    row = db.session.get(CaregiverGrant, grant.id)
    row.sensitive_categories = categories
    db.session.commit()


# ------------------------------------------------------------------ what Carla has seen


def reading_state(user_id: int) -> list[tuple]:
    """What the user has read: thread read marks and their last visit to "What changed"."""
    db.session.expire_all()
    reads = db.session.scalars(sa.select(ThreadRead).where(ThreadRead.user_id == user_id))
    visits = db.session.scalars(sa.select(PlanVisit).where(PlanVisit.user_id == user_id))
    return [("read", r.thread_id, r.last_read_at) for r in reads] + [
        ("visit", v.patient_id, v.seen_at) for v in visits
    ]


def restore_reading_state(user_id: int, state: list[tuple]) -> None:
    """Put the user's read marks back as they were, so every page is rendered from the same
    starting point (opening a thread or "What changed" moves them)."""
    db.session.execute(sa.delete(ThreadRead).where(ThreadRead.user_id == user_id))
    db.session.execute(sa.delete(PlanVisit).where(PlanVisit.user_id == user_id))
    threads = set(db.session.scalars(sa.select(Thread.id)))
    for kind, target, when in state:
        if kind == "read" and target in threads:
            db.session.add(ThreadRead(thread_id=target, user_id=user_id, last_read_at=when))
        elif kind == "visit":
            db.session.add(PlanVisit(user_id=user_id, patient_id=target, seen_at=when))
    db.session.commit()


# ------------------------------------------------------------------ the pages


LINK_RE = re.compile(r'href="([^"#]+)')


def start_urls(app, world) -> list[str]:
    """Every GET route of Paula's record, with the ids of her visible rows, and Carla's own
    pages (they may show counts per person she helps)."""
    paula = world.paula
    objects = object_args(paula)
    objects["grant_id"] = [*objects["grant_id"], world.carla_grant.id]
    found = ["/", "/caregivers/", "/auth/account"]
    for rule in patient_rules(app):
        if "GET" in rule.methods:
            found += urls(rule, paula.patient.id, objects)
    return found


def hidden_urls(world) -> list[str]:
    pid, hidden = world.patient.id, world.hidden
    base = f"/patients/{pid}"
    return [
        *(f"{base}/plan/items/{item.id}" for item in hidden.items),
        f"{base}/goals/{hidden.goal.id}",
        f"{base}/decisions/{hidden.decision.id}",
        f"{base}/messages/{hidden.thread.id}",
        f"{base}/messages/new?item={hidden.items[0].id}",
    ]


def walk(browser, world, first: list[str], state=None) -> dict[str, tuple[int, str]]:
    """Open `first`, then every link on Carla's pages that stays in her world, each from the
    same reading state (or, without one, reading as she goes). Returns url -> (status, page)."""
    pid = world.patient.id
    queue, pages = list(dict.fromkeys(first)), {}
    while queue:
        url = queue.pop(0)
        if url in pages:
            continue
        assert len(pages) < MAX_PAGES, "the walk found too many pages; is a link looping?"
        if state is not None:
            restore_reading_state(world.carla.id, state)
        answer = send(browser, "GET", url)
        pages[url] = (answer.status, answer.text)
        if answer.status != 200:
            continue
        for href in LINK_RE.findall(answer.text):
            href = html.unescape(href)
            mine = href == f"/patients/{pid}" or href.startswith(
                (f"/patients/{pid}/", f"/patients/{pid}?", "/caregivers/")
            )
            if mine and href not in pages and href not in queue:
                queue.append(href)
    return pages


def render(browser, world, targets: list[str], state) -> dict[str, tuple[int, str]]:
    result = {}
    for url in targets:
        restore_reading_state(world.carla.id, state)
        answer = send(browser, "GET", url)
        result[url] = (answer.status, answer.text)
    return result


def page_diff(before: str, after: str) -> str:
    lines = difflib.unified_diff(
        normal(before).splitlines(), normal(after).splitlines(), lineterm="", n=1
    )
    return "\n".join(list(lines)[:30])


# ------------------------------------------------------------------ the tests


def test_hidden_rows_leave_no_trace_on_any_page_carla_opens(app, world, new_browser):
    # Carla looked at everything yesterday; new things (hidden and visible) happened since
    world.frozen_clock(LOOKED)
    walk(signed_in(new_browser, world.carla, "127.0.0.21"), world, start_urls(app, world))
    things_happen_after_carla_looked(world)
    carla = signed_in(new_browser, world.carla, "127.0.0.22")
    state = reading_state(world.carla.id)
    assert state, "Carla's visit should have left read marks"

    pages = walk(carla, world, start_urls(app, world), state)
    opened = sorted(url for url, (status, _page) in pages.items() if status == 200)
    errors = {url: status for url, (status, _page) in pages.items() if status >= 500}
    assert errors == {}, errors
    assert len(opened) >= 15, opened
    words = world.hidden.words
    shown = {url: leaked(page, words) for url, (_status, page) in pages.items()}
    assert {url: w for url, w in shown.items() if w} == {}
    for url in hidden_urls(world):
        answer = send(carla, "GET", url)
        assert answer.status == 404, url
        assert not leaked(answer.text, words), url

    # Paula includes behavioral health: the same pages now show it (so the check above can
    # fail), and the hidden rows open
    set_included(world.carla_grant, [BH.value])
    included = render(carla, world, opened + hidden_urls(world), state)
    assert {url: status for url, (status, _p) in included.items() if status != 200} == {}
    seen = " ".join(readable(page) for _status, page in included.values())
    assert [w for w in words if w not in seen] == []
    set_included(world.carla_grant, [])

    # the same pages if the hidden rows had never existed: identical, byte for byte (while
    # for Paula's other helper, who may see behavioral health, they do change)
    helper = signed_in(new_browser, world.paula.caregiver, "127.0.0.23")
    overview = [f"/patients/{world.patient.id}", f"/patients/{world.patient.id}/plan"]
    helper_before = [normal(send(helper, "GET", url).text) for url in overview]
    with_hidden = render(carla, world, opened, state)
    delete_hidden_rows(world.patient.id)
    without_hidden = render(carla, world, opened, state)
    helper_after = [normal(send(helper, "GET", url).text) for url in overview]
    assert all(x != y for x, y in zip(helper_before, helper_after, strict=True))
    different = {
        url: page_diff(with_hidden[url][1], without_hidden[url][1])
        for url in opened
        if with_hidden[url][0] != without_hidden[url][0]
        or normal(with_hidden[url][1]) != normal(without_hidden[url][1])
    }
    assert different == {}, "\n\n".join(f"{url}:\n{diff}" for url, diff in different.items())


def test_a_team_answer_in_a_hidden_thread_tells_carla_nothing(app, world):
    """The team's answer is announced to caregivers with the messages scope, but not when the
    thread is about something hidden from them."""
    things_happen_after_carla_looked(world)
    db.session.expire_all()
    emails = db.session.scalars(
        sa.select(OutboundEmail).where(OutboundEmail.user_id == world.carla.id)
    ).all()
    texts = db.session.scalars(
        sa.select(OutboundSms).where(OutboundSms.to_number == CARLA_PHONE)
    ).all()
    links = " ".join(e.body for e in emails) + " ".join(t.body for t in texts)
    assert f"/messages/{world.hidden.thread.id}" not in links
    assert f"/messages/{world.paula.thread.id}" in links  # the visible answer was announced
    assert not leaked(links, world.hidden.words)


def test_a_behavioral_health_clinician_on_the_team_stays_hidden_too(
    app, world, new_browser, make_member, assign
):
    therapist = make_member(Discipline.BEHAVIORAL_HEALTH, org=world.counseling, name="Leah Cohen")
    assign(world.patient, therapist)
    carla = signed_in(new_browser, world.carla, "127.0.0.24")
    pid = world.patient.id
    shown = {
        url: leaked(send(carla, "GET", url).text, ["Leah Cohen", "Willow Counseling Center"])
        for url in (f"/patients/{pid}", f"/patients/{pid}/messages/new")
    }
    assert shown == {url: [] for url in shown}


# ------------------------------------------------------------------ reminder texts


def carla_texts(item_id: int) -> list[OutboundSms]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboundSms).where(
                OutboundSms.plan_item_id == item_id, OutboundSms.to_number == CARLA_PHONE
            )
        )
    )


def test_a_hidden_appointment_is_never_reminded_to_carla(app, world):
    """Carla gets reminders for Paula's ordinary appointment, never for the counseling one;
    and a reminder planned while she could see it is not sent once she no longer can."""
    visible, counseling = world.paula.items["appointment"], world.hidden.items[0]
    ordinary = carla_texts(visible.id)
    assert ordinary, "Carla has the reminders scope: she gets the ordinary reminders"
    assert all(t.user_id == world.carla.id for t in ordinary)
    assert carla_texts(counseling.id) == []
    every_text = db.session.scalars(
        sa.select(OutboundSms).where(OutboundSms.user_id == world.carla.id)
    ).all()
    assert not leaked(" ".join(t.body for t in every_text), world.hidden.words)

    # included: planned for her too (so the check above can fail)
    set_included(world.carla_grant, [BH.value])
    replan_item(db.session.get(PlanItem, counseling.id))
    db.session.commit()
    planned = carla_texts(counseling.id)
    waiting = {t.id for t in planned if t.status == "queued"}  # others: over a frequency cap
    assert waiting
    assert not leaked(" ".join(t.body for t in planned), world.hidden.words)

    # Paula takes the category back before they are due: they are never sent
    set_included(world.carla_grant, [])
    world.frozen_clock(NOW + timedelta(days=4))
    dispatcher.dispatch_once()
    after = {t.id: (t.status, t.error_code) for t in carla_texts(counseling.id)}
    assert {after[i] for i in waiting} == {("skipped", "no_access")}
    assert {status for status, _code in after.values()} == {"skipped"}
