"""The team inbox at CCO scale: a work queue per member (app.messaging.workqueue) that always
agrees with the threads, pages that cost the same for a panel of 1 or 40 and a CCO of any
size, a patient search field, and a capped badge."""

from __future__ import annotations

import random
import re

import sqlalchemy as sa

from app.auth.models import User
from app.extensions import db
from app.messaging import queries, services, workqueue
from app.messaging.models import InboxEntry, Message, Thread, Topic
from app.team.models import Discipline
from tests.fixtures.browser import signed_in


def entries() -> set[tuple]:
    db.session.expire_all()
    return {
        (e.member_id, e.thread_id, e.patient_id, e.topic, e.lane, e.awaiting, e.due_sort)
        for e in db.session.scalars(sa.select(InboxEntry))
    }


def test_the_queue_always_equals_a_rebuild_from_the_threads(
    app, make_patient, make_member, assign, make_org
):
    """Random starts, replies, notes, takes, take-overs, hand-offs, resolves and reopens: after
    each, every member's rows are exactly what a rebuild from the source would give."""
    org = make_org()
    nurse = make_member(Discipline.NURSING, org=org)
    pharmacist = make_member(Discipline.PHARMACY, org=org)
    therapist = make_member(Discipline.BEHAVIORAL_HEALTH, org=org)
    patients = [make_patient(given=f"Q{n}") for n in range(3)]
    for p in patients:
        assign(p, nurse, coordinator=p is patients[0])
        assign(p, pharmacist)
    assign(patients[1], therapist)
    members = [nurse, pharmacist, therapist]
    users = {m.id: db.session.get(User, m.user_id) for m in members}
    rng = random.Random(13)
    threads: list[Thread] = []
    context = app.test_request_context()  # refusals are worded in the reader's language
    context.push()
    for step in range(60):
        action = rng.choice(["start", "start", "patient", "reply", "note", "take", "move", "done"])
        if action == "start" or not threads:
            p = rng.choice(patients)
            threads.append(
                services.start_thread(
                    patient_id=p.id,
                    topic=rng.choice(list(Topic)),
                    subject=f"S{step}",
                    body="hello",
                    author_id=p.user_id,
                    capacity="patient",
                )
            )
        else:
            t = rng.choice(threads)
            member = rng.choice(
                [m for m in members if services.on_care_team(t.patient_id, member_id=m.id)]
                or [nurse]
            )
            try:
                if action == "patient":
                    services.add_message(t, body="more", author_id=None, capacity="patient")
                elif action in ("reply", "note"):
                    services.add_message(
                        t,
                        body="answer",
                        author_id=users[member.id].id,
                        capacity="care_team",
                        internal=action == "note",
                    )
                elif action == "take":
                    services.take(t, member.id)
                elif action == "move":
                    services.assign(t, member.id)
                elif t.status.value == "open":
                    services.resolve(t, users[member.id].id)
                else:
                    services.reopen(t)
            except services.RuleError:  # e.g. taking what a colleague has: nothing changes
                db.session.rollback()
                continue
        db.session.commit()
        kept = entries()
        workqueue.rebuild()
        db.session.commit()
        assert kept == entries(), f"step {step}: {action}"
    context.pop()
    assert {e[4] for e in kept} >= {"unassigned", "mine", "closed"}


def _counts(count_queries, browser, urls):
    out = []
    for url in urls:
        with count_queries() as counter:
            response = browser.get(url)
        assert response.status_code == 200, url
        out.append(counter.count)
    return out


def test_inbox_pages_cost_the_same_for_any_panel_and_any_cco(
    make_patient, make_member, assign, count_queries, new_browser
):
    nurse = make_member(Discipline.NURSING, name="Nina Queue")
    colleague = make_member(Discipline.NURSING)
    first = make_patient(given="First", family="Queue")
    assign(first, nurse, coordinator=True)

    def thread_for(patient, n):
        services.start_thread(
            patient_id=patient.id,
            topic=Topic.SYMPTOMS,
            subject=f"Subject {patient.given_name} {n}",
            body="help",
            author_id=patient.user_id,
            capacity="patient",
        )

    thread_for(first, 0)
    db.session.commit()
    browser = signed_in(new_browser, db.session.get(User, nurse.user_id))
    urls = [f"/team/inbox?view={v}" for v in queries.VIEWS] + [
        "/team/inbox?view=all&q=que",
        f"/team/inbox?view=all&patient={first.id}",
        "/team/patients",
        "/team/patients?q=que",
    ]
    small = _counts(count_queries, browser, urls)
    for n in range(40):  # the panel grows, and the CCO grows around it
        mine, theirs = make_patient(given=f"P{n:02d}", family="Queue"), make_patient()
        assign(mine, nurse, coordinator=n % 2 == 0)
        assign(theirs, colleague, coordinator=True)
        thread_for(mine, n)
        thread_for(theirs, n)
    db.session.commit()
    assert _counts(count_queries, browser, urls) == small
    page = browser.get("/team/inbox?view=unassigned").get_data(as_text=True)
    assert page.count("thread-row") == 20 and "41 conversations" in page
    assert "Subject P" in page and "Subject None" not in page
    found = browser.get("/team/inbox?view=all&q=queue+p0").get_data(as_text=True)
    assert found.count("thread-row") == 10 and "Subject First" not in found
    assert browser.get("/team/inbox?view=all&q=%00").status_code == 400


def test_the_badge_counts_to_99_then_says_so(make_patient, make_member, assign, new_browser):
    nurse = make_member(Discipline.NURSING)
    patient = make_patient()
    assign(patient, nurse, coordinator=True)
    for n in range(queries.BADGE_CAP + 3):
        db.session.add(
            Thread(
                patient_id=patient.id,
                topic=Topic.OTHER,
                subject=f"s{n}",
                awaiting_since=services.utcnow(),
            )
        )
    db.session.flush()
    workqueue.sync_patients([patient.id])
    db.session.commit()
    assert queries.needs_me_count(nurse) == queries.BADGE_CAP + 1
    html = signed_in(new_browser, db.session.get(User, nurse.user_id)).get("/team/patients")
    html = html.get_data(as_text=True)
    assert re.search(r'class="nav-badge" aria-label="More than 99 waiting">99\+<', html)


def test_a_long_thread_shows_its_latest_messages_and_pages_back(
    make_patient, make_member, assign, count_queries, new_browser
):
    patient = make_patient()
    nurse = make_member(Discipline.NURSING)
    assign(patient, nurse, coordinator=True)
    thread = services.start_thread(
        patient_id=patient.id,
        topic=Topic.OTHER,
        subject="Long",
        body="m0",
        author_id=patient.user_id,
        capacity="patient",
    )
    db.session.commit()
    me = signed_in(new_browser, db.session.get(User, patient.user_id))
    url = f"/patients/{patient.id}/messages/{thread.id}"
    _counts(count_queries, me, [url])
    small = _counts(count_queries, me, [url])
    for n in range(1, 75):
        db.session.add(Message(thread_id=thread.id, capacity="patient", body=f"m{n}"))
        db.session.flush()
    db.session.commit()
    assert _counts(count_queries, me, [url]) == small
    html = me.get(url).get_data(as_text=True)
    bodies = re.findall(r'class="prewrap">(m\d+)<', html)
    assert bodies == [f"m{n}" for n in range(45, 75)]
    earlier = re.search(r'href="([^"]*before=\d+)"', html).group(1)
    back = me.get(earlier).get_data(as_text=True)
    assert re.findall(r'class="prewrap">(m\d+)<', back) == [f"m{n}" for n in range(15, 45)]
    assert "Latest messages" in back
    other = make_patient()
    other_thread = services.start_thread(
        patient_id=other.id,
        topic=Topic.OTHER,
        subject="x",
        body="theirs",
        author_id=other.user_id,
        capacity="patient",
    )
    db.session.commit()
    their_message = db.session.scalar(
        sa.select(Message.id).where(Message.thread_id == other_thread.id)
    )
    for cursor in (their_message, 10**9, "x", "99999999999999999999999"):
        assert me.get(f"{url}?before={cursor}").status_code == 404
