"""The caregiver's view: "People I help" as person cards, the "What you can see and do for Jim"
panel, third-person copy for anyone reading a record that is not their own, and the
caregiver's own tasks (`careplan.items.queries.caregiver_tasks`).

What it promises: the panel says what the grant allows in plain words, scope by scope; it says
that some of Jim's care is private without ever naming a category or telling whether anything
private exists; it shows nothing to anyone but a caregiver with a grant in force. Ana and the
nurse read "Jim's medicines" and "Who: Jim" where James reads "Your medicines" and "Who: You".
A caregiver's own tasks are theirs, for this patient, in categories they may see.
"""

from __future__ import annotations

import html as htmllib
import re
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from flask import render_template_string
from flask_login import login_user

from app.auth.models import Role, User
from app.caregivers.models import GrantKind, Scope
from app.caregivers.policy import hidden_for
from app.careplan.items.models import (
    Area,
    ItemKind,
    ItemStatus,
    OwnerKind,
    ReferralNeed,
    ReferralStatus,
    Schedule,
    TaskCompletion,
)
from app.careplan.items.queries import caregiver_tasks
from app.core.db import utcnow
from app.core.privacy import SENSITIVITY_LABELS, Sensitivity
from app.extensions import db
from tests.fixtures.browser import signed_in
from tests.fixtures.plan import add, lab_test, med

# ------------------------------------------------------------------ the world


@pytest.fixture
def world(two_patients, make_org):
    """James ("Jim") and Maria; Ana helps Jim with the plan, messages and reminders."""
    w = two_patients
    w.patient.preferred_name = "Jim"
    db.session.commit()
    ana = w.helper("Ana Carter", [Scope.PLAN.value, Scope.MESSAGES.value, Scope.REMINDERS.value])
    return {
        "w": w,
        "jim": w.patient,
        "maria": w.other,
        "ana": ana,
        "grant": w.grant_of(ana),
        "heart": make_org(name="Salem Heart"),
    }


def html_of(browser, url: str) -> str:
    response = browser.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def words(html: str) -> str:
    """The page's text as a person reads it: tags out, entities in, spaces squeezed."""
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", htmllib.unescape(text)).strip()


def panel_html(html: str, name: str) -> str:
    """The folded panel for one person on "People I help"."""
    found = re.search(r'<details class="scope-panel.*?</details>', html, re.S)
    assert found, "no panel on the page"
    assert f"What you can see and do for {name}" in found.group(0)
    return found.group(0)


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", html)


# ------------------------------------------------------------------ People I help


def test_people_i_help_is_a_card_per_person_with_open_and_the_panel(world, new_browser):
    jim, ana = world["jim"], world["ana"]
    page = html_of(signed_in(new_browser, ana), "/caregivers/")
    text = words(page)
    assert "Open Jim's care" in text
    # The main action opens Jim's care: his home, or his summary where there is none.
    assert re.search(rf'href="/patients/{jim.id}(/home)?" *>\s*Open Jim', page)
    assert ">JC</span>" in page  # initials
    # Who Ana is to Jim, said from Ana's side, so nobody reads Jim as the daughter.
    assert "Jim" in text and "James Carter You: Daughter" in text
    # What Ana may do, in one line, and the whole panel folded under it.
    assert "Plan · Messages · Reminders" in text
    panel = words(panel_html(page, "Jim"))
    for line in (
        "See Jim's details and care team",
        "See Jim's care plan, goals and decisions",
        "Mark Jim's tasks done",
        "Send and read messages with Jim's care team",
        "Get text reminders for Jim",
        "You cannot change Jim's goals or preferences.",
        "You cannot take part in decisions about Jim's care.",
        "You cannot change Jim's contact details or text settings.",
        "Some of Jim's care is private and not shown to you.",
        "Only Jim can change what you can see and do.",
    ):
        assert line in panel, line
    assert "until" not in panel  # no end date
    assert "Maria" not in text  # nobody Ana does not help


#: For each scope: what its panel line says when granted, and when not.
SCOPE_WORDS = {
    Scope.PLAN: (
        ["See Jim's care plan, goals and decisions", "Mark Jim's tasks done"],
        "You cannot see Jim's care plan.",
    ),
    Scope.MESSAGES: (
        ["Send and read messages with Jim's care team"],
        "You cannot read or send Jim's messages.",
    ),
    Scope.REMINDERS: (["Get text reminders for Jim"], "You do not get text reminders for Jim."),
    Scope.APPOINTMENTS: (
        ["Help with Jim's appointments"],
        "You cannot help with Jim's appointments.",
    ),
    Scope.GOALS: (
        ["Change Jim's goals and preferences"],
        "You cannot change Jim's goals or preferences.",
    ),
    Scope.DECISIONS: (
        ["Take part in decisions about Jim's care"],
        "You cannot take part in decisions about Jim's care.",
    ),
}


@pytest.mark.parametrize("scope", list(Scope), ids=lambda s: s.value)
def test_the_panel_says_what_each_scope_allows_and_what_it_does_not(world, new_browser, scope):
    helper = world["w"].helper("Bea Carter", [scope.value])
    panel = words(panel_html(html_of(signed_in(new_browser, helper), "/caregivers/"), "Jim"))
    for other, (can_lines, cannot_line) in SCOPE_WORDS.items():
        if other is scope:
            assert all(line in panel for line in can_lines), scope
            assert cannot_line not in panel
        else:
            assert not any(line in panel for line in can_lines), other
            assert cannot_line in panel, other
    # Whatever the grant: the summary, and never the patient's own contact settings.
    assert "See Jim's details and care team" in panel
    assert "You cannot change Jim's contact details or text settings." in panel


def test_a_grant_with_no_scope_says_so_in_its_line(world, new_browser):
    helper = world["w"].helper("Bea Carter", [])
    text = words(html_of(signed_in(new_browser, helper), "/caregivers/"))
    assert "Jim's details and care team only" in text


CATEGORY_WORDS = [
    *(str(label) for label in SENSITIVITY_LABELS.values()),
    *(c.value for c in Sensitivity),
    "behavioral",
    "substance",
    "sexual",
    "reproductive",
    "confidential",
]


def test_the_panel_never_names_a_hidden_category_nor_tells_whether_it_holds_anything(
    world, new_browser
):
    """Jim shares no category with Ana. Her page reads the same, byte for byte, before and
    after his plan holds behavioral health and substance use items, and names neither."""
    jim, ana = world["jim"], world["ana"]
    browser = signed_in(new_browser, ana)
    before = html_of(browser, "/caregivers/")
    for category in (Sensitivity.BEHAVIORAL_HEALTH, Sensitivity.SUBSTANCE_USE):
        add(jim, world["w"].org, title=f"Private {category.value}", sensitivity=category)
        add(
            jim,
            world["w"].org,
            title=f"Ana's private {category.value}",
            sensitivity=category,
            owner_kind=OwnerKind.CAREGIVER,
            owner_caregiver_id=ana.id,
        )
    after = html_of(browser, "/caregivers/")
    assert without_tokens(before) == without_tokens(after)
    assert "Some of Jim's care is private and not shown to you." in words(after)
    lowered = after.lower()
    for word in CATEGORY_WORDS:
        assert word.lower() not in lowered, word
    assert not re.search(r"\b\d+ (private|hidden)", words(after))


def test_the_panel_reads_the_same_whichever_categories_are_hidden(world, new_browser):
    """Sharing one category or none changes what Ana sees in the record, never the panel's
    words: a private thread is always between Jim and his team."""
    jim, ana, grant = world["jim"], world["ana"], world["grant"]
    browser = signed_in(new_browser, ana)
    add(jim, world["w"].org, title="Counseling", sensitivity=Sensitivity.BEHAVIORAL_HEALTH)
    panels = []
    for shared in ([], [Sensitivity.BEHAVIORAL_HEALTH.value], [c.value for c in Sensitivity][:3]):
        grant.sensitive_categories = shared
        db.session.commit()
        panels.append(panel_html(html_of(browser, "/caregivers/"), "Jim"))
    assert panels[0] == panels[1] == panels[2]
    assert "private and not shown to you" in panels[0]


def test_the_panel_gives_the_last_day_of_access(world, new_browser):
    jim, grant = world["jim"], world["grant"]
    last = jim.today() + timedelta(days=30)
    grant.ends_at = datetime.combine(last + timedelta(days=1), time.min, jim.zone)
    db.session.commit()
    panel = words(panel_html(html_of(signed_in(new_browser, world["ana"]), "/caregivers/"), "Jim"))
    assert f"You can help Jim until {format_date(last, 'medium', locale='en')}." in panel


def test_a_guardians_panel_ends_at_the_18th_birthday_and_names_the_team(
    make_patient, make_user, grant, new_browser
):
    today = utcnow().date()
    leo = make_patient(given="Leo", family="Martinez", dob=today.replace(year=today.year - 15))
    rosa = make_user(Role.CAREGIVER, name="Rosa Martinez")
    grant(leo, rosa, scopes=[s.value for s in Scope], kind=GrantKind.GUARDIAN)
    panel = words(panel_html(html_of(signed_in(new_browser, rosa), "/caregivers/"), "Leo"))
    eve = leo.date_of_birth.replace(year=leo.date_of_birth.year + 18) - timedelta(days=1)
    assert f"You can help Leo until {format_date(eve, 'medium', locale='en')}." in panel
    assert "Leo's care team set this up." in panel
    assert "Only Leo can change" not in panel
    assert "Some of Leo's care is private and not shown to you." in panel


def render_panel(app, user, patient) -> str:
    with app.app_context(), app.test_request_context():  # a request of its own, as in a server
        login_user(user)
        return render_template_string(
            '{% from "caregivers/_scope_panel.html" import scope_panel %}{{ scope_panel(p) }}',
            p=patient,
        ).strip()


def test_the_panel_shows_nothing_to_anyone_but_a_caregiver_in_force(app, world, make_user):
    w, jim, ana = world["w"], world["jim"], world["ana"]
    assert "What you can see and do for Jim" in render_panel(app, ana, jim)
    stranger = make_user(Role.CAREGIVER)
    for user in (w.patient_user, w.member_user, w.admin, stranger):
        assert render_panel(app, user, jim) == "", user
    assert render_panel(app, ana, world["maria"]) == ""  # not someone Ana helps
    world["grant"].revoked_at = utcnow()
    db.session.commit()
    assert render_panel(app, ana, jim) == ""


def test_only_caregivers_have_a_people_page_and_only_their_grants_open_a_record(world, new_browser):
    w, jim = world["w"], world["jim"]
    item = add(jim, w.org, title="Walk")
    for user in (w.patient_user, w.member_user, w.admin):
        assert signed_in(new_browser, user).get("/caregivers/").status_code == 404
    # A caregiver of Maria's, and a caregiver whose grant has no plan: 404 like a missing page.
    marias = w._make_user(Role.CAREGIVER, name="Mo")
    w._grant(w.other, marias, scopes=[s.value for s in Scope])
    no_plan = w.helper("Cy", [Scope.MESSAGES.value])
    base = f"/patients/{jim.id}"
    marias_browser, no_plan_browser = (
        signed_in(new_browser, marias),
        signed_in(new_browser, no_plan),
    )
    for url in (f"{base}/today", f"{base}/plan", f"{base}/plan/items/{item.id}"):
        assert marias_browser.get(url).status_code == 404, url
        assert no_plan_browser.get(url).status_code == 404, url
    assert marias_browser.get(base).status_code == 404
    assert "Open Jim" not in words(html_of(marias_browser, "/caregivers/"))


def test_people_page_queries_do_not_grow_with_people(
    make_patient, make_user, grant, new_browser, count_queries
):
    ana = make_user(Role.CAREGIVER)
    grant(make_patient(given="P0"), ana, scopes=["plan"])
    browser = signed_in(new_browser, ana)

    def count() -> int:
        with count_queries() as counter:
            assert browser.get("/caregivers/").status_code == 200
        return counter.count

    small = count()
    for n in range(1, 6):
        kind = GrantKind.GUARDIAN if n % 2 else GrantKind.DELEGATE
        grant(make_patient(given=f"P{n}"), ana, scopes=["messages"], kind=kind)
    assert count() == small
    assert small <= 8


# ------------------------------------------------------------------ third-person copy


@pytest.fixture
def plan(world):
    """Jim's plan: his own task and medicine, Ana's task, a referral the team heard back on,
    and a test two of his providers ordered (a flag)."""
    w, jim, ana = world["w"], world["jim"], world["ana"]
    own = add(jim, w.org, title="Weigh yourself every morning")
    anas = add(
        jim,
        w.org,
        title="Fill the weekly pill box",
        area=Area.MEDICINES,
        owner_kind=OwnerKind.CAREGIVER,
        owner_caregiver_id=ana.id,
    )
    pill = med(jim, w.org, "apixaban", ["apixaban"], "Dr. Walsh", title="Take apixaban")
    add(
        jim,
        w.org,
        kind=ItemKind.REFERRAL,
        title="Rides to visits",
        referred_to="LIFT",
        referral_need=ReferralNeed.TRANSPORT,
        referral_status=ReferralStatus.CONTACTED,
        area=Area.HOME_FOOD_TRANSPORT,
        owner_kind=OwnerKind.ORGANIZATION,
        owner_organization_id=w.org.id,
    )
    lab_test(jim, w.org, title="Cholesterol test")
    lab_test(jim, world["heart"], title="Lipid panel")
    return {"own": own, "anas": anas, "pill": pill}


def test_ana_reads_jims_record_in_the_third_person(world, plan, new_browser):
    jim = world["jim"]
    browser = signed_in(new_browser, world["ana"])
    base = f"/patients/{jim.id}"

    page = words(html_of(browser, f"{base}/plan"))
    assert "Jim's care plan" in page
    assert "Everything Jim and the care team plan to do" in page
    assert "Jim's medicines" in page and "My medicines" not in page
    assert "Who: Jim ·" in page
    assert page.count("Who: You ·") == 1  # Ana's own task, and only hers
    assert "They contacted Jim" in page and "They contacted you" not in page
    assert "Two of Jim's providers ordered this test. The care team is checking." in page
    assert "your providers" not in page and "Your care team" not in page

    today = words(html_of(browser, f"{base}/today"))
    assert "Today and this week for Jim" in today
    assert "Jim's medicines" in today and "Your medicines" not in today

    item = words(html_of(browser, f"{base}/plan/items/{plan['own'].id}"))
    assert "Who does it Jim " in item
    mine = words(html_of(browser, f"{base}/plan/items/{plan['anas'].id}"))
    assert "Who does it You " in mine

    goals = words(html_of(browser, f"{base}/goals"))
    assert "Goals are things Jim wants to work on, in Jim's own words." in goals
    assert "things you want" not in goals

    new = words(html_of(browser, f"{base}/messages/new"))
    assert "Write to Jim's care team" in new and "Everyone on Jim's care team" in new
    assert "your care team" not in new.lower()

    prefs = words(html_of(browser, f"{base}/preferences"))
    assert "How Jim wants to be cared for" in prefs and "What matters most to Jim" in prefs
    assert "How I want" not in prefs and "to me" not in prefs


def test_the_nurse_reads_jims_record_in_the_third_person(world, plan, new_browser):
    jim = world["jim"]
    browser = signed_in(new_browser, world["w"].member_user)
    base = f"/patients/{jim.id}"
    page = words(html_of(browser, f"{base}/plan"))
    assert "Jim's care plan" in page and "Jim's medicines" in page
    assert "Who: Jim ·" in page and "Who: Ana Carter ·" in page
    assert "Who: You" not in page and "My medicines" not in page
    assert "Two of Jim's providers ordered this test." in page
    today = words(html_of(browser, f"{base}/today"))
    assert "Jim's medicines" in today and "Your medicines" not in today
    item = words(html_of(browser, f"{base}/plan/items/{plan['own'].id}"))
    assert "Who does it Jim " in item
    prefs = words(html_of(browser, f"{base}/preferences"))
    assert "How Jim wants to be cared for" in prefs
    assert "Change or check Jim's mobile number" in prefs
    # The form the nurse fills in names Jim's areas of life, not "My body".
    form = words(html_of(browser, f"{base}/plan/new/task"))
    assert "Jim's body" in form and "My body" not in form


def test_james_reads_his_own_record_as_you(world, plan, new_browser):
    jim = world["jim"]
    browser = signed_in(new_browser, world["w"].patient_user)
    base = f"/patients/{jim.id}"
    page = words(html_of(browser, f"{base}/plan"))
    assert "Care plan" in page and "Jim's care plan" not in page
    assert "Everything your care team and you plan to do" in page
    assert "My medicines" in page and "Jim's medicines" not in page
    assert "Who: You ·" in page and "Who: Ana Carter ·" in page and "Who: Jim" not in page
    assert "They contacted you" in page
    assert "Two of your providers ordered this test. Your care team is checking." in page
    today = words(html_of(browser, f"{base}/today"))
    assert "Your medicines" in today and "Jim's medicines" not in today
    assert "Today and this week for" not in today
    item = words(html_of(browser, f"{base}/plan/items/{plan['own'].id}"))
    assert "Who does it You " in item
    assert "Write to your care team" in words(html_of(browser, f"{base}/messages/new"))
    prefs = words(html_of(browser, f"{base}/preferences"))
    assert "How I want to be cared for" in prefs and "What matters most to me" in prefs
    goals = words(html_of(browser, f"{base}/goals"))
    assert "Goals are things you want to work on" in goals


# ------------------------------------------------------------------ the caregiver's own tasks


def at(patient, day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), patient.zone)


def titles(found) -> list[str]:
    return [item.title for item in found]


@pytest.fixture
def tasks(world):
    """Ana's jobs for Jim, and everything that looks like one but is not hers to do today."""
    w, jim, ana = world["w"], world["jim"], world["ana"]
    today = jim.today()
    anas = {"owner_kind": OwnerKind.CAREGIVER, "owner_caregiver_id": ana.id}
    other_helper = w.helper("Bea Carter", [Scope.PLAN.value])

    def task(title, **kw):
        return add(jim, w.org, title=title, **{**anas, **kw})

    made = {
        "daily": task("Check the pill box"),
        "weekly_today": task("Sort the mail", schedule=Schedule.WEEKLY, weekday=today.weekday()),
        "once_overdue": task(
            "Call the pharmacy", schedule=Schedule.ONCE, due_date=today - timedelta(days=3)
        ),
        "once_today": task("Pick up the walker", schedule=Schedule.ONCE, due_date=today),
        "visit_today": task(
            "Drive Jim to the heart check-up",
            kind=ItemKind.APPOINTMENT,
            starts_at=at(jim, today, 15),
            location="Salem Heart",
        ),
        "test_due": task(
            "Take Jim for blood work",
            kind=ItemKind.TEST,
            code="4548-4",
            code_system="LOINC",
            due_date=today,
        ),
        # Not today, not open, not Ana's:
        "weekly_other_day": task(
            "Water the plants", schedule=Schedule.WEEKLY, weekday=(today.weekday() + 1) % 7
        ),
        "once_tomorrow": task(
            "Buy stamps", schedule=Schedule.ONCE, due_date=today + timedelta(days=1)
        ),
        "visit_tomorrow": task(
            "Drive Jim to the dentist",
            kind=ItemKind.APPOINTMENT,
            starts_at=at(jim, today + timedelta(days=1), 9),
            location="Dental",
        ),
        "done_daily": task("Refill the water jug"),
        "done_once": task(
            "Post the form", schedule=Schedule.ONCE, due_date=today - timedelta(days=1)
        ),
        "on_hold": task("Paused job", status=ItemStatus.ON_HOLD),
        "closed": task("Finished job", status=ItemStatus.COMPLETED),
        "jims_own": add(jim, w.org, title="Weigh yourself"),
        "beas": add(
            jim,
            w.org,
            title="Bea's job",
            owner_kind=OwnerKind.CAREGIVER,
            owner_caregiver_id=other_helper.id,
        ),
        "teams": add(
            jim,
            w.org,
            title="Nurse's job",
            owner_kind=OwnerKind.TEAM_MEMBER,
            owner_member_id=w.member.id,
        ),
        "private": task("Drive Jim to counseling", sensitivity=Sensitivity.BEHAVIORAL_HEALTH),
        "on_marias": add(w.other, w.org, title="Maria's job for Ana", **anas),
    }
    db.session.add_all(
        [
            TaskCompletion(item_id=made["done_daily"].id, for_date=today),
            TaskCompletion(item_id=made["done_once"].id, for_date=today),
            # A tick on another day does not do today's daily task.
            TaskCompletion(item_id=made["daily"].id, for_date=today - timedelta(days=1)),
        ]
    )
    db.session.commit()
    return made


def test_caregiver_tasks_are_hers_for_this_patient_due_today_or_overdue(app, world, tasks):
    jim, ana = world["jim"], world["ana"]
    hidden = hidden_for(world["grant"], jim)
    found = caregiver_tasks(jim, ana.id, hidden, jim.today())
    assert titles(found) == [
        "Call the pharmacy",  # overdue first
        "Drive Jim to the heart check-up",  # then by time
        "Check the pill box",
        "Pick up the walker",
        "Sort the mail",
        "Take Jim for blood work",
    ]
    assert all(item.patient_id == jim.id for item in found)


def test_caregiver_tasks_keep_out_hidden_categories(app, world, tasks):
    jim, ana, grant = world["jim"], world["ana"], world["grant"]
    assert "Drive Jim to counseling" not in titles(
        caregiver_tasks(jim, ana.id, hidden_for(grant, jim), jim.today())
    )
    grant.sensitive_categories = [Sensitivity.BEHAVIORAL_HEALTH.value]
    db.session.commit()
    assert "Drive Jim to counseling" in titles(
        caregiver_tasks(jim, ana.id, hidden_for(grant, jim), jim.today())
    )
    # Whatever category is hidden, by the grant or the age rules: that one stays out.
    for category in Sensitivity:
        hidden = frozenset({category.value})
        found = titles(caregiver_tasks(jim, ana.id, hidden, jim.today()))
        shown = category is not Sensitivity.BEHAVIORAL_HEALTH
        assert ("Drive Jim to counseling" in found) is shown, category


def test_caregiver_tasks_never_cross_patients_or_caregivers(app, world, tasks):
    w, jim, maria, ana = world["w"], world["jim"], world["maria"], world["ana"]
    hidden = hidden_for(world["grant"], jim)
    assert "Maria's job for Ana" not in titles(caregiver_tasks(jim, ana.id, hidden, jim.today()))
    assert titles(caregiver_tasks(maria, ana.id, frozenset(), maria.today())) == [
        "Maria's job for Ana"
    ]
    # Someone else's id: their own jobs, never Ana's (Jim himself owns none as a caregiver).
    assert caregiver_tasks(jim, w.patient_user.id, hidden, jim.today()) == []
    bea = db.session.scalar(sa.select(User).where(User.full_name == "Bea Carter"))
    assert titles(caregiver_tasks(jim, bea.id, hidden, jim.today())) == ["Bea's job"]
    assert caregiver_tasks(jim, 10_000, hidden, jim.today()) == []  # nobody's id


def test_caregiver_tasks_cost_two_queries_whatever_the_plan(app, world, tasks, count_queries):
    jim, ana = world["jim"], world["ana"]
    hidden = hidden_for(world["grant"], jim)

    def counted() -> tuple[int, int]:
        ana_id, today, _zone = ana.id, jim.today(), jim.zone  # loaded before counting
        with count_queries() as counter:
            found = caregiver_tasks(jim, ana_id, hidden, today)
        return counter.count, len(found)

    assert counted() == (2, 6)  # the items, the ticks
    for n in range(10):
        add(
            jim,
            world["w"].org,
            title=f"Extra {n}",
            owner_kind=OwnerKind.CAREGIVER,
            owner_caregiver_id=ana.id,
        )
    assert counted() == (2, 16)


def test_caregiver_tasks_follow_the_patients_calendar(app, world, tasks):
    """Tomorrow in Jim's calendar: yesterday's daily tick does not count, the dentist is due,
    the heart visit and the one-time job for today are gone or overdue."""
    jim, ana = world["jim"], world["ana"]
    tomorrow = jim.today() + timedelta(days=1)
    found = titles(caregiver_tasks(jim, ana.id, hidden_for(world["grant"], jim), tomorrow))
    assert "Drive Jim to the dentist" in found and "Buy stamps" in found
    assert "Drive Jim to the heart check-up" not in found
    assert "Refill the water jug" in found  # ticked for today, due again tomorrow
    assert found.index("Pick up the walker") < found.index("Buy stamps")  # now overdue
