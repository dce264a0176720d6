"""The care team's desk (issue 14): the inbox's conversation pane is the conversation's own page
(?pane=1) through the same view, access rule and audit; the inbox costs what it cost; avatars
name a colleague's role only where the viewer may know it; the summary is a dashboard for the
team and stays the patient's details for the patient and their caregivers."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.careplan.decisions import services as decision_services
from app.careplan.decisions.services import DecisionInput, OptionInput
from app.careplan.items.models import Area, ItemKind, ItemStatus
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.core.privacy import Capacity
from app.extensions import db
from app.messaging import services
from app.messaging.models import Thread, ThreadRead, Topic
from app.team.models import Discipline
from tests.fixtures.browser import signed_in
from tests.fixtures.plan import add, lab_test


def start(patient, user, subject, topic=Topic.SYMPTOMS, body="Help, please.") -> Thread:
    thread = services.start_thread(
        patient_id=patient.id,
        topic=topic,
        subject=subject,
        body=body,
        author_id=user.id,
        capacity="patient",
    )
    db.session.commit()
    return thread


def text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def page(w, thread, pane=False) -> str:
    return f"/patients/{thread.patient_id}/messages/{thread.id}" + ("?pane=1" if pane else "")


def events(since: int, **where) -> list[AuditEvent]:
    db.session.expire_all()
    query = sa.select(AuditEvent).where(AuditEvent.id > since)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


SUMMARY_LINK = r'<a [^>]*href="([^"]+)"[^>]*>(?:(?!</a>).)*Open plan summary'
CARD = re.compile(r'<section class="card[^"]*" aria-labelledby="([a-z-]+)">(.*?)</section>', re.S)


def last_event() -> int:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


@pytest.fixture
def desk(two_patients, new_browser):
    """James (Samuel Okafor's patient, reads Spanish, wants an interpreter) and Maria (another
    nurse's patient), each with a conversation; Samuel signed in."""
    w = two_patients
    w.patient.language = "es"
    w.patient.interpreter_needed = True
    db.session.commit()
    w.james_thread = start(w.patient, w.patient_user, "Swollen ankles")
    w.maria_thread = start(w.other, w.other_user, "Maria's private question")
    w.signed_in = lambda user: signed_in(new_browser, user)
    w.samuel = w.signed_in(w.member_user)
    return w


# ------------------------------------------------------------------ the pane


def test_the_pane_is_the_conversation_alone_with_the_patient_one_click_away(desk):
    w = desk
    full = text(w.samuel.get(page(w, w.james_thread)))
    pane = w.samuel.get(page(w, w.james_thread, pane=True))
    assert pane.status_code == 200
    body = text(pane)
    assert "<html" in full and "<html" not in body and "site-header" not in body
    assert "Swollen ankles" in body and "Help, please." in body
    # whose conversation, in which language, and the plan summary one click away
    assert "James Carter" in body and "Español" in body and "wants an interpreter" in body
    summary_link = re.search(SUMMARY_LINK, body, re.S)
    assert summary_link and summary_link.group(1) == f"/patients/{w.patient.id}"
    # its forms go where the page's forms go, with their CSRF token (the address in the bar is
    # the inbox's); a reply to fix comes back as the pane
    base = f"/patients/{w.patient.id}/messages/{w.james_thread.id}"
    assert f'action="{base}/claim"' in body and f'action="{base}/resolve"' in body
    assert f'action="{base}?pane=1"' in body
    forms = re.findall(r'<form method="post".*?</form>', body, re.S)
    assert len(forms) == 5  # take, resolve, assign, reply, note
    assert all('name="csrf_token"' in form for form in forms)


@pytest.mark.parametrize("pane", [False, True], ids=["page", "pane"])
def test_another_patients_conversation_is_not_found_in_either_form(desk, pane):
    w = desk
    since = last_event()
    mine, theirs = w.james_thread, w.maria_thread
    for url in (
        page(w, theirs, pane),  # Maria's conversation, at her own address
        f"/patients/{w.patient.id}/messages/{theirs.id}" + ("?pane=1" if pane else ""),  # at mine
        f"/patients/{w.patient.id}/messages/999999" + ("?pane=1" if pane else ""),
    ):
        response = w.samuel.get(url)
        assert response.status_code == 404, url
        assert "Maria's private question" not in text(response)
    # Maria's record was refused and recorded as such; nothing of hers was "seen"
    assert [e.action for e in events(since, patient_id=w.other.id)] == ["denied"]
    assert events(since, patient_id=w.other.id, action="view") == []
    # and her thread stayed unread for him
    read = sa.select(ThreadRead).where(
        ThreadRead.thread_id == theirs.id, ThreadRead.user_id == w.member_user.id
    )
    assert db.session.scalar(read) is None
    assert w.samuel.get(page(w, mine, pane)).status_code == 200


def test_the_pane_is_audited_and_read_like_the_page(desk):
    w = desk
    inbox = text(w.samuel.get("/team/inbox?view=all"))
    assert "1 new" in inbox
    recorded = []
    for pane in (True, False):
        since = last_event()
        assert w.samuel.get(page(w, w.james_thread, pane)).status_code == 200
        recorded.append(
            [
                (e.action, e.resource, e.actor_id, e.capacity, e.endpoint)
                for e in events(since, patient_id=w.patient.id)
            ]
        )
    expected = [("view", "messaging.thread", w.member_user.id, "care_team", "messaging.thread")]
    assert recorded == [expected, expected]
    # reading it in the pane read it: the inbox no longer counts it as new
    assert "1 new" not in text(w.samuel.get("/team/inbox?view=all"))


@pytest.mark.parametrize("scopes", [["plan"], []], ids=["plan-only", "no-scope"])
def test_a_caregiver_without_the_messages_scope_finds_no_pane(desk, scopes):
    w = desk
    helper = w.signed_in(w.helper("Vera Viewer", scopes))
    for pane in (False, True):
        assert helper.get(page(w, w.james_thread, pane)).status_code == 404


def test_the_patient_side_pane_has_no_team_tools(desk):
    w = desk
    services.add_message(
        w.james_thread,
        body="Check his weight.",
        author_id=w.member_user.id,
        capacity="care_team",
        internal=True,
    )
    db.session.commit()
    ana = w.signed_in(w.helper("Ana Carter", ["messages"]))
    for who in (w.signed_in(w.patient_user), ana):
        body = text(who.get(page(w, w.james_thread, pane=True)))
        assert "Swollen ankles" in body
        assert "For the care team" not in body and "Check his weight." not in body
        assert "/claim" not in body and "/resolve" not in body and "Open plan summary" not in body


@pytest.mark.parametrize("who", ["patient", "caregiver"])
def test_patients_and_caregivers_cannot_reach_the_inbox(desk, who):
    w = desk
    user = w.patient_user if who == "patient" else w.helper("Ana Carter", ["messages", "plan"])
    b = w.signed_in(user)
    key = f"{w.patient.id}-{w.james_thread.id}"
    for url in ("/team/inbox", f"/team/inbox?view=all&open={key}", "/team/inbox?view=mine"):
        assert b.get(url).status_code == 404, url


# ------------------------------------------------------------------ the inbox's address


def test_the_inbox_address_names_the_open_conversation(desk):
    w = desk
    key = f"{w.patient.id}-{w.james_thread.id}"
    body = text(w.samuel.get(f"/team/inbox?view=all&open={key}"))
    pane_url = f"/patients/{w.patient.id}/messages/{w.james_thread.id}?pane=1"
    assert f'data-pane-src="{pane_url}"' in body
    row = re.search(rf'<li class="thread-row[^"]*" data-open="{key}">', body)
    assert row and "is-open" in row.group(0)
    # without JavaScript the pane offers the conversation's page
    assert f'href="/patients/{w.patient.id}/messages/{w.james_thread.id}"' in body


@pytest.mark.parametrize(
    "value",
    [
        "x",
        "1-",
        "-1",
        "0-1",
        "1-0",
        "1-2-3",
        "99999999999-1",
        "1--1",
        "\u0661-\u0661",
        "1-1 ",
        "../1-1",
    ],
)
def test_a_hostile_open_address_is_not_found_and_writes_nothing(desk, value):
    w = desk
    since = last_event()
    response = w.samuel.get("/team/inbox", query_string={"view": "all", "open": value})
    assert response.status_code == 404
    assert events(since) == []


def test_an_open_address_of_someone_elses_conversation_shows_nothing_of_it(desk):
    """The inbox only writes the pane's address; the pane itself asks the policy (404)."""
    w = desk
    since = last_event()
    key = f"{w.other.id}-{w.maria_thread.id}"
    body = text(w.samuel.get(f"/team/inbox?view=all&open={key}"))
    assert "Maria's private question" not in body and "Maria Lopez" not in body
    assert events(since, patient_id=w.other.id) == []
    assert w.samuel.get(page(w, w.maria_thread, pane=True)).status_code == 404


def test_the_inbox_costs_the_same_with_a_pane_and_avatars(desk, make_member, assign, count_queries):
    w = desk

    def count(url):
        with count_queries() as counter:
            assert w.samuel.get(url).status_code == 200
        return counter.count

    key = f"{w.patient.id}-{w.james_thread.id}"
    count("/team/inbox?view=all")
    small = count("/team/inbox?view=all")
    assert count(f"/team/inbox?view=all&open={key}") == small
    # many rows, taken by colleagues of every discipline: a name, initials and role each
    for n, discipline in enumerate(list(Discipline) * 2):
        colleague = make_member(discipline, org=w.org, name=f"Colleague {n}")
        assign(w.patient, colleague)
        thread = start(w.patient, w.patient_user, f"Question {n}")
        services.assign(thread, colleague.id)
    db.session.commit()
    assert count("/team/inbox?view=all") == small
    assert count(f"/team/inbox?view=all&open={key}") == small


# ------------------------------------------------------------------ avatars and roles


def test_names_come_with_initials_and_a_plain_role(desk):
    w = desk
    services.take(w.james_thread, w.member.id)
    services.add_message(
        w.james_thread, body="Please rest.", author_id=w.member_user.id, capacity="care_team"
    )
    db.session.commit()
    inbox = text(w.samuel.get("/team/inbox?view=all"))
    assert re.search(r'<span class="avatar avatar-c\d" aria-hidden="true">JC</span>', inbox)
    assert re.search(r'aria-hidden="true">SO</span></span> Taken by Samuel Okafor', inbox)
    assert "(Nurse)" in inbox
    thread_page = text(w.signed_in(w.patient_user).get(page(w, w.james_thread)))
    assert re.search(
        r'aria-hidden="true">SO</span><span class="avatar-text"><span class="avatar-name">'
        r'Samuel Okafor</span><span class="avatar-role">Nurse</span>',
        thread_page,
    )


def test_a_role_never_names_a_category_hidden_from_the_viewer(desk, make_member, assign):
    """A counselor answering in an ordinary conversation: James and his team read "Counselor";
    Ana, who may not see James's behavioral health care, reads the name without the role."""
    w = desk
    therapist = make_member(Discipline.BEHAVIORAL_HEALTH, org=w.org, name="Leah Cohen")
    assign(w.patient, therapist)
    services.add_message(
        w.james_thread, body="I can help too.", author_id=therapist.user_id, capacity="care_team"
    )
    db.session.commit()
    ana = w.signed_in(w.helper("Ana Carter", ["messages"]))
    for pane in (False, True):
        seen = text(ana.get(page(w, w.james_thread, pane)))
        assert "I can help too." in seen and "Leah Cohen" in seen
        assert "Counselor" not in seen
    assert "Counselor" in text(w.signed_in(w.patient_user).get(page(w, w.james_thread)))
    assert "Counselor" in text(w.samuel.get(page(w, w.james_thread, pane=True)))


# ------------------------------------------------------------------ the summary as a dashboard


@pytest.fixture
def james_plan(desk):
    w = desk
    today = w.patient.today()
    lab_test(w.patient, w.org, title="Overdue A1c", due_date=today - timedelta(days=10))
    lab_test(
        w.patient,
        w.org,
        title="Paused test",
        code="1-1",
        due_date=today - timedelta(days=3),
        status=ItemStatus.ON_HOLD,
    )
    lab_test(w.patient, w.org, title="Next test", code="2-2", due_date=today + timedelta(days=3))
    add(
        w.patient,
        w.org,
        kind=ItemKind.APPOINTMENT,
        title="Missed checkup",
        area=Area.PHYSICAL_HEALTH,
        starts_at=utcnow() - timedelta(days=2),
    )
    add(
        w.patient,
        w.org,
        kind=ItemKind.APPOINTMENT,
        title="Done visit",
        area=Area.PHYSICAL_HEALTH,
        starts_at=utcnow() - timedelta(days=5),
        status=ItemStatus.COMPLETED,
    )
    options = [
        OptionInput("Physical therapy", "Less pain.", "Sore for a day.", "Two visits a week."),
        OptionInput("Wait and see", "Nothing to do.", "Pain may grow.", "Nothing changes."),
    ]
    for question in ("Treat the knee?", "Which sugar plan?"):
        decision_services.open_decision(
            w.patient.id,
            DecisionInput(question=question, options=options),
            author_id=w.member_user.id,
        )
    db.session.commit()
    from app.careplan.decisions.models import Decision

    asked = db.session.scalar(sa.select(Decision).where(Decision.question == "Which sugar plan?"))
    decision_services.ask_question(
        asked, "Will it hurt?", author_id=w.patient_user.id, capacity=Capacity.PATIENT
    )
    db.session.commit()
    return w


def cards(html: str) -> dict[str, str]:
    """Each dashboard card's text by its heading id."""
    found = {}
    for match in CARD.finditer(html):
        found[match.group(1)] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2)))
    return found


def test_the_team_reads_the_summary_as_a_dashboard(james_plan):
    w = james_plan
    html = text(w.samuel.get(f"/patients/{w.patient.id}"))
    found = cards(html)
    assert "glance" in html and "Español" in html and "wants an interpreter" in html
    past = found["past-due-heading"]
    assert "Overdue A1c" in past and "Missed checkup" in past and "not marked done" in past
    assert "Paused test" not in past and "Next test" not in past and "Done visit" not in past
    assert past.index("Overdue A1c") < past.index("Missed checkup")  # oldest first
    waiting = found["waiting-heading"]
    knee = waiting[waiting.index("Treat the knee?") :].split("Which sugar plan?")[0]
    sugar = waiting[waiting.index("Which sugar plan?") :].split("Treat the knee?")[0]
    assert "Waiting for James" in knee and "Waiting for the team" not in knee
    assert "Waiting for the team" in sugar and "James asked a question." in sugar
    recent = found["recent-heading"]
    assert "Swollen ankles" in recent and "1 new" in recent
    assert "Maria's private question" not in html
    # the details follow, for the team as for everyone
    for heading in ("about-heading", "plan-heading", "team-heading", "prefs-heading"):
        assert heading in found
    # most important first: what needs doing comes before the details
    assert html.index("past-due-heading") < html.index("about-heading")


@pytest.mark.parametrize("who", ["patient", "caregiver"])
def test_the_patient_and_their_caregivers_keep_their_details_page(james_plan, who):
    w = james_plan
    user = w.patient_user if who == "patient" else w.helper("Ana Carter", ["plan", "messages"])
    html = text(w.signed_in(user).get(f"/patients/{w.patient.id}"))
    found = cards(html)
    assert "about-heading" in found and "plan-heading" in found
    for desk_card in ("past-due-heading", "waiting-heading", "recent-heading"):
        assert desk_card not in found
    assert "Past due" not in html and "Recent messages" not in html and 'class="glance"' not in html
    assert html.index("about-heading") < html.index("plan-heading")  # the order they had


def test_the_dashboard_shows_empty_cards_calmly(desk, make_patient, assign):
    w = desk
    quiet = make_patient(given="Quinn", family="Quiet")
    assign(quiet, w.member)
    found = cards(text(w.samuel.get(f"/patients/{quiet.id}")))
    assert "Nothing needs checking." in found["flags-heading"]
    assert "Nothing is past due." in found["past-due-heading"]
    assert "No decision is waiting." in found["waiting-heading"]
    assert "No messages yet." in found["recent-heading"]


def test_a_patient_of_someone_else_has_no_dashboard_for_me(desk):
    w = desk
    assert w.samuel.get(f"/patients/{w.other.id}").status_code == 404


def test_an_administrator_has_no_inbox(desk, make_user):
    admin = desk.signed_in(make_user(Role.ADMIN))
    assert admin.get("/team/inbox").status_code == 404
    assert admin.get(page(desk, desk.james_thread, pane=True)).status_code == 404
