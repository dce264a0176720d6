"""Home = today: where the patient (and a caregiver acting for them) lands, what its first screen
holds, the tab bar's counts, "More" - and what none of them may show to the wrong person."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.careplan.items.models import ItemKind, OwnerKind, TaskCompletion
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.core.privacy import Sensitivity
from app.extensions import db
from tests.fixtures.browser import signed_in
from tests.fixtures.plan import add

TAB_BADGE_RE = re.compile(r'<span class="tab-badge"[^>]*>([^<]+)</span>')


def badge_of(html: str, label: str) -> str | None:
    """The badge on one tab of the tab bar ("Home", "Messages"), None when it has none."""
    nav = html[html.index('class="tabbar"') :]
    for item in nav.split("<li>")[1:]:
        if f'<span class="tab-label">{label}</span>' in item:
            found = TAB_BADGE_RE.search(item)
            return found.group(1) if found else None
    raise AssertionError(f"no {label} tab")


@pytest.fixture
def home(two_patients):
    w = two_patients
    w.walk = add(w.patient, w.org, title="Walk after dinner")
    w.weigh = add(w.patient, w.org, title="Weigh yourself every morning")
    w.team_task = add(
        w.patient,
        w.org,
        title="Call about the scale",
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=w.member.id,
    )
    w.pills = add(w.patient, w.org, kind=ItemKind.MEDICATION, title="Take metformin", dose="500 mg")
    w.secret = add(
        w.patient,
        w.org,
        title="Journal about your mood",
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
    )
    soon = utcnow() + timedelta(days=1)
    w.therapy = add(
        w.patient,
        w.org,
        kind=ItemKind.APPOINTMENT,
        title="Counselling session",
        starts_at=soon,
        location="Behavioral Health, Room 2",
        sensitivity=Sensitivity.BEHAVIORAL_HEALTH,
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=w.member.id,
    )
    w.heart = add(
        w.patient,
        w.org,
        kind=ItemKind.APPOINTMENT,
        title="Heart check-up",
        starts_at=soon + timedelta(days=2),
        location="Salem Heart, 890 Center St",
        with_whom="Dr. Walsh",
        owner_kind=OwnerKind.TEAM_MEMBER,
        owner_member_id=w.member.id,
    )
    add(w.other, w.org, title="Maria's own task")
    return w


def test_the_patient_lands_on_home_and_sees_today_first(home, new_browser):
    b = signed_in(new_browser, home.patient_user)
    assert b.get("/").headers["Location"] == f"/patients/{home.patient.id}/home"
    html = b.get(f"/patients/{home.patient.id}/home").get_data(as_text=True)
    assert "Hello, James" in html
    # The next appointment is the soonest one (his own view includes the private one).
    assert "Counselling session" in html
    for title in ("Walk after dinner", "Weigh yourself every morning", "Take metformin"):
        assert title in html
    assert "Call about the scale" not in html  # the team's task is not his to tick
    assert "Maria&#39;s own task" not in html and "Maria's own task" not in html
    # Three of his own tasks are due (the medicine is listed, not counted).
    assert badge_of(html, "Home") == "3"


def test_done_on_home_ticks_the_task_and_comes_back_home(home, new_browser):
    b = signed_in(new_browser, home.patient_user)
    url = f"/patients/{home.patient.id}/home"
    day = home.patient.today().isoformat()
    response = b.post(
        f"/patients/{home.patient.id}/plan/items/{home.walk.id}/done",
        {"day": day, "back": "home"},
        form_url=url,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{url}#item-{home.walk.id}"
    html = b.get(url).get_data(as_text=True)
    assert badge_of(html, "Home") == "2"
    assert 'aria-label="Mark not done: Walk after dinner"' in html
    # A double tap leaves one tick.
    b.post(
        f"/patients/{home.patient.id}/plan/items/{home.walk.id}/done",
        {"day": day, "back": "home"},
        form_url=url,
    )
    ticks = db.session.scalar(
        sa.select(sa.func.count()).where(TaskCompletion.item_id == home.walk.id)
    )
    assert ticks == 1


def test_a_medicine_is_marked_taken_from_home(home, new_browser):
    b = signed_in(new_browser, home.patient_user)
    url = f"/patients/{home.patient.id}/home"
    html = b.get(url).get_data(as_text=True)
    assert 'aria-label="Mark taken: Take metformin, Once today"' in html
    response = b.post(
        f"/patients/{home.patient.id}/plan/items/{home.pills.id}/doses",
        {"day": home.patient.today().isoformat(), "slot": "0", "back": "home"},
        form_url=url,
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(url)
    html = b.get(url).get_data(as_text=True)
    assert 'aria-label="Taken. Undo: Take metformin, Once today"' in html
    # The old "done" tick is for self-care tasks only now.
    refused = b.post(
        f"/patients/{home.patient.id}/plan/items/{home.pills.id}/done",
        {"day": home.patient.today().isoformat(), "back": "home"},
        form_url=url,
    )
    assert refused.status_code == 400


def test_back_is_a_fixed_choice_never_a_posted_address(home, new_browser):
    b = signed_in(new_browser, home.patient_user)
    response = b.post(
        f"/patients/{home.patient.id}/plan/items/{home.walk.id}/done",
        {"day": home.patient.today().isoformat(), "back": "https://evil.example/"},
        form_url=f"/patients/{home.patient.id}/home",
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/patients/{home.patient.id}/today")


def test_another_patients_home_and_more_are_404(home, new_browser):
    b = signed_in(new_browser, home.other_user)
    for path in ("home", "more"):
        assert b.get(f"/patients/{home.patient.id}/{path}").status_code == 404
        assert b.get(f"/patients/999999999/{path}").status_code == 404
    # Huge ids are a clean 404 too.
    assert b.get("/patients/99999999999999999999999/home").status_code == 404


def test_a_caregiver_sees_no_hidden_category_on_home_nor_in_its_counts(home, new_browser):
    ana = home.helper("Ana Carter", ["plan", "messages"])
    b = signed_in(new_browser, ana)
    # One person: straight to her home.
    assert b.get("/").headers["Location"] == f"/patients/{home.patient.id}/home"
    html = b.get(f"/patients/{home.patient.id}/home").get_data(as_text=True)
    assert "Acting for James" in html
    assert "Counselling session" not in html and "Behavioral Health" not in html
    assert "Journal about your mood" not in html
    assert "Heart check-up" in html  # her next appointment is the next one she may see
    # Third person, not "you".
    assert "James&#39;s day" in html or "James's day" in html
    assert "Hello, James" not in html
    # The private task is not counted either: two of the three due tasks are hers to see.
    assert badge_of(html, "Home") == "2"


def test_a_caregiver_with_two_people_chooses(home, new_browser, make_patient, grant):
    ana = home.helper("Ana Carter", ["plan"])
    grant(make_patient(given="Rosa"), ana, scopes=["plan"])
    b = signed_in(new_browser, ana)
    assert b.get("/").headers["Location"].endswith("/caregivers/")


def test_a_caregiver_without_the_plan_sees_no_plan_on_home(home, new_browser):
    messages_only = home.helper("Pat Helper", ["messages"])
    b = signed_in(new_browser, messages_only)
    html = b.get(f"/patients/{home.patient.id}/home").get_data(as_text=True)
    for title in ("Walk after dinner", "Take metformin", "Heart check-up", "Counselling"):
        assert title not in html
    tabs = html[html.index('class="tabbar"') :]
    assert ">Plan<" not in tabs and ">Goals<" not in tabs and ">Messages<" in tabs
    assert b.get(f"/patients/{home.patient.id}/plan").status_code == 404


def test_unread_badge_counts_the_teams_messages_the_viewer_may_see(home, new_browser):
    from app.messaging import services as messaging
    from app.messaging.models import Topic

    ana = home.helper("Ana Carter", ["plan", "messages"])
    for private, subject in ((False, "About your walk"), (True, "About your mood")):
        thread = messaging.start_thread(
            patient_id=home.patient.id,
            topic=Topic.OTHER,
            subject=subject,
            body="A question from James",
            author_id=home.patient_user.id,
            capacity="patient",
            private=private,
        )
        messaging.add_message(
            thread, body="An answer", author_id=home.member_user.id, capacity="care_team"
        )
    db.session.commit()
    james = signed_in(new_browser, home.patient_user)
    html = james.get(f"/patients/{home.patient.id}/home").get_data(as_text=True)
    assert badge_of(html, "Messages") == "2"
    assert "unread messages" in html
    # Ana sees the ordinary thread's two messages, never the private one's.
    html = signed_in(new_browser, ana).get(f"/patients/{home.patient.id}/home")
    assert badge_of(html.get_data(as_text=True), "Messages") == "2"
    # Reading the thread clears it from the badge.
    threads = james.get(f"/patients/{home.patient.id}/messages").get_data(as_text=True)
    first = re.search(rf"/patients/{home.patient.id}/messages/(\d+)", threads).group(1)
    james.get(f"/patients/{home.patient.id}/messages/{first}")
    html = james.get(f"/patients/{home.patient.id}/home").get_data(as_text=True)
    assert badge_of(html, "Messages") == "1"


def test_more_lists_only_what_the_viewer_may_open(home, new_browser):
    patient = signed_in(new_browser, home.patient_user)
    html = patient.get(f"/patients/{home.patient.id}/more").get_data(as_text=True)
    for words in ("Who has seen my record", "People who help me", "My details", "Sign out"):
        assert words in html
    # His answers to the social needs questions are his and his team's (safety included).
    assert f'href="/patients/{home.patient.id}/screening/answers"' in html
    ana = signed_in(new_browser, home.helper("Ana Carter", ["plan", "goals"]))
    html = ana.get(f"/patients/{home.patient.id}/more").get_data(as_text=True)
    assert "Who has seen my record" not in html
    assert "/screening/answers" not in html
    assert f"/patients/{home.patient.id}/reminders" not in html  # his text settings are his


def test_home_is_audited_for_whoever_opens_it(home, new_browser):
    ana = home.helper("Ana Carter", ["plan"])
    signed_in(new_browser, ana).get(f"/patients/{home.patient.id}/home")
    row = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.patient_id == home.patient.id, AuditEvent.actor_id == ana.id)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert row is not None and row.resource == "patient.home"


def test_staff_keep_their_own_start_page_and_no_tab_bar(home, new_browser):
    b = new_browser()
    b.login(home.member_user.email)
    assert b.get("/").headers["Location"] == "/team/patients"
    html = b.get(f"/patients/{home.patient.id}").get_data(as_text=True)
    assert 'class="tabbar"' not in html and 'class="record-nav"' in html


def test_outside_the_record_the_tabs_carry_no_counts(home, new_browser):
    """The account page is not a page of the record: no audit row, so nothing of it is read."""
    b = signed_in(new_browser, home.patient_user)
    html = b.get("/auth/account").get_data(as_text=True)
    assert 'class="tabbar"' in html
    assert badge_of(html, "Home") is None and badge_of(html, "Messages") is None
    assert badge_of(b.get(f"/patients/{home.patient.id}/home").get_data(as_text=True), "Home")


def test_an_item_reclassified_as_sensitive_leaves_a_caregivers_home_and_counts(home, new_browser):
    ana = signed_in(new_browser, home.helper("Ana Carter", ["plan"]))
    url = f"/patients/{home.patient.id}/home"
    html = ana.get(url).get_data(as_text=True)
    assert "Walk after dinner" in html and badge_of(html, "Home") == "2"
    home.walk.sensitivity = Sensitivity.BEHAVIORAL_HEALTH  # the team reclassifies it
    db.session.commit()
    html = ana.get(url).get_data(as_text=True)
    assert "Walk after dinner" not in html
    assert badge_of(html, "Home") == "1"
    # The patient still sees it, and counts it.
    james = signed_in(new_browser, home.patient_user).get(url).get_data(as_text=True)
    assert "Walk after dinner" in james and badge_of(james, "Home") == "3"
