""" "Take it" happens once (issue 12, finding 8): of two people pressing at once one gets the
conversation and the other is told who did; a conversation a colleague has is taken only with
"Take over from <name>", its own POST, audited like an assignment."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.core.audit import AuditEvent
from app.extensions import db
from app.messaging import services
from app.messaging.models import Thread, Topic
from tests.fixtures.browser import csrf_from, signed_in
from tests.fixtures.concurrency import race

ROUNDS = 12


@pytest.fixture
def team(two_patients, make_member, assign):
    """James's nurse Samuel Okafor, and two colleagues on his team."""
    w = two_patients
    rita = make_member(org=w.org, name="Rita Alvarez")
    assign(w.patient, rita)
    carl = make_member(org=w.org, name="Carl Brandt")
    assign(w.patient, carl)
    return w, {"samuel": w.member, "rita": rita, "carl": carl}


def new_thread(w) -> Thread:
    thread = services.start_thread(
        patient_id=w.patient.id,
        topic=Topic.SYMPTOMS,
        subject="Swollen ankles",
        body="My ankles are swollen again.",
        author_id=w.patient_user.id,
        capacity="patient",
    )
    db.session.commit()
    return thread


def browser_of(new_browser, member):
    return signed_in(new_browser, db.session.get(User, member.user_id))


def url(w, thread: Thread, action: str = "") -> str:
    return f"/patients/{w.patient.id}/messages/{thread.id}{action}"


def holder(thread_id: int) -> int | None:
    db.session.expire_all()
    return db.session.get(Thread, thread_id).assignee_id


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def assignment_events(thread: Thread, since: int) -> list[tuple[int, str]]:
    db.session.expire_all()
    return [
        (e.actor_id, e.endpoint)
        for e in db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.id > since,
                AuditEvent.action == "update",
                AuditEvent.resource == "messaging.thread",
                AuditEvent.resource_id == str(thread.id),
            )
            .order_by(AuditEvent.id)
        )
    ]


def last_event() -> int:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def test_take_it_takes_a_conversation_nobody_has(team, new_browser):
    w, people = team
    thread = new_thread(w)
    samuel = browser_of(new_browser, people["samuel"])
    since = last_event()

    taken = samuel.post(url(w, thread, "/claim"), form_url=url(w, thread))

    assert taken.status_code == 302
    assert holder(thread.id) == people["samuel"].id
    assert "You took this conversation." in text(samuel.get(url(w, thread)))
    assert assignment_events(thread, since) == [(people["samuel"].user_id, "messaging.claim")]
    # A second press (a double-click) changes nothing and says so.
    again = samuel.post(url(w, thread, "/claim"), form_url=url(w, thread))
    assert again.status_code == 302
    assert "This conversation is already yours." in text(samuel.get(url(w, thread)))
    assert len(assignment_events(thread, since)) == 1


def test_take_it_never_takes_from_a_colleague_and_says_who_has_it(team, new_browser):
    w, people = team
    thread = new_thread(w)
    samuel = browser_of(new_browser, people["samuel"])
    rita = browser_of(new_browser, people["rita"])
    token = rita.token(url(w, thread))  # Rita opened the page before Samuel took it
    assert samuel.post(url(w, thread, "/claim"), form_url=url(w, thread)).status_code == 302
    since = last_event()

    late = rita.client.post(url(w, thread, "/claim"), data={"csrf_token": token})

    assert late.status_code == 409
    assert "Samuel Okafor has already taken this conversation." in text(late)
    assert f'href="{url(w, thread)}"' in text(late)
    assert "You took this conversation." not in text(late)
    assert holder(thread.id) == people["samuel"].id
    assert assignment_events(thread, since) == []


def test_the_page_offers_take_over_from_the_colleague_who_has_it(team, new_browser):
    w, people = team
    thread = new_thread(w)
    samuel = browser_of(new_browser, people["samuel"])
    rita = browser_of(new_browser, people["rita"])
    assert "Take it" in text(rita.get(url(w, thread)))
    samuel.post(url(w, thread, "/claim"), form_url=url(w, thread))

    page = text(rita.get(url(w, thread)))
    assert "Take over from Samuel Okafor" in page
    assert ">Take it<" not in page
    own = text(samuel.get(url(w, thread)))
    assert "Take over from" not in own and ">Take it<" not in own


def test_take_over_moves_the_conversation_and_is_audited(team, new_browser):
    w, people = team
    thread = new_thread(w)
    samuel = browser_of(new_browser, people["samuel"])
    rita = browser_of(new_browser, people["rita"])
    samuel.post(url(w, thread, "/claim"), form_url=url(w, thread))
    since = last_event()

    moved = rita.post(
        url(w, thread, "/take-over"), {"holder": people["samuel"].id}, form_url=url(w, thread)
    )

    assert moved.status_code == 302
    assert holder(thread.id) == people["rita"].id
    assert "You took over this conversation from Samuel Okafor." in text(rita.get(url(w, thread)))
    assert assignment_events(thread, since) == [(people["rita"].user_id, "messaging.take_over")]


def test_take_over_from_someone_who_no_longer_has_it_moves_nothing(team, new_browser):
    """Rita's page said Samuel; meanwhile Carl took it over: her press names Carl, takes
    nothing; nor does "Take over" take a conversation nobody has (that is "Take it")."""
    w, people = team
    thread = new_thread(w)
    samuel = browser_of(new_browser, people["samuel"])
    rita = browser_of(new_browser, people["rita"])
    carl = browser_of(new_browser, people["carl"])
    samuel.post(url(w, thread, "/claim"), form_url=url(w, thread))
    token = rita.token(url(w, thread))
    assert (
        carl.post(
            url(w, thread, "/take-over"), {"holder": people["samuel"].id}, form_url=url(w, thread)
        ).status_code
        == 302
    )
    since = last_event()

    stale = rita.client.post(
        url(w, thread, "/take-over"),
        data={"csrf_token": token, "holder": people["samuel"].id},
    )

    assert stale.status_code == 409
    assert "This conversation changed hands: Carl Brandt has it now." in text(stale)
    assert holder(thread.id) == people["carl"].id
    free = new_thread(w)
    nobody = rita.client.post(
        url(w, free, "/take-over"), data={"csrf_token": token, "holder": people["samuel"].id}
    )
    assert nobody.status_code == 409
    assert "Nobody has this conversation now: use" in text(nobody)
    assert holder(free.id) is None
    assert assignment_events(thread, since) == assignment_events(free, since) == []


def test_two_people_pressing_take_it_at_once_one_gets_it(team, new_browser):
    w, people = team
    names = {people["samuel"].id: "Samuel Okafor", people["rita"].id: "Rita Alvarez"}
    samuel = browser_of(new_browser, people["samuel"])
    rita = browser_of(new_browser, people["rita"])
    winners = set()
    for _ in range(ROUNDS):
        thread = new_thread(w)
        tokens = [csrf_from(text(b.get(url(w, thread)))) for b in (samuel, rita)]
        since = last_event()

        answers = race(
            (samuel.client, url(w, thread, "/claim"), {"csrf_token": tokens[0]}),
            (rita.client, url(w, thread, "/claim"), {"csrf_token": tokens[1]}),
        )

        codes = sorted(a.status_code for a in answers)
        assert codes == [302, 409], [text(a)[:300] for a in answers]
        winner = holder(thread.id)
        assert winner in names
        winners.add(winner)
        loser_page = text(next(a for a in answers if a.status_code == 409))
        assert f"{names[winner]} has already taken this conversation." in loser_page
        assert len(assignment_events(thread, since)) == 1
    assert winners  # (either may win; exactly one does, every round)
