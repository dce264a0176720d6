"""Ids that cannot exist (0, above PostgreSQL's integer, above 2^63) are a 404 everywhere, never a
database error: in every route's path, in query strings and in form fields."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.extensions import db
from app.messaging import services
from app.messaging.models import Thread, Topic
from tests.fixtures.browser import signed_in

HOSTILE = [0, 2**31, 2**63, 10**30]


def _urls(app, value: int) -> list[tuple[str, str]]:
    """Every route with an id in its path, each id set to `value` (other arguments filled)."""
    found = []
    for rule in app.url_map.iter_rules():
        ints = [
            arg
            for arg, conv in rule._converters.items()
            if conv.__class__.__name__ == "IdConverter"
        ]
        if not ints:
            continue
        values = {arg: value for arg in ints}
        values.update({arg: "x" for arg in rule.arguments if arg not in ints})
        path = rule.rule
        for arg, v in values.items():
            path = path.replace(f"<int:{arg}>", str(v)).replace(f"<{arg}>", str(v))
        method = "GET" if "GET" in rule.methods else "POST"
        found.append((method, path))
    return found


@pytest.mark.parametrize("value", HOSTILE)
def test_every_route_answers_404_for_an_impossible_id(app, value, make_user, new_browser):
    browser = signed_in(new_browser, make_user(Role.CARE_TEAM))
    urls = _urls(app, value)
    assert len(urls) > 30
    for method, path in urls:
        response = browser.client.open(path, method=method)
        assert response.status_code == 404, (method, path, response.status_code)


@pytest.fixture
def maria(make_patient, make_member, assign):
    patient = make_patient(given="Maria", family="Lopez")
    nurse = make_member(name="Nina Patel")
    assign(patient, nurse, coordinator=True)
    thread = services.start_thread(
        patient_id=patient.id,
        topic=Topic.OTHER,
        subject="Hola",
        body="Hola",
        author_id=patient.user_id,
        capacity="patient",
    )
    db.session.commit()
    return {"patient": patient, "nurse": db.session.get(User, nurse.user_id), "thread": thread}


@pytest.mark.parametrize("value", [*HOSTILE, "abc", "1e9", "-3"])
def test_ids_in_query_strings_are_404(maria, value, new_browser):
    patient = maria["patient"]
    me = signed_in(new_browser, db.session.get(User, patient.user_id))
    assert me.get(f"/patients/{patient.id}/access-log?actor={value}").status_code == 404
    assert me.get(f"/patients/{patient.id}/messages/new?item={value}").status_code == 404
    nurse = signed_in(new_browser, maria["nurse"])
    assert nurse.get(f"/team/inbox?view=all&patient={value}").status_code == 404


@pytest.mark.parametrize("value", [*HOSTILE, "abc"])
def test_an_impossible_member_id_in_a_form_is_refused_and_nothing_is_written(
    maria, value, new_browser
):
    url = f"/patients/{maria['patient'].id}/messages/{maria['thread'].id}"
    nurse = signed_in(new_browser, maria["nurse"])
    response = nurse.post(f"{url}/assign", {"member": value}, form_url=url)
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(sa.select(Thread.assignee_id)) is None
