import html as html_lib
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.auth.models import Role, User
from app.caregivers.models import Scope
from app.core.audit import AuditEvent
from app.extensions import db
from app.patients.models import Patient


def events(patient_id=None):
    db.session.expire_all()
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    return list(db.session.scalars(query))


@pytest.fixture
def james(make_patient, make_member, assign, make_user, grant):
    patient = make_patient(given="James", family="Carter")
    member = make_member(name="Nina Patel")
    assign(patient, member, coordinator=True)
    ana = make_user(Role.CAREGIVER, name="Ana Carter")
    grant(patient, ana, scopes=[Scope.PLAN.value])
    return {
        "patient": patient,
        "patient_user": db.session.get(User, patient.user_id),
        "nurse": db.session.get(User, member.user_id),
        "ana": ana,
    }


def test_viewing_a_record_writes_who_for_whom_what_when_where(james, new_browser):
    b = new_browser()
    b.login(james["ana"].email)
    b.get(f"/patients/{james['patient'].id}", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    [event] = events(james["patient"].id)
    assert event.actor_id == james["ana"].id
    assert event.capacity == "caregiver"
    assert event.acting_for_patient_id == james["patient"].id
    assert event.action == "view"
    assert event.resource == "patient.summary"
    assert event.endpoint == "patients.summary"
    assert event.ip_address == "10.1.2.3"
    assert event.occurred_at is not None and event.occurred_at.tzinfo is not None


def test_care_team_view_is_recorded_in_their_own_capacity(james, new_browser):
    b = new_browser()
    b.login(james["nurse"].email)
    b.get(f"/patients/{james['patient'].id}")
    [event] = events(james["patient"].id)
    assert (event.actor_id, event.capacity, event.acting_for_patient_id) == (
        james["nurse"].id,
        "care_team",
        None,
    )


def test_a_change_is_recorded_and_a_refused_change_writes_nothing_but_the_view(james, new_browser):
    b = new_browser()
    b.login(james["nurse"].email)
    url = f"/patients/{james['patient'].id}/profile"
    ok = b.post(
        url,
        {
            "preferred_name": "Jim",
            "pronouns": "he/him",
            "language": "en",
            "timezone": "America/Denver",
        },
    )
    assert ok.status_code == 302
    bad = b.post(
        url,
        {
            "preferred_name": "Jimmy",
            "language": "en",
            "timezone": "Mars/Base",
        },
    )
    assert bad.status_code == 422
    patient = db.session.get(Patient, james["patient"].id)
    db.session.refresh(patient)
    assert patient.preferred_name == "Jim"  # the refused change left nothing behind
    assert patient.timezone == "America/Denver"
    assert patient.pronouns == "he/him"
    actions = [(e.action, e.resource) for e in events(patient.id)]
    # GET form, successful POST, GET form again, refused POST (recorded as a view)
    assert actions == [
        ("view", "patient.profile"),
        ("update", "patient.profile"),
        ("view", "patient.profile"),
        ("view", "patient.profile"),
    ]


def test_denied_access_is_recorded_as_denied_and_not_shown_to_the_patient(
    james, make_user, new_browser
):
    stranger = make_user(Role.CAREGIVER)
    b = new_browser()
    b.login(stranger.email)
    assert b.get(f"/patients/{james['patient'].id}").status_code == 404
    [event] = events(james["patient"].id)
    assert (event.action, event.actor_id, event.capacity, event.acting_for_patient_id) == (
        "denied",
        stranger.id,
        "caregiver",
        None,
    )
    assert (event.resource, event.resource_id) == ("patient.summary", str(james["patient"].id))
    me = new_browser()
    me.login(james["patient_user"].email)
    log = me.get(f"/patients/{james['patient'].id}/access-log").get_data(as_text=True)
    assert stranger.full_name not in log


def test_audit_rows_cannot_be_changed_or_deleted(app, james, new_browser):
    b = new_browser()
    b.login(james["ana"].email)
    b.get(f"/patients/{james['patient'].id}")
    # The database itself refuses, even for raw SQL that bypasses the ORM.
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET actor_id = NULL"))
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_events"))
    [event] = events(james["patient"].id)
    with pytest.raises(PermissionError):
        db.session.delete(event)
        db.session.flush()
    db.session.rollback()
    assert len(events(james["patient"].id)) == 1


def test_who_has_seen_my_record_shows_names_and_roles_not_ips(james, new_browser):
    pid = james["patient"].id
    nurse = new_browser()
    nurse.login(james["nurse"].email)
    nurse.get(f"/patients/{pid}", environ_base={"REMOTE_ADDR": "203.0.113.77"})
    ana = new_browser()
    ana.login(james["ana"].email)
    ana.get(f"/patients/{pid}")

    me = new_browser()
    me.login(james["patient_user"].email)
    me.get(f"/patients/{pid}")  # my own visits are not listed
    html = me.get(f"/patients/{pid}/access-log").get_data(as_text=True)
    assert "Nina Patel" in html and "Care team" in html
    assert "Ana Carter" in html and "Caregiver" in html
    assert "Looked at: Your summary page" in html
    assert "203.0.113.77" not in html
    assert html.count('class="access-entry"') == 2  # the nurse and Ana, not my own visit


def test_access_log_is_paginated(james, new_browser):
    pid = james["patient"].id
    nurse = new_browser()
    nurse.login(james["nurse"].email)
    for _ in range(30):
        nurse.get(f"/patients/{pid}")
    me = new_browser()
    me.login(james["patient_user"].email)
    first = me.get(f"/patients/{pid}/access-log").get_data(as_text=True)
    assert first.count('class="access-entry"') == 25 and "Previous" not in first
    following = re.search(r'href="([^"]*access-log\?after=\d+)"', first).group(1)
    second = me.get(html_lib.unescape(following)).get_data(as_text=True)
    assert second.count('class="access-entry"') >= 5 and "Previous" in second
    # a cursor that is not one of this patient's rows (someone else's, unknown, garbage): 404
    for cursor in (10**9, "x", "99999999999999999999999"):
        assert me.get(f"/patients/{pid}/access-log?after={cursor}").status_code == 404
