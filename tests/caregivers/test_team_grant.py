"""The care team sets up access for a minor's parent or guardian, or an adult's legal
representative: legal authority and document required, team members of that patient only,
audited, and the patient is told when they next open their record."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers.models import CaregiverGrant, GrantKind
from app.core.audit import AuditEvent
from app.extensions import db
from tests.fixtures.browser import signed_in
from tests.fixtures.mail import link_in, outbox_emails

NOW = datetime(2030, 3, 4, 18, 0, tzinfo=UTC)  # 10:00 in Oregon


@pytest.fixture
def world(make_patient, make_member, assign, frozen_clock):
    frozen_clock(NOW)
    leo = make_patient(given="Leo", family="Martinez", dob=date(2015, 5, 1), with_login=False)
    jim = make_patient(given="James", family="Carter", dob=date(1944, 8, 2))
    nurse = make_member(name="Nina Patel")
    assign(leo, nurse, coordinator=True)
    assign(jim, nurse, coordinator=True)
    return {
        "leo": leo,
        "jim": jim,
        "jim_user": db.session.get(User, jim.user_id),
        "nurse": db.session.get(User, nurse.user_id),
        "outsider": db.session.get(User, make_member().user_id),
    }


def url(patient) -> str:
    return f"/patients/{patient.id}/caregivers/team-grant"


GUARDIAN = {
    "email": "Rosa.Martinez@Example.test",
    "full_name": "Rosa Martinez",
    "language": "es",
    "relationship": "mother",
    "kind": "guardian",
    "legal_authority": "Parent of a minor",
    "document_reference": "Birth certificate, scanned 2030-03-04",
    "scopes": ["plan", "messages"],
    "sensitive_categories": ["behavioral_health"],
}


def grant_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(CaregiverGrant.id)))


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(User.id)))


def test_team_sets_up_a_guardian_who_accepts_and_acts_for_the_child(world, new_browser):
    nurse = signed_in(new_browser, world["nurse"])
    form = nurse.get(url(world["leo"]))
    assert form.status_code == 200
    assert "Leo is 14." in form.get_data(as_text=True)

    response = nurse.post(url(world["leo"]), GUARDIAN)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/patients/{world['leo'].id}/caregivers/team")
    grant = db.session.scalar(sa.select(CaregiverGrant))
    rosa = db.session.get(User, grant.caregiver_id)
    assert rosa.email == "rosa.martinez@example.test" and rosa.role is Role.CAREGIVER
    assert grant.kind is GrantKind.GUARDIAN
    assert (grant.legal_authority, grant.document_reference) == (
        "Parent of a minor",
        "Birth certificate, scanned 2030-03-04",
    )
    assert grant.granted_by_id == world["nurse"].id
    assert sorted(grant.scopes) == ["messages", "plan"]
    assert grant.sensitive_categories == ["behavioral_health"]
    event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.resource == "caregivers.grant", AuditEvent.action == "create"
        )
    )
    assert event.patient_id == world["leo"].id and event.actor_id == world["nurse"].id
    listing = nurse.get(f"/patients/{world['leo'].id}/caregivers/team").get_data(as_text=True)
    assert "Rosa Martinez" in listing and "Parent or legal guardian of a minor" in listing

    # the same invitation as the administrators send, in Rosa's language
    [invitation] = outbox_emails()
    assert invitation.to_address == "rosa.martinez@example.test"
    assert invitation.subject == "Le invitamos a CareCircle"
    b = new_browser()
    password = "my dog is called pepper"
    page = b.open(link_in(invitation.body))
    accepted = b.post(page, {"password": password, "confirm": password})
    assert accepted.status_code == 302
    assert b.get(f"/patients/{world['leo'].id}").status_code == 200


def test_an_existing_caregiver_is_picked_by_email_and_told(world, new_browser, make_user):
    ana = make_user(Role.CAREGIVER, email="ana@example.test", name="Ana Carter")
    before = user_count()
    nurse = signed_in(new_browser, world["nurse"])
    data = dict(
        GUARDIAN,
        email="ANA@example.test",
        full_name="",
        relationship="daughter",
        kind="legal_representative",
        legal_authority="Health care power of attorney",
        document_reference="POA dated 2029-11-02, in chart",
    )
    assert nurse.post(url(world["jim"]), data).status_code == 302
    assert user_count() == before
    grant = db.session.scalar(sa.select(CaregiverGrant))
    assert grant.caregiver_id == ana.id and grant.kind is GrantKind.LEGAL_REPRESENTATIVE
    [email] = outbox_emails()
    assert email.to_address == "ana@example.test"
    assert "Nina Patel" in email.body and "James" in email.body
    assert signed_in(new_browser, ana).get(f"/patients/{world['jim'].id}").status_code == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"legal_authority": ""}, "Enter the legal authority."),
        ({"document_reference": "  "}, "Say where the document is on file."),
        ({"relationship": ""}, "Say how they are related"),
        ({"email": "not-an-email"}, "Enter an email address like"),
        ({"full_name": ""}, "Enter their full name"),
        ({"kind": "legal_representative"}, "The patient is a minor"),
        ({"kind": "delegate"}, "Not a valid choice"),
        ({"sensitive_categories": ["confidential"]}, "not a valid choice"),
        ({"ends_on": "2030-03-03"}, "The last day cannot be in the past."),
        ({"ends_on": "soon"}, "Enter a date"),
        ({"ends_on": "9999-12-31"}, "Choose a last day within the next 100 years"),
    ],
)
def test_bad_input_is_a_422_and_writes_nothing(world, new_browser, changes, message):
    nurse = signed_in(new_browser, world["nurse"])
    users = user_count()
    response = nurse.post(url(world["leo"]), dict(GUARDIAN, **changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert grant_count() == 0 and user_count() == users
    assert outbox_emails() == []


def test_a_guardian_of_a_minor_cannot_be_set_up_for_an_adult(world, new_browser):
    nurse = signed_in(new_browser, world["nurse"])
    response = nurse.post(url(world["jim"]), GUARDIAN)
    assert response.status_code == 422
    assert "The patient is an adult" in response.get_data(as_text=True)
    assert grant_count() == 0


def test_accounts_that_cannot_be_caregivers_or_already_have_access(
    world, new_browser, make_user, grant
):
    nurse = signed_in(new_browser, world["nurse"])
    refused = nurse.post(url(world["leo"]), dict(GUARDIAN, email=world["jim_user"].email))
    assert refused.status_code == 422
    assert "cannot be a caregiver" in refused.get_data(as_text=True)
    rosa = make_user(Role.CAREGIVER, email="rosa@example.test")
    grant(world["leo"], rosa)
    twice = nurse.post(url(world["leo"]), dict(GUARDIAN, email="rosa@example.test"))
    assert twice.status_code == 422
    assert "already has access" in twice.get_data(as_text=True)
    assert grant_count() == 1


@pytest.mark.parametrize("who", ["outsider", "jim_user", "admin", "caregiver"])
def test_only_the_patients_care_team_may_grant(world, new_browser, make_user, grant, who):
    people = dict(world, admin=make_user(Role.ADMIN), caregiver=make_user(Role.CAREGIVER))
    grant(world["jim"], people["caregiver"], scopes=["plan", "messages"])
    b = signed_in(new_browser, people[who])
    before = grant_count()
    for patient in (world["jim"], world["leo"]):
        assert b.get(url(patient)).status_code == 404
        posted = b.post(url(patient), dict(GUARDIAN, kind="legal_representative"), form_url="/")
        assert posted.status_code == 404
        assert b.get(f"/patients/{patient.id}/caregivers/team").status_code == 404
    assert grant_count() == before
    assert b.get(f"/patients/{world['jim'].id + 999}/caregivers/team-grant").status_code == 404


def test_the_patient_sees_the_notice_once(world, new_browser):
    nurse = signed_in(new_browser, world["nurse"])
    data = dict(
        GUARDIAN,
        email="ana@example.test",
        full_name="Ana Carter",
        language="en",
        relationship="daughter",
        kind="legal_representative",
        legal_authority="health care power of attorney",
        document_reference="POA in chart",
    )
    assert nurse.post(url(world["jim"]), data).status_code == 302
    jim = signed_in(new_browser, world["jim_user"])
    page = jim.get("/", follow_redirects=True).get_data(as_text=True)
    assert (
        "Your care team gave Ana Carter access to your record as your legal representative "
        "(health care power of attorney) on March 4, 2030." in page
    )
    again = jim.get(f"/patients/{world['jim'].id}").get_data(as_text=True)
    assert "Your care team gave" not in again
    log = jim.get(f"/patients/{world['jim'].id}/access-log").get_data(as_text=True)
    assert "Nina Patel" in log and "Who can help with your record" in log


def test_an_end_date_lasts_through_the_last_day_in_the_patients_time_zone(world, new_browser):
    nurse = signed_in(new_browser, world["nurse"])
    assert nurse.post(url(world["leo"]), dict(GUARDIAN, ends_on="2030-06-30")).status_code == 302
    grant = db.session.scalar(sa.select(CaregiverGrant))
    # midnight after June 30 in Oregon (PDT, UTC-7)
    assert grant.ends_at == datetime(2030, 7, 1, 7, 0, tzinfo=UTC)
    page = nurse.get(f"/patients/{world['leo'].id}/caregivers/team").get_data(as_text=True)
    assert "Last day of access: June 30, 2030" in page


def test_a_teen_with_a_login_sees_the_guardian_notice(world, new_browser, make_patient, assign):
    teen = make_patient(given="Mia", family="Lee", dob=date(2015, 9, 9))
    assign(teen, _member_of(world["nurse"]))
    nurse = signed_in(new_browser, world["nurse"])
    assert nurse.post(url(teen), dict(GUARDIAN, language="en")).status_code == 302
    mia = signed_in(new_browser, db.session.get(User, teen.user_id))
    page = mia.get(f"/patients/{teen.id}").get_data(as_text=True)
    assert (
        "Your care team gave Rosa Martinez access to your record as your parent or guardian "
        "on March 4, 2030." in page
    )


def _member_of(user):
    from app.team.models import CareTeamMember

    return db.session.scalar(sa.select(CareTeamMember).where(CareTeamMember.user_id == user.id))


def test_the_notice_never_looks_up_grants_for_an_id_the_policy_refused(
    world, new_browser, make_patient, assign, count_queries
):
    """The notice used to run before the access check, querying grants with the raw URL id."""
    teen = make_patient(given="Mia", family="Lee", dob=date(2015, 9, 9))
    assign(teen, _member_of(world["nurse"]))
    nurse = signed_in(new_browser, world["nurse"])
    assert nurse.post(url(teen), dict(GUARDIAN, language="en")).status_code == 302
    jim = signed_in(new_browser, world["jim_user"])
    with count_queries() as seen:
        assert jim.get(f"/patients/{teen.id}").status_code == 404
    assert not [s for s in seen.statements if "caregiver_grants" in s]
    # Mia still gets her notice: nobody else's visit used it up.
    mia = signed_in(new_browser, db.session.get(User, teen.user_id))
    assert "access to your record as your parent or guardian" in mia.get(
        f"/patients/{teen.id}"
    ).get_data(as_text=True)
