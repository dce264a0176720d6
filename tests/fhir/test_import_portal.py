"""An imported patient has no login; their care team invites them to the portal from the record
they reach through "My patients" (one account, one email, even on a double submit)."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import Role, User
from app.extensions import db
from app.patients.models import Patient
from tests.fhir.test_import import ana, bundle, run
from tests.fixtures.browser import signed_in
from tests.fixtures.mail import outbox_emails


def staff(member):
    return db.session.get(User, member.user_id)


def test_the_coordinator_invites_an_imported_patient(app, make_member, new_browser):
    nurse = make_member()
    run(bundle(), coordinator=nurse)
    patient = ana()
    assert patient.user_id is None
    browser = signed_in(new_browser, staff(nurse))
    assert "Ana Quispe" in browser.page("/team/patients")
    summary = browser.page(f"/patients/{patient.id}")
    url = f"/patients/{patient.id}/portal-invitation"
    assert url in summary
    form = {"email": "Ana.Quispe@example.test", "language": "es"}
    first = browser.post(url, form)
    assert first.status_code == 302
    again = browser.post(url, form, form_url=f"/patients/{patient.id}")  # a double submit
    assert again.status_code == 302  # "This record already has a login."
    db.session.expire_all()
    user = db.session.get(User, db.session.get(Patient, patient.id).user_id)
    assert user.email == "ana.quispe@example.test" and user.role is Role.PATIENT
    assert user.locale == "es" and not user.has_password
    assert [e.to_address for e in outbox_emails()] == [user.email]
    assert url not in browser.page(f"/patients/{patient.id}")  # nothing left to invite
    assert "This record already has a login." in browser.page(url)


def test_only_the_care_team_may_invite(app, make_member, make_user, grant, new_browser):
    from app.caregivers.models import Scope

    run(bundle(), coordinator=make_member())
    patient = ana()
    other_nurse = make_member()  # not on Ana's team
    helper = make_user(Role.CAREGIVER)
    grant(patient, helper, scopes=[s.value for s in Scope])
    url = f"/patients/{patient.id}/portal-invitation"
    for person in (staff(other_nurse), helper):
        browser = signed_in(new_browser, person)
        assert browser.get(url).status_code == 404
        response = browser.post(url, {"email": "x@example.test", "language": "en"})
        assert response.status_code == 404
    assert db.session.get(Patient, patient.id).user_id is None
    assert db.session.scalar(sa.select(User.id).where(User.email == "x@example.test")) is None
