"""Issue 17: an imported RelatedPerson with a Consent that permits access is a question for
the patient ("Invite Rosa to help you?"), never a grant; Invite sends the normal invitation
once; another patient, a caregiver or the team cannot answer it; a Consent that does not permit
never asks; a re-import updates, never doubles."""

from __future__ import annotations

import copy

import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers.models import CaregiverGrant, CaregiverInvitation, Relation, Scope
from app.extensions import db
from app.fhir.proposals import Answer, CaregiverProposal
from tests.fhir.test_import import PATIENT, ana, bundle, run
from tests.fixtures.browser import signed_in
from tests.fixtures.mail import outbox_emails

ROSA = "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-0000000000a1"
ACCESS = "http://terminology.hl7.org/CodeSystem/consentaction"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def rosa(**changes) -> dict:
    resource = {
        "resourceType": "RelatedPerson",
        "id": "rp-rosa",
        "patient": {"reference": PATIENT},
        "relationship": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                        "code": "MTH",
                    }
                ],
                "text": "mother",
            }
        ],
        "name": [{"given": ["Rosa"], "family": "Martínez"}],
        "telecom": [{"system": "email", "value": "Rosa.Martinez@example.test"}],
    }
    resource.update(changes)
    return {"fullUrl": ROSA, "resource": resource}


def consent(kind="permit", status="active", labels=("PSY",), deny=("ETH",), **changes) -> dict:
    provision = {
        "type": kind,
        "actor": [
            {
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "IRCP",
                        }
                    ]
                },
                "reference": {"reference": ROSA},
            }
        ],
        "action": [{"coding": [{"system": ACCESS, "code": "access"}]}],
        "securityLabel": [{"system": ACT, "code": c} for c in labels],
        "provision": [
            {"type": "deny", "securityLabel": [{"system": ACT, "code": c} for c in deny]}
        ],
    }
    resource = {
        "resourceType": "Consent",
        "id": "consent-rosa",
        "status": status,
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": PATIENT},
        "provision": provision,
    }
    resource.update(changes)
    return {"fullUrl": "urn:uuid:0f6c3a3e-6d55-4a8c-9a61-0000000000a2", "resource": resource}


def proposals_of(patient_id) -> list[CaregiverProposal]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(CaregiverProposal).where(CaregiverProposal.patient_id == patient_id)
        )
    )


def with_login(patient, make_user):
    user = make_user(Role.PATIENT, name="Ana Quispe")
    patient.user_id = user.id
    db.session.commit()
    return user


def total(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_permitting_consent_proposes_and_the_patient_invites_once(
    app, make_member, make_user, new_browser
):
    run(bundle(rosa(), consent()), coordinator=make_member())
    patient = ana()
    (proposal,) = proposals_of(patient.id)
    assert proposal.permitted and proposal.relation is Relation.MOTHER
    assert proposal.scopes == [Scope.PLAN.value]
    assert proposal.sensitive_categories == ["behavioral_health"]  # named; ETH denied
    assert total(CaregiverGrant) == 0 and total(CaregiverInvitation) == 0  # nothing granted
    me = with_login(patient, make_user)
    browser = signed_in(new_browser, me)
    page = browser.page(f"/patients/{patient.id}/caregivers")
    assert "Rosa Martínez (Mother) is listed in Salem Family Clinic's record." in page
    assert "Invite Rosa Martínez to help you?" in page
    url = f"/patients/{patient.id}/caregivers/suggested/{proposal.id}/invite"
    form_url = f"/patients/{patient.id}/caregivers"
    first = browser.post(url, {}, form_url=form_url)
    again = browser.post(url, {}, form_url=form_url)  # a double click
    assert first.status_code == again.status_code == 302
    (invitation,) = db.session.scalars(sa.select(CaregiverInvitation)).all()
    assert invitation.email == "rosa.martinez@example.test" and invitation.name == "Rosa Martínez"
    assert invitation.relation is Relation.MOTHER and invitation.scopes == [Scope.PLAN.value]
    assert invitation.sensitive_categories == ["behavioral_health"]
    assert [e.to_address for e in outbox_emails()] == ["rosa.martinez@example.test"]
    assert total(CaregiverGrant) == 0  # until Rosa accepts
    page = browser.page(f"/patients/{patient.id}/caregivers")
    assert "Invite Rosa Martínez to help you?" not in page and "Rosa Martínez" in page  # pending
    # A re-import updates the proposal and does not ask again.
    run(bundle(rosa(), consent()))
    (same,) = proposals_of(patient.id)
    assert same.id == proposal.id and same.answer is Answer.INVITED


def test_not_now_puts_the_question_away(app, make_member, make_user, new_browser):
    run(bundle(rosa(), consent()), coordinator=make_member())
    patient = ana()
    (proposal,) = proposals_of(patient.id)
    browser = signed_in(new_browser, with_login(patient, make_user))
    url = f"/patients/{patient.id}/caregivers/suggested/{proposal.id}/not-now"
    assert browser.post(url, {}, form_url=f"/patients/{patient.id}/caregivers").status_code == 302
    assert "Invite Rosa Martínez" not in browser.page(f"/patients/{patient.id}/caregivers")
    assert total(CaregiverInvitation) == 0 and proposals_of(patient.id)[0].answer is Answer.NOT_NOW


def test_a_consent_that_does_not_permit_never_proposes(app, make_member):
    for variant in (
        consent(kind="deny"),
        consent(status="inactive"),
        consent(provision=None) | {},
    ):
        db.session.rollback()
        run(bundle(rosa(), variant), coordinator=make_member())
    patient = ana()
    (proposal,) = proposals_of(patient.id)
    assert not proposal.permitted
    # A RelatedPerson alone (no Consent) never proposes either, and an ended permit withdraws.
    run(bundle(rosa(), consent()))
    assert proposals_of(patient.id)[0].permitted
    ended = consent()
    ended["resource"]["provision"]["period"] = {"end": "2001-01-01T00:00:00Z"}
    run(bundle(rosa(), ended))
    assert not proposals_of(patient.id)[0].permitted
    assert total(CaregiverInvitation) == 0 and total(CaregiverGrant) == 0


def test_nobody_else_answers_for_the_patient(
    app, make_member, make_user, make_patient, grant, new_browser
):
    nurse = make_member()
    run(bundle(rosa(), consent()), coordinator=nurse)
    patient = ana()
    (proposal,) = proposals_of(patient.id)
    helper = make_user(Role.CAREGIVER)
    grant(patient, helper, scopes=[s.value for s in Scope])
    other = make_patient(given="Otto")
    nurse_user = db.session.get(User, nurse.user_id)
    base = f"/patients/{patient.id}/caregivers/suggested/{proposal.id}"
    for person in (helper, nurse_user, db.session.get(User, other.user_id)):
        browser = signed_in(new_browser, person)
        for action in ("invite", "not-now"):
            assert browser.post(f"{base}/{action}", {}).status_code == 404
        assert "Invite Rosa" not in browser.get(f"/patients/{patient.id}/caregivers").get_data(
            as_text=True
        )
    # Another patient's own URL with Ana's proposal id: 404 as for one that does not exist.
    browser = signed_in(new_browser, db.session.get(User, other.user_id))
    theirs = f"/patients/{other.id}/caregivers/suggested/{proposal.id}/invite"
    assert browser.post(theirs, {}, form_url=f"/patients/{other.id}/caregivers").status_code == 404
    huge = f"/patients/{other.id}/caregivers/suggested/99999999999999999999/invite"
    assert browser.post(huge, {}, form_url=f"/patients/{other.id}/caregivers").status_code == 404
    assert total(CaregiverInvitation) == 0
    assert proposals_of(patient.id)[0].answer is None


def test_without_an_address_the_patient_gives_one(app, make_member, make_user, new_browser):
    run(bundle(rosa(telecom=[]), consent()), coordinator=make_member())
    patient = ana()
    (proposal,) = proposals_of(patient.id)
    browser = signed_in(new_browser, with_login(patient, make_user))
    page = browser.page(f"/patients/{patient.id}/caregivers")
    assert "The record does not say how to reach Rosa Martínez." in page
    url = f"/patients/{patient.id}/caregivers/suggested/{proposal.id}/invite"
    form_url = f"/patients/{patient.id}/caregivers"
    browser.post(url, {"email": "not an address"}, form_url=form_url)
    assert total(CaregiverInvitation) == 0 and proposals_of(patient.id)[0].answer is None
    browser.post(url, {"mobile_phone": "503-555-0142"}, form_url=form_url)
    (invitation,) = db.session.scalars(sa.select(CaregiverInvitation)).all()
    assert invitation.phone == "+15035550142"


def test_the_caregivers_page_costs_the_same_with_proposals(
    app, make_member, make_user, new_browser, count_queries
):
    run(bundle(), coordinator=make_member())
    patient = ana()
    browser = signed_in(new_browser, with_login(patient, make_user))
    url = f"/patients/{patient.id}/caregivers"
    browser.page(url)
    with count_queries() as none:
        browser.page(url)
    people = []
    for n in range(5):
        person, permit = copy.deepcopy(rosa(id=f"rp-{n}")), copy.deepcopy(consent(id=f"c-{n}"))
        person["fullUrl"] = f"urn:uuid:0f6c3a3e-6d55-4a8c-9a61-0000000001{n:02d}"
        permit["fullUrl"] = f"urn:uuid:0f6c3a3e-6d55-4a8c-9a61-0000000002{n:02d}"
        permit["resource"]["provision"]["actor"][0]["reference"]["reference"] = person["fullUrl"]
        people += [person, permit]
    run(bundle(*people))
    with count_queries() as five:
        page = browser.page(url)
    assert page.count("to help you?") == 5
    assert five.count == none.count <= 12  # the proposals: one query, however many
