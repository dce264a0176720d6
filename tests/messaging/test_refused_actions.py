"""A triage action the rules refuse changes nothing, and "Who has seen my record" does not say it
changed anything (issue 10, 3.4: it used to answer 303, commit, and be audited as "update")."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.core.audit import AuditEvent
from app.extensions import db
from app.messaging import services
from app.messaging.models import Thread, ThreadStatus, Topic
from app.team.models import Discipline
from tests.fixtures.browser import signed_in


def _setup(make_patient, make_member, assign):
    patient = make_patient(given="Maria", family="Lopez")
    nurse = make_member(Discipline.NURSING, name="Nina Patel")
    assign(patient, nurse, coordinator=True)
    outsider = make_member(Discipline.PHARMACY, name="Owen Outsider")  # on no team of hers
    thread = services.start_thread(
        patient_id=patient.id,
        topic=Topic.MEDICATION,
        subject="Metformina",
        body="¿Con comida?",
        author_id=patient.user_id,
        capacity="patient",
    )
    db.session.commit()
    return patient, nurse, outsider, thread


def _events_of(user_id: int, since_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.actor_id == user_id, AuditEvent.id > since_id)
            .order_by(AuditEvent.id)
        )
    )


def _last_event_id() -> int:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def test_a_refused_assignment_changes_nothing_and_reads_as_looked_at(
    make_patient, make_member, assign, new_browser
):
    patient, nurse, outsider, thread = _setup(make_patient, make_member, assign)
    nurse_user = db.session.get(User, nurse.user_id)
    browser = signed_in(new_browser, nurse_user)
    url = f"/patients/{patient.id}/messages/{thread.id}"
    since = _last_event_id()

    refused = browser.post(f"{url}/assign", {"member": outsider.id}, form_url=url)

    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "That person is not on this patient&#39;s care team." in page
    assert f'href="{url}"' in page  # the way back to the conversation
    db.session.expire_all()
    assert db.session.get(Thread, thread.id).assignee_id is None
    # The page the form came from, then the refused POST: both looks, no change.
    events = [(e.action, e.endpoint) for e in _events_of(nurse_user.id, since)]
    assert events == [("view", "messaging.thread"), ("view", "messaging.assign")]

    me = signed_in(new_browser, db.session.get(User, patient.user_id))
    log = me.get(f"/patients/{patient.id}/access-log?actor={nurse_user.id}")
    assert "Changed" not in log.get_data(as_text=True)


def test_resolving_twice_is_refused_the_second_time(make_patient, make_member, assign, new_browser):
    patient, nurse, _outsider, thread = _setup(make_patient, make_member, assign)
    nurse_user = db.session.get(User, nurse.user_id)
    browser = signed_in(new_browser, nurse_user)
    url = f"/patients/{patient.id}/messages/{thread.id}"
    assert browser.post(f"{url}/resolve", {}, form_url=url).status_code == 302
    since = _last_event_id()

    again = browser.post(f"{url}/resolve", {}, form_url=url)

    assert again.status_code == 409
    assert "already marked resolved" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Thread, thread.id).status is ThreadStatus.RESOLVED
    events = [(e.action, e.endpoint) for e in _events_of(nurse_user.id, since)]
    assert events == [("view", "messaging.thread"), ("view", "messaging.resolve")]
