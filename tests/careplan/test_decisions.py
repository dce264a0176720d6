"""Shared decisions: who may do what, the rules of a decision's life, the history the patient
reads, privacy of sensitive decisions, and pages that cost the same whatever their size."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.careplan.decisions import queries as decision_queries
from app.careplan.decisions import services as service
from app.careplan.decisions.models import (
    Decision,
    DecisionEntry,
    DecisionEntryKind,
    DecisionOption,
    DecisionStatus,
)
from app.careplan.decisions.services import OptionInput
from app.careplan.models import ChangeKind, ChangeSubject, PlanChange
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.core.errors import RuleError
from app.core.privacy import Sensitivity
from app.extensions import db
from tests.fixtures.browser import signed_in

OPTIONS = [
    OptionInput(
        "Physical therapy",
        "Stronger muscles, less pain in 6 weeks.",
        "Sore for a day after exercises.",
        "Two visits a week and exercises at home.",
    ),
    OptionInput(
        "A steroid injection",
        "Less pain within days.",
        "Relief lasts 2 to 3 months.",
        "One short visit.",
    ),
    OptionInput(
        "Knee replacement surgery",
        "Much less pain for years.",
        "A big operation.",
        "Three months of rehab.",
    ),
    OptionInput("Wait and see", "Nothing to do now.", "Pain may get worse.", "Nothing changes."),
]


# ------------------------------------------------------------------ helpers


@pytest.fixture
def world(two_patients):
    """James and another patient; every kind of viewer in relation to James."""
    w = two_patients
    caregiver = w.helper("Ana Carter", ["plan", "decisions"])
    return SimpleNamespace(
        patient=w.patient,
        other=w.other,
        member=w.member,
        users={
            "patient": w.patient_user,
            "caregiver": caregiver,
            "caregiver_plan_only": w.helper("Vera Viewer", ["plan"]),
            "caregiver_no_scope": w.helper("Nora Noscope", []),
            "caregiver_decisions_only": w.helper("Dina Decides", ["decisions"]),
            "member": w.member_user,
            "other_member": w.other_member_user,
            "admin": w.admin,
        },
        caregiver_grant=w.grant_of(caregiver),
        other_member=w.other_member,
    )


def open_decision(patient, author: User, *, options=2, sensitivity=None, question=None):
    decision = service.open_decision(
        patient.id,
        service.DecisionInput(
            question=question or "How do you want to treat your knee pain?",
            background="Your knee hurts when you walk.",
            options=OPTIONS[:options],
            sensitivity=sensitivity,
        ),
        author_id=author.id,
    )
    db.session.commit()
    return decision


def url(patient, *parts) -> str:
    return "/".join([f"/patients/{patient.id}/decisions", *[str(p) for p in parts]])


def post(b, target: str, data: dict):
    return b.post(target, data, form_url="/auth/account")


def text_of(response) -> str:
    """The page as a person reads it: tags removed, entities decoded, spaces collapsed."""
    raw = response.get_data(as_text=True)
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def entries_of(decision_id: int) -> list[DecisionEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(DecisionEntry)
            .where(DecisionEntry.decision_id == decision_id)
            .order_by(DecisionEntry.created_at, DecisionEntry.id)
        )
    )


def state(decision_id: int) -> tuple:
    """Everything a refused action must leave untouched."""
    db.session.expire_all()
    d = db.session.get(Decision, decision_id)
    return (
        d.status,
        d.preferred_option_id,
        d.final_option_id,
        d.decided_at,
        len(entries_of(decision_id)),
        db.session.scalar(sa.select(sa.func.count(PlanChange.id))),
    )


def form_for_opening(question="Which way to manage your sugar?", blocks=2, extra=None) -> dict:
    data = {"question": question, "background": "", "sensitivity": ""}
    for i, option in enumerate(OPTIONS[:blocks]):
        data.update(
            {
                f"option_{i + 1}-title": option.title,
                f"option_{i + 1}-benefits": option.benefits,
                f"option_{i + 1}-risks": option.risks,
                f"option_{i + 1}-day_to_day": option.day_to_day,
            }
        )
    data.update(extra or {})
    return data


def decision_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Decision.id)))


# ------------------------------------------------------------------ who may do what

# action -> (method, url suffix, form data builder(decision, options))
ACTIONS = {
    "list": ("GET", None, None),
    "detail": ("GET", "", None),
    "new_form": ("GET", "new", None),
    "open": ("POST", "new", lambda d, o: form_for_opening()),
    "what_matters": ("POST", "what-matters", lambda d, o: {"what_matters": "Gardening."}),
    "question": ("POST", "questions", lambda d, o: {"question_text": "Does it hurt?"}),
    "preference": ("POST", "preference", lambda d, o: {"preferred_option": o[0].id}),
    "answer": ("POST", "answers", lambda d, o: {"answer": "A little."}),
    "final": ("POST", "final", lambda d, o: {"final_option": o[1].id}),
    "withdraw": ("POST", "withdraw", lambda d, o: {"withdraw_reason": "Not needed now."}),
}

PATIENT_SIDE = {"list", "detail", "what_matters", "question", "preference"}
TEAM_SIDE = {"list", "detail", "new_form", "open", "answer", "final", "withdraw"}

ALLOWED = {
    "patient": PATIENT_SIDE,
    "caregiver": PATIENT_SIDE,  # "plan" and "decisions" scopes
    "caregiver_plan_only": {"list", "detail"},
    "caregiver_no_scope": set(),
    # Taking part implies seeing the decisions (issue 11, finding 3): a "decisions"-only grant
    # reads them and posts, without the rest of the plan.
    "caregiver_decisions_only": {"list", "detail", "what_matters", "question", "preference"},
    "member": TEAM_SIDE,
    "other_member": set(),
    "admin": set(),
}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", list(ALLOWED))
def test_every_role_on_every_action(world, new_browser, who, action):
    decision = open_decision(world.patient, world.users["member"], options=3)
    options = list(
        db.session.scalars(
            sa.select(DecisionOption)
            .where(DecisionOption.decision_id == decision.id)
            .order_by(DecisionOption.position)
        )
    )
    method, suffix, data = ACTIONS[action]
    target = url(world.patient) if suffix is None else url(world.patient, suffix)
    if suffix not in (None, "new"):
        target = url(world.patient, decision.id, suffix).rstrip("/")
    b = signed_in(new_browser, world.users[who])
    before = state(decision.id)
    decisions_before = decision_count()

    if method == "GET":
        response = b.get(target)
        expected = 200 if action in ALLOWED[who] else 404
        assert response.status_code == expected, (who, action)
        return

    response = post(b, target, data(decision, options))
    if action in ALLOWED[who]:
        assert response.status_code == 302, (who, action, text_of(response)[:300])
        if action == "open":
            assert decision_count() == decisions_before + 1
        else:
            assert state(decision.id) != before
    else:
        assert response.status_code == 404, (who, action)
        assert state(decision.id) == before
        assert decision_count() == decisions_before


def test_decisions_of_another_patient_answer_404(world, new_browser, assign, make_patient):
    """Even for a team member of both patients, a decision is only found under its patient."""
    assign(world.other, world.member)
    theirs = open_decision(world.other, world.users["member"])
    b = signed_in(new_browser, world.users["member"])
    assert b.get(url(world.other, theirs.id)).status_code == 200
    assert b.get(url(world.patient, theirs.id)).status_code == 404
    assert b.get(url(world.patient, 999_999)).status_code == 404
    before = state(theirs.id)
    wrong = url(world.patient, theirs.id, "answers")
    assert post(b, wrong, {"answer": "Hello"}).status_code == 404
    assert state(theirs.id) == before

    patient = signed_in(new_browser, world.users["patient"])
    assert patient.get(url(world.patient, theirs.id)).status_code == 404
    wrong = url(world.patient, theirs.id, "what-matters")
    assert post(patient, wrong, {"what_matters": "x"}).status_code == 404
    assert state(theirs.id) == before


# ------------------------------------------------------------------ the whole conversation


def test_a_decision_from_start_to_finish_keeps_who_said_what(world, new_browser):
    team = signed_in(new_browser, world.users["member"])
    response = post(team, url(world.patient, "new"), form_for_opening(blocks=3))
    assert response.status_code == 302
    decision = db.session.scalars(sa.select(Decision)).one()
    assert response.headers["Location"].endswith(url(world.patient, decision.id))
    physio, injection, _surgery = list(
        db.session.scalars(
            sa.select(DecisionOption)
            .where(DecisionOption.decision_id == decision.id)
            .order_by(DecisionOption.position)
        )
    )

    me = signed_in(new_browser, world.users["patient"])
    ana = signed_in(new_browser, world.users["caregiver"])
    steps = [
        (me, "what-matters", {"what_matters": "I want to keep gardening."}),
        (ana, "questions", {"question_text": "Can Dad do therapy at home?"}),
        (team, "answers", {"answer": "Yes, a therapist can visit."}),
        (me, "preference", {"preferred_option": physio.id, "preference_note": "No needles."}),
        (ana, "preference", {"preferred_option": injection.id}),
        (team, "final", {"final_option": injection.id, "final_note": "Shot next Tuesday."}),
    ]
    for b, action, data in steps:
        response = post(b, url(world.patient, decision.id, action), data)
        assert response.status_code == 302, (action, text_of(response)[:300])

    db.session.expire_all()
    decision = db.session.get(Decision, decision.id)
    assert decision.status is DecisionStatus.DECIDED
    assert decision.preferred_option_id == injection.id  # the newer preference replaced it
    assert decision.final_option_id == injection.id
    assert decision.decided_by_id == world.users["member"].id
    kinds = [e.kind for e in entries_of(decision.id)]
    assert kinds == [
        DecisionEntryKind.OPENED,
        DecisionEntryKind.WHAT_MATTERS,
        DecisionEntryKind.QUESTION,
        DecisionEntryKind.ANSWER,
        DecisionEntryKind.PREFERENCE,
        DecisionEntryKind.PREFERENCE,  # the older preference stays in the history
        DecisionEntryKind.FINAL,
    ]

    page = text_of(me.get(url(world.patient, decision.id)))
    history = page[page.index("History") :]
    expected_in_order = [
        "Samuel Okafor",
        "Started this decision.",
        "James Carter",
        "Said what matters: I want to keep gardening.",
        "Ana Carter, for James",
        "Asked: Can Dad do therapy at home?",
        "Samuel Okafor",
        "Answered: Yes, a therapist can visit.",
        "James Carter",
        "Prefers: Physical therapy No needles.",
        "Ana Carter, for James",
        "Prefers: A steroid injection",
        "Samuel Okafor",
        "Recorded the decision: A steroid injection Shot next Tuesday.",
    ]
    position = 0
    for expected in expected_in_order:
        found = history.find(expected, position)
        assert found >= 0, f"{expected!r} missing or out of order in: {history}"
        position = found + len(expected)
    assert "What was decided A steroid injection" in page
    assert "Your choice so far A steroid injection" in page
    assert "What James prefers A steroid injection" in text_of(
        ana.get(url(world.patient, decision.id))
    )
    # Once decided, nobody is offered a form any more.
    assert "Have your say" not in page
    assert "Record the decision" not in text_of(team.get(url(world.patient, decision.id)))


def test_changes_and_audit_events_are_recorded(world, new_browser):
    team = signed_in(new_browser, world.users["member"])
    me = signed_in(new_browser, world.users["patient"])
    post(team, url(world.patient, "new"), form_for_opening(question="Sugar: pill or diet?"))
    decision = db.session.scalars(sa.select(Decision)).one()
    first = db.session.scalars(
        sa.select(DecisionOption.id).where(DecisionOption.decision_id == decision.id)
    ).first()
    post(me, url(world.patient, decision.id, "what-matters"), {"what_matters": "No needles."})
    post(me, url(world.patient, decision.id, "questions"), {"question_text": "Is it costly?"})
    post(team, url(world.patient, decision.id, "answers"), {"answer": "No."})
    post(me, url(world.patient, decision.id, "preference"), {"preferred_option": first})
    post(team, url(world.patient, decision.id, "withdraw"), {"withdraw_reason": "Sugar is fine."})

    db.session.expire_all()
    rows = list(db.session.scalars(sa.select(PlanChange).order_by(PlanChange.id)))
    assert [(r.subject, r.subject_id, r.change, r.title, r.capacity) for r in rows] == [
        (
            ChangeSubject.DECISION,
            decision.id,
            ChangeKind.ADDED,
            "Sugar: pill or diet?",
            "care_team",
        ),
        (
            ChangeSubject.DECISION,
            decision.id,
            ChangeKind.CHANGED,
            "Sugar: pill or diet?",
            "care_team",
        ),
        (
            ChangeSubject.DECISION,
            decision.id,
            ChangeKind.CHANGED,
            "Sugar: pill or diet?",
            "patient",
        ),
        (
            ChangeSubject.DECISION,
            decision.id,
            ChangeKind.STOPPED,
            "Sugar: pill or diet?",
            "care_team",
        ),
    ]
    assert all(r.patient_id == world.patient.id for r in rows)
    events = list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.resource == "careplan.decision",
                AuditEvent.resource_id == str(decision.id),
            )
            .order_by(AuditEvent.id)
        )
    )
    assert [(e.action, e.actor_id) for e in events] == [
        ("create", world.users["member"].id),
        ("update", world.users["patient"].id),  # what matters
        ("update", world.users["patient"].id),  # question
        ("update", world.users["member"].id),  # answer
        ("update", world.users["patient"].id),  # preference
        ("update", world.users["member"].id),  # withdrawn
    ]
    page = text_of(me.get(url(world.patient, decision.id)))
    assert "This decision was withdrawn" in page
    assert "Why: Sugar is fine." in page


def test_caregiver_actions_are_audited_as_acting_for_the_patient(world, new_browser):
    decision = open_decision(world.patient, world.users["member"])
    ana = signed_in(new_browser, world.users["caregiver"])
    target = url(world.patient, decision.id, "questions")
    assert post(ana, target, {"question_text": "When?"}).status_code == 302
    db.session.expire_all()
    event = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.resource_id == str(decision.id), AuditEvent.action == "update"
        )
    ).one()
    assert (event.actor_id, event.capacity, event.acting_for_patient_id) == (
        world.users["caregiver"].id,
        "caregiver",
        world.patient.id,
    )
    entry = entries_of(decision.id)[-1]
    assert (entry.author_id, entry.capacity) == (world.users["caregiver"].id, "caregiver")


# ------------------------------------------------------------------ opening a decision


def test_the_new_decision_form_offers_four_option_blocks(world, new_browser):
    team = signed_in(new_browser, world.users["member"])
    page = team.get(url(world.patient, "new")).get_data(as_text=True)
    for i in range(4):
        for part in ("title", "benefits", "risks", "day_to_day"):
            assert f'name="option_{i + 1}-{part}"' in page
    assert 'name="option_5-title"' not in page


@pytest.mark.parametrize(
    ("case", "data", "message"),
    [
        ("one option", form_for_opening(blocks=1), "Give at least two options"),
        ("no options", form_for_opening(blocks=0), "Give at least two options"),
        (
            "a half-filled option",
            form_for_opening(blocks=2, extra={"option_3-title": "Surgery"}),
            "Fill this in too, or leave the whole option empty.",
        ),
        (
            "two options, one without risks",
            form_for_opening(blocks=2, extra={"option_2-risks": "  "}),
            "Fill this in too, or leave the whole option empty.",
        ),
        ("no question", form_for_opening(question=""), "Write the question to decide."),
        ("a very long question", form_for_opening(question="x" * 301), "300"),
        (
            "a very long option title",
            form_for_opening(extra={"option_1-title": "x" * 161}),
            "160",
        ),
    ],
)
def test_opening_needs_at_least_two_complete_options(world, new_browser, case, data, message):
    team = signed_in(new_browser, world.users["member"])
    response = post(team, url(world.patient, "new"), data)
    assert response.status_code == 422, case
    assert message in text_of(response), case
    assert decision_count() == 0
    assert db.session.scalar(sa.select(sa.func.count(DecisionOption.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(DecisionEntry.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(PlanChange.id))) == 0
    # What was typed comes back, so nothing has to be typed again.
    if data["question"] and len(data["question"]) < 300:
        assert html.escape(data["question"], quote=True) in response.get_data(as_text=True)


def test_empty_blocks_between_complete_ones_are_skipped(world, new_browser):
    team = signed_in(new_browser, world.users["member"])
    data = form_for_opening(blocks=0)
    for i, option in ((0, OPTIONS[0]), (3, OPTIONS[1])):
        data.update(
            {
                f"option_{i + 1}-title": option.title,
                f"option_{i + 1}-benefits": option.benefits,
                f"option_{i + 1}-risks": option.risks,
                f"option_{i + 1}-day_to_day": option.day_to_day,
            }
        )
    data["sensitivity"] = "behavioral_health"
    assert post(team, url(world.patient, "new"), data).status_code == 302
    decision = db.session.scalars(sa.select(Decision)).one()
    assert decision.sensitivity is Sensitivity.BEHAVIORAL_HEALTH
    titles = db.session.scalars(
        sa.select(DecisionOption.title)
        .where(DecisionOption.decision_id == decision.id)
        .order_by(DecisionOption.position)
    ).all()
    assert titles == [OPTIONS[0].title, OPTIONS[1].title]


def test_the_service_refuses_incomplete_options_too(app, world):
    with app.test_request_context():
        for options in ([OPTIONS[0]], [OPTIONS[0], {"title": "Half", "benefits": "Yes"}]):
            with pytest.raises(RuleError):
                service.open_decision(
                    world.patient.id,
                    service.DecisionInput(question="Q?", options=options),
                    author_id=world.users["member"].id,
                )
        with pytest.raises(RuleError):  # the patient side cannot open one
            service.open_decision(
                world.patient.id,
                service.DecisionInput(question="Q?", options=OPTIONS[:2]),
                author_id=world.users["patient"].id,
                capacity="patient",
            )
    db.session.rollback()
    assert decision_count() == 0


# ------------------------------------------------------------------ the rules of a decision


def decided(world):
    decision = open_decision(world.patient, world.users["member"], options=3)
    service.record_final(
        decision, first_option(decision), author_id=world.users["member"].id, capacity="care_team"
    )
    db.session.commit()
    return decision


def withdrawn(world):
    decision = open_decision(world.patient, world.users["member"], options=3)
    service.withdraw(
        decision, "Not needed.", author_id=world.users["member"].id, capacity="care_team"
    )
    db.session.commit()
    return decision


def first_option(decision):
    return db.session.scalars(
        sa.select(DecisionOption.id)
        .where(DecisionOption.decision_id == decision.id)
        .order_by(DecisionOption.position)
    ).first()


BAD_TRANSITIONS = [
    # (name, make the decision, who, action, data, message)
    ("preference after decided", decided, "patient", "preference", "pref", "already been made"),
    ("what matters after decided", decided, "caregiver", "what-matters", "wm", "already been made"),
    ("question after decided", decided, "patient", "questions", "q", "already been made"),
    ("answer after decided", decided, "member", "answers", "a", "already been made"),
    ("final twice", decided, "member", "final", "final", "already been made"),
    ("withdraw after decided", decided, "member", "withdraw", "w", "already been made"),
    ("final on withdrawn", withdrawn, "member", "final", "final", "was withdrawn"),
    ("preference on withdrawn", withdrawn, "patient", "preference", "pref", "was withdrawn"),
    ("question on withdrawn", withdrawn, "caregiver", "questions", "q", "was withdrawn"),
    ("withdraw twice", withdrawn, "member", "withdraw", "w", "was withdrawn"),
    ("empty question on decided", decided, "patient", "questions", "empty", "already been made"),
]

DATA = {
    "pref": lambda d: {"preferred_option": first_option(d)},
    "final": lambda d: {"final_option": first_option(d)},
    "wm": lambda d: {"what_matters": "Gardening."},
    "q": lambda d: {"question_text": "Why?"},
    "a": lambda d: {"answer": "Because."},
    "w": lambda d: {"withdraw_reason": "No longer needed."},
    "empty": lambda d: {"question_text": ""},
}


@pytest.mark.parametrize(
    ("name", "make", "who", "action", "data", "message"),
    BAD_TRANSITIONS,
    ids=[t[0] for t in BAD_TRANSITIONS],
)
def test_closed_decisions_take_nothing_more(
    world, new_browser, name, make, who, action, data, message
):
    decision = make(world)
    before = state(decision.id)
    b = signed_in(new_browser, world.users[who])
    response = post(b, url(world.patient, decision.id, action), DATA[data](decision))
    assert response.status_code == 409, name
    assert message in text_of(response), name
    assert state(decision.id) == before, name


@pytest.mark.parametrize("action", ["preference", "final"])
def test_an_option_of_another_decision_is_refused(world, new_browser, action):
    mine = open_decision(world.patient, world.users["member"], options=3)
    elsewhere = open_decision(world.patient, world.users["member"], question="Another one?")
    before = state(mine.id)
    who = "patient" if action == "preference" else "member"
    field = "preferred_option" if action == "preference" else "final_option"
    b = signed_in(new_browser, world.users[who])
    response = post(b, url(world.patient, mine.id, action), {field: first_option(elsewhere)})
    assert response.status_code == 409
    assert "not one of the options for this decision" in text_of(response)
    assert state(mine.id) == before
    assert post(b, url(world.patient, mine.id, action), {field: "999999"}).status_code == 409
    assert post(b, url(world.patient, mine.id, action), {field: "abc"}).status_code == 422
    assert post(b, url(world.patient, mine.id, action), {}).status_code == 422
    assert state(mine.id) == before


@pytest.mark.parametrize(
    ("who", "action", "data", "message"),
    [
        ("patient", "what-matters", {"what_matters": "   "}, "Write what matters to you."),
        ("caregiver", "questions", {"question_text": ""}, "Write your question."),
        ("member", "answers", {"answer": ""}, "Write the answer."),
        ("member", "withdraw", {"withdraw_reason": ""}, "Say why, in plain words."),
        ("patient", "questions", {"question_text": "x" * 2001}, "2000"),
        ("patient", "preference", {}, "Choose an option."),
        ("member", "final", {}, "Choose the option that was decided."),
    ],
)
def test_invalid_input_is_shown_again_and_nothing_is_written(
    world, new_browser, who, action, data, message
):
    decision = open_decision(world.patient, world.users["member"])
    before = state(decision.id)
    b = signed_in(new_browser, world.users[who])
    response = post(b, url(world.patient, decision.id, action), data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert state(decision.id) == before


def test_the_service_keeps_each_side_to_its_own_actions(app, world):
    decision = open_decision(world.patient, world.users["member"])
    option = first_option(decision)
    patient = {"author_id": world.users["patient"].id, "capacity": "patient"}
    team = {"author_id": world.users["member"].id, "capacity": "care_team"}
    with app.test_request_context():
        refused = [
            lambda: service.record_final(decision, option, **patient),
            lambda: service.withdraw(decision, "No.", **patient),
            lambda: service.answer_question(decision, "Yes.", **patient),
            lambda: service.record_preference(decision, option, **team),
            lambda: service.ask_question(decision, "Why?", **team),
            lambda: service.add_what_matters(decision, "Time.", **team),
            lambda: service.add_what_matters(decision, "Time.", author_id=1, capacity="admin"),
        ]
        for attempt in refused:
            with pytest.raises(RuleError):
                attempt()
    assert state(decision.id)[0] is DecisionStatus.OPEN
    assert len(entries_of(decision.id)) == 1


# ------------------------------------------------------------------ the list


def test_the_list_shows_open_decisions_first(world, new_browser):
    old = decided(world)
    db.session.get(Decision, old.id).question = "An older choice, already made"
    db.session.commit()
    newer = open_decision(world.patient, world.users["member"], question="Still open: knee?")
    me = signed_in(new_browser, world.users["patient"])
    page = text_of(me.get(url(world.patient)))
    assert page.index("Still open: knee?") < page.index("An older choice, already made")
    assert "Start a decision" not in page  # the patient cannot open decisions
    team_page = text_of(signed_in(new_browser, world.users["member"]).get(url(world.patient)))
    assert "Start a decision" in team_page
    # A question waiting for an answer is flagged.
    service.ask_question(newer, "When?", author_id=world.users["patient"].id, capacity="patient")
    db.session.commit()
    assert "A question is waiting for an answer" in text_of(me.get(url(world.patient)))


# ------------------------------------------------------------------ sensitive decisions


def test_sensitive_decisions_are_hidden_until_the_patient_includes_them(world, new_browser):
    from app.caregivers.policy import hidden_for

    open_decision(world.patient, world.users["member"], question="Plain question?")
    private = open_decision(
        world.patient,
        world.users["member"],
        question="Talk therapy or medicine for your mood?",
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )
    ana = signed_in(new_browser, world.users["caregiver"])
    listing = text_of(ana.get(url(world.patient)))
    assert "Plain question?" in listing
    assert "mood" not in listing
    assert ana.get(url(world.patient, private.id)).status_code == 404
    before = state(private.id)
    target = url(world.patient, private.id, "questions")
    assert post(ana, target, {"question_text": "Hi"}).status_code == 404
    assert state(private.id) == before
    hidden = hidden_for(world.caregiver_grant)
    assert [d.question for d in decision_queries.summary_decisions(world.patient.id, hidden)] == [
        "Plain question?"
    ]
    # The patient and the team see it.
    me = signed_in(new_browser, world.users["patient"])
    assert "mood" in text_of(me.get(url(world.patient)))
    team = signed_in(new_browser, world.users["member"])
    assert team.get(url(world.patient, private.id)).status_code == 200

    world.caregiver_grant.sensitive_categories = ["behavioral_health"]
    db.session.commit()
    assert "mood" in text_of(ana.get(url(world.patient)))
    assert ana.get(url(world.patient, private.id)).status_code == 200
    hidden = hidden_for(world.caregiver_grant)
    assert len(decision_queries.summary_decisions(world.patient.id, hidden)) == 2


# ------------------------------------------------------------------ summary page helper


def test_summary_decisions_lists_open_then_recently_decided(app, world):
    member = world.users["member"]
    patient_id, patient_user_id = world.patient.id, world.users["patient"].id
    long_ago = decided(world)
    long_ago.decided_at = utcnow() - timedelta(days=400)
    recent = decided(world).id
    gone = withdrawn(world).id
    first_open = open_decision(world.patient, member, question="First open?").id
    second_open = open_decision(world.patient, member, question="Second open?").id
    open_decision(world.other, member, question="Someone else's?")
    long_ago = long_ago.id
    db.session.commit()
    db.session.expunge_all()

    found = decision_queries.summary_decisions(patient_id, frozenset())
    assert [d.id for d in found] == [second_open, first_open, recent]
    assert gone not in {d.id for d in found}
    assert long_ago not in {d.id for d in found}
    assert all(len(d.options) in (2, 3) for d in found)  # loaded: options raise on lazy load

    from app.patients.models import Patient

    with app.test_request_context():
        from flask import render_template
        from flask_login import login_user

        login_user(db.session.get(User, patient_user_id))
        page = render_template(
            "decisions/_summary.html",
            patient=db.session.get(Patient, patient_id),
            decisions=found,
        )
    assert "Second open?" in page
    assert "Still deciding" in page
    assert "Decided: Physical therapy" in html.unescape(page)
    assert f'href="/patients/{patient_id}/decisions/{recent}"' in page


# ------------------------------------------------------------------ no N+1


def queries_for(count_queries, browser, target):
    with count_queries() as counter:
        response = browser.get(target)
    assert response.status_code == 200, target
    return counter.count


@pytest.mark.parametrize("who", ["patient", "member"])
def test_list_and_detail_queries_do_not_grow(world, new_browser, count_queries, who):
    member = world.users["member"]
    first = open_decision(world.patient, member)
    service.ask_question(first, "Why?", author_id=world.users["patient"].id, capacity="patient")
    db.session.commit()
    b = signed_in(new_browser, world.users[who])
    b.get(url(world.patient))
    small_list = queries_for(count_queries, b, url(world.patient))
    small_detail = queries_for(count_queries, b, url(world.patient, first.id))

    for i in range(6):
        other = open_decision(world.patient, member, options=4, question=f"More {i}?")
        if i % 2:
            service.record_final(
                other, first_option(other), author_id=member.id, capacity="care_team"
            )
    for i in range(8):
        service.add_what_matters(
            first, f"Thing {i}", author_id=world.users["patient"].id, capacity="patient"
        )
        service.ask_question(
            first, f"Q {i}", author_id=world.users["caregiver"].id, capacity="caregiver"
        )
        service.answer_question(first, f"A {i}", author_id=member.id, capacity="care_team")
        service.record_preference(
            first, first_option(first), author_id=world.users["patient"].id, capacity="patient"
        )
    db.session.commit()

    assert queries_for(count_queries, b, url(world.patient)) == small_list
    assert queries_for(count_queries, b, url(world.patient, first.id)) == small_detail


# ------------------------------------------------------------------ CSRF


def test_a_post_without_the_csrf_token_is_refused(world, new_browser):
    decision = open_decision(world.patient, world.users["member"])
    before = state(decision.id)
    me = signed_in(new_browser, world.users["patient"])
    response = me.client.post(
        url(world.patient, decision.id, "what-matters"), data={"what_matters": "Gardening"}
    )
    assert response.status_code == 400
    team = signed_in(new_browser, world.users["member"])
    response = team.client.post(url(world.patient, "new"), data=form_for_opening())
    assert response.status_code == 400
    assert state(decision.id) == before
    assert decision_count() == 1


# ------------------------------------------------------------------ demo data


def test_demo_decisions_are_realistic_and_idempotent(seeded, new_browser):
    from app.demo import DEMO_PASSWORD, DOMAIN
    from app.demo.accounts import Demo
    from app.demo.decisions import seed
    from app.patients.models import Patient
    from app.team.models import CareTeamMember

    keys = [
        "maria",
        "james",
        "ana",
        "rosa",
        "nurse",
        "doctor",
        "therapist",
        "pharmacist",
        "chw",
        "dentist",
        "cardiologist",
        "admin",
    ]
    users = {
        k: db.session.scalar(sa.select(User).where(User.email == f"{k}@{DOMAIN}")) for k in keys
    }
    members = {
        k: db.session.scalar(sa.select(CareTeamMember).where(CareTeamMember.user_id == u.id))
        for k, u in users.items()
        if u.role is Role.CARE_TEAM
    }
    by_name = {p.given_name: p for p in db.session.scalars(sa.select(Patient))}
    patients = {"maria": by_name["María"], "james": by_name["James"], "leo": by_name["Leo"]}
    seed(Demo(patients=patients, users=users, members=members))
    db.session.commit()
    counts = (
        decision_count(),
        db.session.scalar(sa.select(sa.func.count(DecisionEntry.id))),
        db.session.scalar(sa.select(sa.func.count(PlanChange.id))),
    )
    seed(Demo(patients=patients, users=users, members=members))
    db.session.commit()
    assert counts == (
        decision_count(),
        db.session.scalar(sa.select(sa.func.count(DecisionEntry.id))),
        db.session.scalar(sa.select(sa.func.count(PlanChange.id))),
    )

    def only(patient):
        return db.session.scalars(
            sa.select(Decision).where(Decision.patient_id == patient.id)
        ).one()

    knee = only(patients["james"])
    assert knee.question == "How do you want to treat your knee pain?"
    assert knee.status is DecisionStatus.OPEN and knee.opened_by_id == users["doctor"].id
    assert (
        len(
            db.session.scalars(
                sa.select(DecisionOption).where(DecisionOption.decision_id == knee.id)
            ).all()
        )
        == 3
    )
    kinds = [(e.kind, e.author_id) for e in entries_of(knee.id)]
    assert (DecisionEntryKind.WHAT_MATTERS, users["james"].id) in kinds
    assert (DecisionEntryKind.QUESTION, users["ana"].id) in kinds
    assert (DecisionEntryKind.ANSWER, users["doctor"].id) in kinds
    times = [e.created_at for e in entries_of(knee.id)]
    assert times == sorted(times) and times[0] < utcnow() - timedelta(days=2)

    sugar = only(patients["maria"])
    assert sugar.status is DecisionStatus.DECIDED
    assert sugar.final_option_id == sugar.preferred_option_id is not None
    assert "azúcar" in sugar.question

    teeth = only(patients["leo"])
    assert teeth.status is DecisionStatus.OPEN and teeth.opened_by_id == users["dentist"].id

    b = new_browser()
    b.login(f"james@{DOMAIN}", DEMO_PASSWORD)
    page = text_of(b.get(url(patients["james"], knee.id)))
    assert "Ana Carter, for Jim" in page  # James goes by Jim
    assert "I want to keep gardening" in page
