"""A caregiver always sees whose record they are in, and switches between the people they help."""

import re

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers.models import CaregiverGrant
from app.core.db import utcnow
from app.extensions import db
from tests.fixtures.browser import signed_in


@pytest.fixture
def people(make_patient, make_user, grant):
    james = make_patient(given="James", family="Walker", preferred_name="Jim")
    maria = make_patient(given="Maria", family="Lopez")
    ana = make_user(Role.CAREGIVER, name="Ana Walker")
    grant(james, ana, scopes=["plan", "messages"])
    grant(maria, ana, scopes=["plan"])
    return {"james": james, "maria": maria, "ana": ana}


def test_a_caregiver_who_helps_two_people_sees_whom_and_can_switch(people, new_browser):
    james, maria = people["james"], people["maria"]
    b = signed_in(new_browser, people["ana"])
    assert b.get("/").headers["Location"].endswith("/caregivers/")
    home = b.get("/caregivers/").get_data(as_text=True)
    assert "Open Jim's care" in home and "Open Maria's care" in home

    for url in (f"/patients/{james.id}", f"/patients/{james.id}/plan"):
        html = b.get(url).get_data(as_text=True)
        assert "Acting for Jim" in html, url
        assert re.search(r'<a [^>]*href="/caregivers/"[^>]*>Switch</a>', html), url

    html = b.get(f"/patients/{maria.id}/plan").get_data(as_text=True)
    assert "Acting for Maria" in html and "Acting for Jim" not in html


def test_a_caregiver_who_helps_one_person_has_nothing_to_switch(
    make_patient, make_user, grant, new_browser
):
    james = make_patient(given="James", family="Walker")
    ana = make_user(Role.CAREGIVER)
    grant(james, ana, scopes=["messages"])
    b = signed_in(new_browser, ana)
    html = b.get(f"/patients/{james.id}/messages").get_data(as_text=True)
    assert "Acting for James" in html
    assert ">Switch</a>" not in html


def test_an_ended_grant_no_longer_counts_for_switching(people, new_browser):
    b = signed_in(new_browser, people["ana"])
    db.session.execute(
        sa.update(CaregiverGrant)
        .where(CaregiverGrant.patient_id == people["maria"].id)
        .values(revoked_at=utcnow())
    )
    db.session.commit()
    html = b.get(f"/patients/{people['james'].id}").get_data(as_text=True)
    assert "Acting for Jim" in html and ">Switch</a>" not in html
    assert "Open Maria's care" not in b.get("/caregivers/").get_data(as_text=True)


def test_the_patient_sees_their_own_record_not_acting_for(people, new_browser):
    james = people["james"]
    b = signed_in(new_browser, db.session.get(User, james.user_id))
    html = b.get(f"/patients/{james.id}/plan").get_data(as_text=True)
    assert "Acting for" not in html and ">Switch</a>" not in html
    assert "Jim&#39;s record" in html or "Jim's record" in html
    more = b.get(f"/patients/{james.id}/more").get_data(as_text=True)
    assert "People who help me" in more  # the record's sections include who helps
