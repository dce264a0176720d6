"""The action first (issue 14): a decision's say, a goal's check-in and a form's Save come before
everything else on the page. Here, on the server: the order of each page, which viewer is offered
which action (and nobody an action they may not take), the third person for anyone acting for
the patient, the numbers behind a goal's progress bar, and the options side by side.
tests/browser/test_main_action.py checks what a 360 px phone shows."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from app.caregivers.models import Scope
from app.careplan.decisions import services as decisions
from app.careplan.decisions.models import DecisionEntry, DecisionOption
from app.careplan.decisions.services import DecisionInput, OptionInput
from app.careplan.decisions.views import brief
from app.careplan.goals.models import Goal, GoalAchievement, GoalCheckIn, GoalLifecycle
from app.careplan.goals.views import progress
from app.core.db import utcnow
from app.extensions import db
from tests.fixtures.browser import signed_in

ACCOUNT = "/auth/account"

LONG_BENEFIT = (
    "Makes the muscles around your knee stronger. Many people have less pain after 6 to 8 "
    "weeks. No surgery and no new medicine."
)
LONG_RISK = (
    "The relief often lasts only 2 to 3 months. It can raise your blood sugar for a few days. "
    "A small risk of infection."
)
OPTIONS = [
    OptionInput("Physical therapy", LONG_BENEFIT, "Sore for a day.", "Two visits a week."),
    OptionInput("A steroid injection", "Less pain within days.", LONG_RISK, "One short visit."),
    OptionInput("Wait and see", "Nothing to do now.", "Pain may get worse.", "Nothing changes."),
]


@pytest.fixture
def world(two_patients):
    w = two_patients
    return {
        "patient": w.patient,
        "other": w.other,
        "patient_user": w.patient_user,
        "other_user": w.other_user,
        "member": w.member_user,
        "say": w.helper("Ana Carter", [Scope.PLAN.value, Scope.DECISIONS.value]),
        "goals": w.helper("Gus Helper", [Scope.PLAN.value, Scope.GOALS.value]),
        "plan_only": w.helper("Paul Viewer", [Scope.PLAN.value]),
    }


def page_of(browser, url: str) -> str:
    response = browser.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.get_data(as_text=True))


def words(page: str) -> str:
    """The page as a person reads it: tags removed, spaces collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def main_actions(page: str) -> list[str]:
    """The opening tag of every element marked as the page's main action."""
    return re.findall(r"<[a-z]+[^>]*\sdata-main-action[^>]*>", page)


def post(b, url, data):
    return b.post(url, data, form_url=ACCOUNT)


# ------------------------------------------------------------------ decisions


def open_decision(world, options=OPTIONS, question="How do you want to treat your knee pain?"):
    decision = decisions.open_decision(
        world["patient"].id,
        DecisionInput(
            question=question, background="Your knee hurts.", options=options, sensitivity=None
        ),
        author_id=world["member"].id,
    )
    db.session.commit()
    return decision


def decision_url(world, decision, action=""):
    return f"/patients/{world['patient'].id}/decisions/{decision.id}{action}"


def entries(decision_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count(DecisionEntry.id)).where(DecisionEntry.decision_id == decision_id)
    )


def test_the_say_comes_before_the_options_and_the_history(world, new_browser):
    decision = open_decision(world)
    page = page_of(signed_in(new_browser, world["patient_user"]), decision_url(world, decision))
    say, options, history = (page.index(f'id="{k}"') for k in ("take-part", "options", "history"))
    assert say < options < history
    [action] = main_actions(page)
    assert "/preference#take-part" in action  # the choice itself is the main action
    # The choice lists the options by name, in their order, before any long text.
    choice = words(page[say:options])
    assert choice.index("Physical therapy") < choice.index("A steroid injection")
    assert "Many people have less pain" not in choice


def test_the_options_side_by_side_in_a_real_table(world, new_browser):
    decision = open_decision(world)
    page = page_of(signed_in(new_browser, world["patient_user"]), decision_url(world, decision))
    table = page[page.index('<table class="decision-compare"') : page.index("</table>")]
    heads = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table, flags=re.S)
    assert [words(h) for h in heads] == [
        "1 Physical therapy",
        "2 A steroid injection",
        "3 Wait and see",
    ]
    rows = [words(r) for r in re.findall(r'<th scope="row">(.*?)</th>', table, flags=re.S)]
    assert rows[:3] == ["How it can help", "Risks and downsides", "What it means day to day"]
    assert "<caption" in table
    # A long text shows its first sentence in the table, the whole of it behind "More about
    # this option"; an option whose texts are all short has nothing more to show.
    body = table[table.index("<tbody>") :]
    cells = body[: body.index('class="decision-compare-more"')]
    assert "Makes the muscles around your knee stronger." in cells
    assert "Many people have less pain" not in cells
    assert "It can raise your blood sugar" not in cells
    more = body[body.index('class="decision-compare-more"') :]
    assert LONG_BENEFIT in more and LONG_RISK in more
    assert more.count("More about this option") == 2  # not for "Wait and see"


def test_option_texts_are_escaped_in_the_table(world, new_browser):
    hostile = OptionInput(
        '<img src=x onerror="alert(1)">', "<b>bold</b> " * 20, "<script>x</script>", "Fine."
    )
    decision = open_decision(world, options=[hostile, OPTIONS[2]])
    raw = signed_in(new_browser, world["patient_user"]).get(decision_url(world, decision))
    text = raw.get_data(as_text=True)
    assert "<img src=x" not in text and "<script>x" not in text and "<b>bold" not in text
    assert "&lt;img src=x onerror=" in text


def test_who_is_offered_what_on_a_decision(world, new_browser):
    decision = open_decision(world)
    url = decision_url(world, decision)

    ana = page_of(signed_in(new_browser, world["say"]), url)
    seen = words(ana)
    for phrase in (
        "James's say",
        "Which option does James prefer?",
        "What matters to James",
        "Save James's choice",
        "James's care team reads everything written here.",
    ):
        assert phrase in seen, phrase
    for phrase in ("Have your say", "Which option do you prefer?", "What matters to you"):
        assert phrase not in seen, phrase
    assert len(main_actions(ana)) == 1

    viewer = page_of(signed_in(new_browser, world["plan_only"]), url)
    assert 'id="take-part"' not in viewer
    assert "/preference" not in viewer and "/what-matters" not in viewer
    assert main_actions(viewer) == []
    assert "No option chosen yet." in words(viewer)

    team = page_of(signed_in(new_browser, world["member"]), url)
    [jump] = main_actions(team)
    assert 'class="jump-links"' in jump
    assert 'href="#answer-form"' in team and 'id="answer-form"' in team
    assert 'href="#decide-form"' in team and 'id="decide-form"' in team
    assert 'id="take-part"' not in team

    # Another patient's decision is not found under James, whoever asks.
    theirs = decisions.open_decision(
        world["other"].id,
        DecisionInput(question="Theirs?", background="", options=OPTIONS[:2], sensitivity=None),
        author_id=world["member"].id,
    )
    db.session.commit()
    me = signed_in(new_browser, world["patient_user"])
    assert me.get(decision_url(world, theirs)).status_code == 404


def first_option(decision) -> int:
    return db.session.scalars(
        sa.select(DecisionOption.id)
        .where(DecisionOption.decision_id == decision.id)
        .order_by(DecisionOption.position)
    ).first()


def test_a_decided_decision_offers_no_action(world, new_browser):
    decision = open_decision(world)
    decisions.record_final(
        decision, first_option(decision), author_id=world["member"].id, capacity="care_team"
    )
    db.session.commit()
    for who in ("patient_user", "say", "member"):
        page = page_of(signed_in(new_browser, world[who]), decision_url(world, decision))
        assert main_actions(page) == [], who
        assert "What was decided" in words(page)


@pytest.mark.parametrize(
    ("action", "data", "opened", "message"),
    [
        ("what-matters", {"what_matters": "  "}, 'id="what-matters" open', "Write what matters"),
        ("questions", {"question_text": ""}, 'id="ask" open', "Write your question."),
        (
            "preference",
            {"preferred_option": "FIRST", "preference_note": "x" * 2001},
            'class="decision-why-note" open',
            "2000",
        ),
    ],
)
def test_a_refused_say_opens_again_where_it_was(world, new_browser, action, data, opened, message):
    decision = open_decision(world)
    if data.get("preferred_option") == "FIRST":
        data = {**data, "preferred_option": first_option(decision)}
    before = entries(decision.id)
    me = signed_in(new_browser, world["patient_user"])
    response = post(me, decision_url(world, decision, f"/{action}"), data)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert opened in page  # the disclosure holding the form is open
    assert message in words(page)
    assert entries(decision.id) == before


SINGLE = (
    "One long sentence about the knee, the pain, the walk to the shops, the stairs at home and "
    "the garden."
)
DOCTOR = "Dr. Lee will see you at the clinic on the first floor. " + "More words. " * 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Short and whole.", None),
        (SINGLE + " Two.", SINGLE),
        (SINGLE, None),  # one sentence, not much longer than the limit: whole
        (LONG_BENEFIT, "Makes the muscles around your knee stronger."),
        (DOCTOR, "Dr. Lee will see you at the clinic on the first floor."),  # not "Dr."
        ("word " * 60, "word " * 26 + "word…"),  # cut between words, within 140 characters
    ],
)
def test_brief_keeps_the_first_sentence(text, expected):
    assert brief(text) == expected


# ------------------------------------------------------------------ goals


def add_goal(world, **kw) -> Goal:
    values = {
        "description": "Get my A1c under 7",
        "lifecycle_status": GoalLifecycle.ACTIVE,
        "achievement_status": GoalAchievement.IN_PROGRESS,
        "expressed_by_id": world["patient_user"].id,
        "expressed_by_capacity": "patient",
        "target_text": "Below 7 at my next lab test",
    }
    values.update(kw)
    goal = Goal(patient_id=world["patient"].id, **values)
    db.session.add(goal)
    db.session.commit()
    return goal


def add_numbers(goal: Goal, values) -> None:
    from datetime import timedelta

    start = utcnow() - timedelta(days=len(values))
    for i, value in enumerate(values):
        db.session.add(
            GoalCheckIn(
                goal_id=goal.id,
                value=value,
                recorded_by_id=goal.expressed_by_id,
                capacity="patient",
                recorded_at=start + timedelta(days=i),
            )
        )
    db.session.commit()


def goal_url(world, goal, action=""):
    return f"/patients/{world['patient'].id}/goals/{goal.id}{action}"


@pytest.mark.parametrize(
    ("higher", "target", "values", "percent", "sentence"),
    [
        (False, 7.0, [8.4, 8.1, 7.6], 57, "You are 57% of the way there."),
        (True, 6000, [3200, 5800], 97, "You are 97% of the way there."),
        (True, 2, [1, 2], 100, "You reached the number you aimed for."),
        (False, 7.0, [7.5, 8.0], 0, "You are 0% of the way there."),  # worse than at the start
        (True, 10, [12], 100, "You reached the number you aimed for."),
    ],
)
def test_progress_at_a_glance(world, new_browser, higher, target, values, percent, sentence):
    goal = add_goal(world, target_value=target, target_unit="%", higher_is_better=higher)
    add_numbers(goal, values)
    page = page_of(signed_in(new_browser, world["patient_user"]), goal_url(world, goal))
    bar = re.search(r"<progress [^>]*>", page).group(0)
    assert f'value="{percent}"' in bar and 'max="100"' in bar
    assert 'aria-labelledby="goal-progress-text"' in bar
    assert sentence in words(page)
    assert page.index("<progress") < page.index('id="check-in"')  # at a glance, at the top


def test_no_bar_without_a_number_to_aim_for(world, new_browser, app):
    goal = add_goal(world, target_value=None, higher_is_better=None)
    add_numbers(goal, [3, 4])
    page = page_of(signed_in(new_browser, world["patient_user"]), goal_url(world, goal))
    assert "<progress" not in page
    assert "Last check-in:" in words(page)
    with app.test_request_context():
        assert progress(goal, []) is None


def test_check_in_comes_first_and_speaks_of_the_patient_to_others(world, new_browser):
    goal = add_goal(world, target_value=7.0, target_unit="%", higher_is_better=False)
    add_numbers(goal, [8.4, 7.6])
    url = goal_url(world, goal)

    me = page_of(signed_in(new_browser, world["patient_user"]), url)
    assert me.index('id="check-in"') < me.index('id="goal-about-heading"')
    assert me.index('id="goal-about-heading"') < me.index('id="goal-history-heading"')
    [action] = main_actions(me)
    assert "/check-ins#check-in" in action
    assert "How you will know" in words(me)

    gus = page_of(signed_in(new_browser, world["goals"]), url)
    seen = words(gus)
    for phrase in (
        "James's number",
        "James is 57% of the way there.",
        "How James will know",
        "James reached it",
        "Chart of James's numbers over time",
    ):
        assert phrase in seen, phrase
    for phrase in ("Your number", "You are 57%", "How you will know", "I reached it"):
        assert phrase not in seen, phrase
    assert len(main_actions(gus)) == 1

    viewer = page_of(signed_in(new_browser, world["plan_only"]), url)
    assert 'id="check-in"' not in viewer and "/check-ins" not in viewer
    assert main_actions(viewer) == []
    assert "James is 57% of the way there." in words(viewer)


def test_a_suggested_goal_is_answered_first(world, new_browser):
    goal = add_goal(
        world,
        description="Check my feet every evening",
        why_it_matters="Small cuts can get worse.",
        lifecycle_status=GoalLifecycle.PROPOSED,
        achievement_status=None,
        expressed_by_id=world["member"].id,
        expressed_by_capacity="care_team",
    )
    url = goal_url(world, goal)
    me = page_of(signed_in(new_browser, world["patient_user"]), url)
    [action] = main_actions(me)
    assert "/accept" in action
    assert me.index("/accept") < me.index('id="goal-about-heading"')
    assert me.index("Small cuts can get worse.") < me.index("/accept")  # why, then the answer

    gus = words(page_of(signed_in(new_browser, world["goals"]), url))
    assert "Yes, James will work on it" in gus
    assert "James's care team suggested this goal" in gus
    assert "Yes, I will work on it" not in gus

    team = page_of(signed_in(new_browser, world["member"]), url)
    assert main_actions(team) == []
    assert "Waiting for an answer" in words(team)


def test_a_refused_check_in_comes_back_at_the_form(world, new_browser):
    goal = add_goal(world, target_value=7.0, target_unit="%", higher_is_better=False)
    me = signed_in(new_browser, world["patient_user"])
    response = post(me, goal_url(world, goal, "/check-ins"), {"value": "seven"})
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "Please enter a number" in words(page)
    assert 'action="/patients/' in page and '/check-ins#check-in"' in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(GoalCheckIn.id))) == 0


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    "path",
    ["/patients/{id}/reminders", "/patients/{id}/preferences/edit", "/patients/{id}/profile"],
)
def test_settings_forms_end_in_a_save_bar(world, new_browser, path):
    page = page_of(
        signed_in(new_browser, world["patient_user"]), path.format(id=world["patient"].id)
    )
    [action] = main_actions(page)
    assert action.startswith('<button type="submit"')
    bar = page[page.index('<div class="save-bar">') :]
    assert bar.index("data-main-action") < bar.index("</div>")
    # The bar is inside its form, so it submits it and scrolls away with it.
    form = page[page.rindex("<form", 0, page.index('<div class="save-bar">')) :]
    assert form.index('<div class="save-bar">') < form.index("</form>")


def test_others_read_the_settings_forms_in_the_third_person(world, new_browser):
    patient = world["patient"]
    gus = words(
        page_of(signed_in(new_browser, world["goals"]), f"/patients/{patient.id}/preferences/edit")
    )
    assert "Change James's preferences" in gus
    team = words(
        page_of(signed_in(new_browser, world["member"]), f"/patients/{patient.id}/profile")
    )
    assert "Edit James's profile" in team
    me = words(
        page_of(signed_in(new_browser, world["patient_user"]), f"/patients/{patient.id}/profile")
    )
    assert "Edit your profile" in me
