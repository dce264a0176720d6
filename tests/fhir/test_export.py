""" "Download my data" and what every export leaves out.

The patient downloads their whole record; a parent, guardian or legal representative gets
what their own pages show (sensitive categories not included for them are absent: items,
goals, activities of the CarePlan, the therapist on the CareTeam, threads); a helper the
patient invited gets no download; internal notes are in nobody's export."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.caregivers.models import GrantKind, Scope
from app.core.audit import AuditEvent
from app.core.privacy import Sensitivity
from app.extensions import db
from app.messaging import services as messaging
from app.messaging.models import Message, Topic
from app.team.models import Discipline
from tests.fhir.fhir_world import bearer, validate
from tests.fixtures.browser import signed_in
from tests.fixtures.records import NOW, TODAY

ALL_SCOPES = [s.value for s in Scope]


def url(patient) -> str:
    return f"/patients/{patient.id}/my-data.json"


def download(browser, patient, status=200):
    response = browser.client.get(url(patient))
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response


def text_of(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False)


@pytest.fixture
def guardian(fhir_world, make_user, grant):
    """A legal representative of Bravo with every scope and no sensitive category."""
    person = make_user(Role.CAREGIVER, name="Bravo Guardian")
    grant(
        fhir_world.bravo.patient,
        person,
        scopes=ALL_SCOPES,
        kind=GrantKind.LEGAL_REPRESENTATIVE,
        legal_authority="durable power of attorney",
        relationship_label="son",
    )
    return person


@pytest.fixture
def therapist(fhir_world, make_member, assign):
    """A behavioral health member on Bravo's team, who answered on a counseling thread."""
    w = fhir_world
    member = make_member(Discipline.BEHAVIORAL_HEALTH, org=w.bravo.orgs[0], name="Tess Therapist")
    assign(w.bravo.patient, member)
    thread = messaging.start_thread(
        patient_id=w.bravo.patient.id,
        topic=Topic.SYMPTOMS,
        subject="Bravo worries at night",
        body="Bravo cannot sleep from worry",
        author_id=w.bravo.user.id,
        capacity="patient",
        private=True,
        now=NOW - timedelta(hours=1),
    )
    db.session.commit()
    return member, thread


def test_the_patient_downloads_their_whole_record(app, fhir_world, new_browser):
    w = fhir_world
    browser = signed_in(new_browser, w.bravo.user)
    more = browser.page(f"/patients/{w.bravo.patient.id}/more")
    assert "Download my data" in more and url(w.bravo.patient) in more
    response = download(browser, w.bravo.patient)
    assert response.mimetype == "application/fhir+json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="carecircle-{TODAY.isoformat()}.json"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    body = json.loads(response.get_data(as_text=True))
    validate(body)
    assert body["type"] == "collection"
    for entry in body["entry"]:
        validate(entry["resource"])
    content = text_of(body)
    for words in (w.bh_item_title, w.bh_goal_description, w.bravo.thread.subject, "Bravopril"):
        assert words in content
    assert "Charlie" not in content
    # Audited as a copy of the whole record, by the patient.
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (event.action, event.resource, event.actor_id, event.patient_id) == (
        "view",
        "fhir.export",
        w.bravo.user.id,
        w.bravo.patient.id,
    )


def test_internal_notes_are_in_no_export(app, fhir_world, guardian, new_browser):
    w = fhir_world
    (note,) = [m for m in w.bravo.messages if m.internal]
    exports = [
        download(signed_in(new_browser, w.bravo.user), w.bravo.patient).get_data(as_text=True),
        download(signed_in(new_browser, guardian), w.bravo.patient).get_data(as_text=True),
        app.test_client()
        .get(f"/fhir/Patient/{w.bravo.patient.id}/$everything", headers=bearer(w.token))
        .get_data(as_text=True),
    ]
    for content in exports:
        assert note.body not in content
        assert f'"Communication/{note.id}"' not in content
    # Nor can a client read it by id.
    response = app.test_client().get(f"/fhir/Communication/{note.id}", headers=bearer(w.token))
    assert response.status_code == 404
    shown = db.session.scalars(sa.select(Message).where(Message.internal.is_(False))).all()
    assert shown  # the thread itself is exported (the patient's own message)


def test_a_representative_gets_only_what_their_pages_show(
    app, fhir_world, guardian, therapist, new_browser
):
    w = fhir_world
    _member, thread = therapist
    browser = signed_in(new_browser, guardian)
    more = browser.page(f"/patients/{w.bravo.patient.id}/more")
    assert "Download Bravo&#39;s data" in more or "Download Bravo's data" in more
    body = json.loads(download(browser, w.bravo.patient).get_data(as_text=True))
    validate(body)
    content = text_of(body)
    # Hidden: the counseling item and goal, the confidential thread, the therapist's role.
    for words in (w.bh_item_title, w.bh_goal_description, thread.subject, "Tess Therapist"):
        assert words not in content
    resources = [e["resource"] for e in body["entry"]]
    (plan,) = [r for r in resources if r["resourceType"] == "CarePlan"]
    assert len(plan["activity"]) == len(w.bravo.items)  # the hidden one is not even counted
    assert len([r for r in resources if r["resourceType"] == "Goal"]) == 1
    assert not any("security" in r.get("meta", {}) for r in resources)
    # What their pages show is there.
    assert w.bravo.items["medication"].title in content
    assert w.bravo.thread.subject in content
    # The patient's copy has all of it, labelled.
    mine = download(signed_in(new_browser, w.bravo.user), w.bravo.patient).get_data(as_text=True)
    for words in (w.bh_item_title, w.bh_goal_description, thread.subject, "Tess Therapist"):
        assert words in mine
    assert '"code":"PSY"' in mine.replace(" ", "") and '"code":"R"' in mine.replace(" ", "")


def test_a_representative_without_the_plan_scope_gets_no_plan(
    app, fhir_world, make_user, grant, new_browser
):
    w = fhir_world
    person = make_user(Role.CAREGIVER, name="Bravo Guardian Two")
    grant(w.bravo.patient, person, scopes=[], kind=GrantKind.LEGAL_REPRESENTATIVE)
    body = json.loads(
        download(signed_in(new_browser, person), w.bravo.patient).get_data(as_text=True)
    )
    types = {e["resource"]["resourceType"] for e in body["entry"]}
    assert types == {"Patient", "Organization", "Practitioner", "CareTeam"}


def test_no_download_for_a_helper_the_team_or_another_patient(app, fhir_world, new_browser):
    w = fhir_world
    helper = signed_in(new_browser, w.bravo.caregiver)  # every scope and category, a delegate
    assert "Download" not in helper.page(f"/patients/{w.bravo.patient.id}/more")
    download(helper, w.bravo.patient, status=404)
    download(signed_in(new_browser, w.bravo.member_user), w.bravo.patient, status=404)
    charlie = signed_in(new_browser, w.charlie.user)
    answer = download(charlie, w.bravo.patient, status=404)
    assert "Bravo" not in answer.get_data(as_text=True)
    download(charlie, w.charlie.patient)  # their own is fine
    # Signed out: the sign-in page, nothing of the record.
    response = new_browser().client.get(url(w.bravo.patient))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_downloads_are_rate_limited(app, fhir_world, new_browser):
    w = fhir_world
    app.config["FHIR_DOWNLOAD_RATE_LIMIT"] = "2 per hour"
    browser = signed_in(new_browser, w.bravo.user)
    download(browser, w.bravo.patient)
    download(browser, w.bravo.patient)
    download(browser, w.bravo.patient, status=429)


def test_the_button_is_translated(app, fhir_world, new_browser):
    """(Passes once the lead merges /tmp/notes/tr-hF.json into the catalogs.)"""
    w = fhir_world
    w.bravo.user.locale = "es"
    db.session.commit()
    page = signed_in(new_browser, w.bravo.user).page(f"/patients/{w.bravo.patient.id}/more")
    assert "Descargar mis datos" in page


def test_a_minor_patients_guardian_export_leaves_out_the_teens_categories(
    app, frozen_clock, make_patient, make_user, grant, new_browser
):
    """A parent's grant of a 15-year-old stops showing the minor-confidential categories,
    whatever the grant says (caregivers.rules): the export follows the same rule."""
    from tests.fixtures.plan import add
    from tests.fixtures.records import NOW as now

    frozen_clock(now)
    teen = make_patient(given="Tina", family="Teen", dob=date(2011, 1, 5))
    from app.team.models import Organization, OrganizationKind

    clinic = Organization(name="Teen Clinic", kind=OrganizationKind.PRIMARY_CARE)
    db.session.add(clinic)
    db.session.commit()
    add(teen, clinic, title="Tina counseling", sensitivity=Sensitivity.BEHAVIORAL_HEALTH)
    add(teen, clinic, title="Tina clinic visit", sensitivity=Sensitivity.SEXUAL_REPRODUCTIVE)
    add(teen, clinic, title="Tina walks")
    parent = make_user(Role.CAREGIVER, name="Tina Parent")
    access = grant(teen, parent, scopes=ALL_SCOPES, kind=GrantKind.GUARDIAN)
    access.sensitive_categories = [c.value for c in Sensitivity if c.value != "confidential"]
    db.session.commit()
    content = download(signed_in(new_browser, parent), teen).get_data(as_text=True)
    assert "Tina walks" in content
    hidden = set(app.config["MINOR_CONFIDENTIAL_CATEGORIES"])
    assert ("Tina clinic visit" in content) is ("sexual_reproductive" not in hidden)
    assert ("Tina counseling" in content) is ("behavioral_health" not in hidden)
