"""Age rules for a parent's or guardian's access, counted in the patient's own time zone.

Before 12 a guardian sees a sensitive category only if the grant includes it; from 12 to 17
never; at 18 the access ends unless the care team recorded a continuing legal authority. The
policy applies the rules on every request; `flask caregivers sweep` records them and tells
people, once. A teen's private thread is never shown to any caregiver.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers import lifecycle
from app.caregivers.models import CaregiverGrant, GrantKind, Scope
from app.core.audit import AuditEvent
from app.core.privacy import Sensitivity
from app.extensions import db
from app.messaging.models import Thread
from app.patients.models import Patient
from tests.fixtures.browser import signed_in
from tests.fixtures.mail import link_in, outbox_emails
from tests.fixtures.plan import add

#: One zone west of UTC, one east; January and July birthdays fall in winter time in one and
#: summer (DST) time in the other, so the tests pass whatever the offset of the day.
ZONES = ["America/Los_Angeles", "Pacific/Auckland"]
BIRTH_DATES = [date(2010, 1, 20), date(2010, 7, 20)]
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def local(zone: str, day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in the patient's zone, as the UTC instant the app stores."""
    return datetime.combine(day, time(hour, minute), ZoneInfo(zone)).astimezone(UTC)


def birthday(dob: date, years: int) -> date:
    return dob.replace(year=dob.year + years)


def eve(zone: str, day: date) -> datetime:
    """23:59 on the day before `day`, in the patient's zone."""
    return local(zone, day - timedelta(days=1), 23, 59)


@pytest.fixture
def family(make_patient, make_user, make_member, make_org, assign, grant):
    """A child, their mother (a guardian grant set up by the care team), and their nurse."""

    def build(*, dob=BIRTH_DATES[0], zone=ZONES[0], included=(), scopes=None, teen_login=False):
        org = make_org()
        child = make_patient(
            given="Leo", family="Martinez", dob=dob, timezone=zone, with_login=teen_login
        )
        nurse = make_member(org=org, name="Nina Nurse")
        assign(child, nurse, coordinator=True)
        rosa = make_user(Role.CAREGIVER, name="Rosa Martinez", email="rosa@example.test")
        row = grant(
            child,
            rosa,
            scopes=[s.value for s in Scope] if scopes is None else scopes,
            relationship_label="mother",
            kind=GrantKind.GUARDIAN,
            legal_authority="Parent of a minor",
            document_reference="Birth certificate",
            granted_by_id=nurse.user_id,
            starts_at=LONG_AGO,
        )
        row.sensitive_categories = list(included)
        db.session.commit()
        add(child, org, title="Inhaler before soccer")
        add(child, org, title="Counseling check-in", sensitivity=Sensitivity.BEHAVIORAL_HEALTH)
        return SimpleNamespace(
            child=child,
            rosa=rosa,
            grant=row,
            nurse=db.session.get(User, nurse.user_id),
            member=nurse,
            teen=db.session.get(User, child.user_id) if teen_login else None,
            org=org,
            zone=zone,
            dob=dob,
        )

    return build


def plan_of(browser, patient) -> tuple[int, str]:
    response = browser.get(f"/patients/{patient.id}/plan")
    return response.status_code, response.get_data(as_text=True)


def counseling_visible(browser, patient) -> bool:
    status, html = plan_of(browser, patient)
    assert status == 200
    assert "Inhaler before soccer" in html  # the rest of the plan stays visible
    return "Counseling check-in" in html


def counseling_item_id(patient) -> int:
    from app.careplan.items.models import PlanItem

    return db.session.scalar(
        sa.select(PlanItem.id).where(
            PlanItem.patient_id == patient.id, PlanItem.title == "Counseling check-in"
        )
    )


# ------------------------------------------------------------------ 12th birthday


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("dob", BIRTH_DATES)
def test_included_confidential_items_are_visible_until_the_12th_birthday(
    family, new_browser, frozen_clock, zone, dob
):
    twelve = birthday(dob, 12)
    frozen_clock(eve(zone, twelve))
    f = family(dob=dob, zone=zone, included=["behavioral_health"])
    item_url = f"/patients/{f.child.id}/plan/items/{counseling_item_id(f.child)}"
    rosa = signed_in(new_browser, f.rosa)
    assert counseling_visible(rosa, f.child)
    assert rosa.get(item_url).status_code == 200

    frozen_clock(local(zone, twelve))  # midnight at home: Leo is 12
    rosa = signed_in(new_browser, f.rosa)
    assert not counseling_visible(rosa, f.child)
    assert rosa.get(item_url).status_code == 404
    changes = rosa.get(f"/patients/{f.child.id}/changes").get_data(as_text=True)
    assert "Inhaler before soccer" in changes and "Counseling" not in changes


def test_before_12_a_category_not_included_stays_hidden(family, new_browser, frozen_clock):
    dob = BIRTH_DATES[0]
    frozen_clock(eve(ZONES[0], birthday(dob, 12)))
    f = family(dob=dob, included=[])
    assert not counseling_visible(signed_in(new_browser, f.rosa), f.child)


@pytest.mark.parametrize("zone", ZONES)
def test_from_12_to_17_hidden_whatever_the_grant_includes(family, new_browser, frozen_clock, zone):
    dob = BIRTH_DATES[1]
    frozen_clock(local(zone, birthday(dob, 12), 12))
    f = family(
        dob=dob,
        zone=zone,
        included=["behavioral_health", "substance_use", "sexual_reproductive"],
    )
    nurse = signed_in(new_browser, f.nurse)
    assert "Counseling check-in" in plan_of(nurse, f.child)[1]  # the team sees everything
    assert not counseling_visible(signed_in(new_browser, f.rosa), f.child)
    frozen_clock(eve(zone, birthday(dob, 18)))  # the last minute of being 17
    assert not counseling_visible(signed_in(new_browser, f.rosa), f.child)


def test_the_confidential_categories_are_configurable(app, family, new_browser, frozen_clock):
    app.config["MINOR_CONFIDENTIAL_CATEGORIES"] = ("sexual_reproductive",)
    dob = BIRTH_DATES[0]
    frozen_clock(local(ZONES[0], birthday(dob, 14), 12))
    f = family(dob=dob, included=["behavioral_health"])
    assert counseling_visible(signed_in(new_browser, f.rosa), f.child)


@pytest.mark.parametrize("zone", ZONES)
def test_turning_12_tells_the_guardian_and_the_teen_once(family, frozen_clock, zone):
    dob = BIRTH_DATES[0]
    twelve = birthday(dob, 12)
    frozen_clock(eve(zone, twelve))
    f = family(dob=dob, zone=zone, teen_login=True)
    assert lifecycle.sweep().adolescent_notices == 0
    db.session.commit()
    assert outbox_emails() == []

    frozen_clock(local(zone, twelve, 0, 1))
    result = lifecycle.sweep()
    db.session.commit()
    assert result.adolescent_notices == 1
    emails = {e.to_address: e for e in outbox_emails()}
    assert set(emails) == {"rosa@example.test", f.teen.email}
    to_rosa = emails["rosa@example.test"].body
    assert "Leo is 12. From age 12, some care is private" in to_rosa
    assert "behavioral health" in to_rosa and "Counseling" not in to_rosa
    assert "Private: only me and my care team" in emails[f.teen.email].body

    frozen_clock(local(zone, twelve, 9))
    assert lifecycle.sweep().adolescent_notices == 0  # once only
    db.session.commit()
    assert len(outbox_emails()) == 2


# ------------------------------------------------------------------ 18th birthday


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("dob", BIRTH_DATES)
def test_guardian_access_ends_at_18_on_the_next_request(
    family, new_browser, frozen_clock, zone, dob
):
    eighteen = birthday(dob, 18)
    frozen_clock(eve(zone, eighteen))
    f = family(dob=dob, zone=zone, teen_login=True)
    rosa = signed_in(new_browser, f.rosa)
    assert rosa.get(f"/patients/{f.child.id}").status_code == 200

    frozen_clock(local(zone, eighteen))  # no sweep has run yet
    assert rosa.get(f"/patients/{f.child.id}").status_code == 404
    assert rosa.get(f"/patients/{f.child.id}/messages").status_code == 404
    # Leo, now an adult, still has his record
    leo = signed_in(new_browser, f.teen)
    assert leo.get(f"/patients/{f.child.id}").status_code == 200


@pytest.mark.parametrize("zone", ZONES)
def test_sweep_ends_the_grant_at_18_and_tells_both_once(runner, family, frozen_clock, zone):
    dob = BIRTH_DATES[1]
    eighteen = birthday(dob, 18)
    frozen_clock(eve(zone, eighteen))
    f = family(dob=dob, zone=zone, teen_login=True)
    f.grant.adolescent_notice_sent_at = LONG_AGO
    db.session.commit()
    result = runner.invoke(args=["caregivers", "sweep"])
    assert result.exit_code == 0, result.output
    assert "age_of_majority=0" in result.output

    frozen_clock(local(zone, eighteen, 6))
    result = runner.invoke(args=["caregivers", "sweep"])
    assert "age_of_majority=1" in result.output and "emails=2" in result.output
    db.session.expire_all()
    grant = db.session.get(CaregiverGrant, f.grant.id)
    assert grant.ended_reason == "age_of_majority"
    assert grant.ends_at == local(zone, eighteen)  # midnight of the birthday, at home
    emails = {e.to_address: e for e in outbox_emails()}
    assert set(emails) == {"rosa@example.test", f.teen.email}
    assert "parent or guardian ended on" in emails["rosa@example.test"].body
    assert "Rosa Martinez" in emails[f.teen.email].body
    assert all(e.status == "stored" for e in emails.values())  # delivered after the commit
    recorded = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.resource == "caregivers.grant", AuditEvent.capacity == "system"
        )
    )
    assert recorded.patient_id == f.child.id and recorded.actor_id is None

    frozen_clock(local(zone, eighteen + timedelta(days=1)))
    again = runner.invoke(args=["caregivers", "sweep"])
    assert "age_of_majority=0" in again.output and "emails=0" in again.output
    assert len(outbox_emails()) == 2


def continuing_url(f) -> str:
    return f"/patients/{f.child.id}/caregivers/grants/{f.grant.id}/continuing-authority"


def test_continuing_authority_keeps_access_after_18(family, new_browser, frozen_clock, make_member):
    zone, dob = ZONES[0], BIRTH_DATES[0]
    eighteen = birthday(dob, 18)
    frozen_clock(local(zone, eighteen - timedelta(days=30), 10))
    f = family(dob=dob, zone=zone, included=["behavioral_health"])
    nurse = signed_in(new_browser, f.nurse)
    page = nurse.get(f"/patients/{f.child.id}/caregivers/team")
    assert page.status_code == 200
    assert "Record continuing authority" in page.get_data(as_text=True)

    # required; a member who is not on Leo's team gets a 404
    empty = nurse.post(continuing_url(f), {"continuing_authority": "  "})
    assert empty.status_code == 422
    assert "Enter the legal authority" in empty.get_data(as_text=True)
    outsider = signed_in(new_browser, db.session.get(User, make_member().user_id))
    assert outsider.get(continuing_url(f)).status_code == 404
    assert (
        outsider.post(
            continuing_url(f),
            {"continuing_authority": "Court guardian"},
            form_url="/auth/account",
        ).status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get(CaregiverGrant, f.grant.id).continuing_authority is None

    saved = nurse.post(
        continuing_url(f),
        {"continuing_authority": "Court-appointed guardian of an adult, case 24-GU-0113"},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    grant = db.session.get(CaregiverGrant, f.grant.id)
    assert grant.continuing_authority.startswith("Court-appointed")
    assert grant.continuing_authority_recorded_by_id == f.nurse.id

    frozen_clock(local(zone, eighteen, 10))
    rosa = signed_in(new_browser, f.rosa)
    assert rosa.get(f"/patients/{f.child.id}").status_code == 200
    # an adult's legal representative sees what the grant includes
    assert counseling_visible(rosa, f.child)
    assert lifecycle.sweep().came_of_age == 0
    db.session.commit()
    assert db.session.get(CaregiverGrant, f.grant.id).ended_reason is None


# ------------------------------------------------------------------ the teen's private thread


def start_thread(browser, patient, subject, **extra):
    data = {"topic": "other", "subject": subject, "body": "Just between us."}
    data.update(extra)
    return browser.post(f"/patients/{patient.id}/messages/new", data)


def thread_id(subject) -> int:
    return db.session.scalar(sa.select(Thread.id).where(Thread.subject == subject))


def test_teen_private_thread_is_invisible_to_the_guardian(family, new_browser, frozen_clock):
    dob = BIRTH_DATES[0]
    frozen_clock(local(ZONES[0], birthday(dob, 15), 12))
    # Rosa has every scope and every category: the private thread stays hidden anyway.
    f = family(
        dob=dob,
        teen_login=True,
        included=["behavioral_health", "substance_use", "sexual_reproductive"],
    )
    leo = signed_in(new_browser, f.teen)
    form = leo.get(f"/patients/{f.child.id}/messages/new").get_data(as_text=True)
    assert "Private: only me and my care team" in form
    assert start_thread(leo, f.child, "Feeling stressed", private="y").status_code == 302
    assert start_thread(leo, f.child, "Soccer physical form").status_code == 302
    private_id, open_id = thread_id("Feeling stressed"), thread_id("Soccer physical form")
    assert db.session.get(Thread, private_id).sensitivity is Sensitivity.CONFIDENTIAL
    assert db.session.get(Thread, open_id).sensitivity is None

    # the team answers both; only the open thread tells Rosa
    nurse = signed_in(new_browser, f.nurse)
    team_page = nurse.get(f"/patients/{f.child.id}/messages/{private_id}")
    assert "Caregivers never see it." in team_page.get_data(as_text=True)
    for tid in (private_id, open_id):
        url = f"/patients/{f.child.id}/messages/{tid}"
        assert nurse.post(url, {"body": "Thanks, Leo."}).status_code == 302
    to_rosa = [e for e in outbox_emails() if e.to_address == "rosa@example.test"]
    assert len(to_rosa) == 1 and f"/messages/{open_id}" in to_rosa[0].body

    rosa = signed_in(new_browser, f.rosa)
    listing = rosa.get(f"/patients/{f.child.id}/messages").get_data(as_text=True)
    assert "Soccer physical form" in listing and "Feeling stressed" not in listing
    # counts and badges: two unread messages in the open thread, none from the private one
    assert "2 unread messages" in listing
    assert re.findall(r"(\d+) new</span>", listing) == ["2"]
    private_url = f"/patients/{f.child.id}/messages/{private_id}"
    assert rosa.get(private_url).status_code == 404
    assert rosa.post(private_url, {"body": "Hi"}, form_url="/auth/account").status_code == 404
    # Leo sees his private thread, marked as such
    mine = leo.get(f"/patients/{f.child.id}/messages").get_data(as_text=True)
    assert "Feeling stressed" in mine and "Private" in mine


@pytest.mark.parametrize("years", [11, 18])
def test_private_option_is_for_teens_only(make_patient, new_browser, frozen_clock, years):
    frozen_clock(datetime(2030, 6, 1, 19, tzinfo=UTC))
    patient = make_patient(dob=date(2030 - years, 1, 1))
    me = signed_in(new_browser, db.session.get(User, patient.user_id))
    form = me.get(f"/patients/{patient.id}/messages/new").get_data(as_text=True)
    assert "Private: only me and my care team" not in form
    assert start_thread(me, patient, "Question", private="y").status_code == 302
    assert db.session.get(Thread, thread_id("Question")).sensitivity is None


def test_a_caregiver_never_gets_the_private_option(family, new_browser, frozen_clock):
    dob = BIRTH_DATES[0]
    frozen_clock(local(ZONES[0], birthday(dob, 15), 12))
    f = family(dob=dob, teen_login=True)
    rosa = signed_in(new_browser, f.rosa)
    form = rosa.get(f"/patients/{f.child.id}/messages/new").get_data(as_text=True)
    assert "Private: only me and my care team" not in form
    assert start_thread(rosa, f.child, "From mom", private="y").status_code == 302
    assert db.session.get(Thread, thread_id("From mom")).sensitivity is None


def test_a_minor_invited_by_an_admin_signs_in_and_writes_privately(
    make_user, new_browser, frozen_clock
):
    frozen_clock(datetime(2030, 6, 1, 19, tzinfo=UTC))
    admin = signed_in(new_browser, make_user(Role.ADMIN))
    response = admin.post(
        "/admin/invite/patient",
        {
            "given_name": "Mia",
            "family_name": "Lee",
            "full_name": "Mia Lee",
            "date_of_birth": "2016-02-03",
            "email": "mia@example.test",
            "language": "en",
            "care_language": "en",
            "timezone": "America/Los_Angeles",
        },
    )
    assert response.status_code == 302
    [invitation] = outbox_emails()
    mia = new_browser()
    link = link_in(invitation.body)
    new_password = "my dog is called pepper"
    page = mia.open(link)
    assert mia.post(page, {"password": new_password, "confirm": new_password}).status_code == 302
    patient = db.session.scalar(sa.select(Patient).where(Patient.given_name == "Mia"))
    home = mia.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Hello, Mia" in home
    details = mia.get(f"/patients/{patient.id}").get_data(as_text=True)  # My details
    assert "14 years old" in details
    assert start_thread(mia, patient, "A private question", private="y").status_code == 302
    assert db.session.get(Thread, thread_id("A private question")).sensitivity is (
        Sensitivity.CONFIDENTIAL
    )


def test_demo_leo_has_a_private_thread_rosa_never_sees(seeded, new_browser):
    from app.demo import DEMO_PASSWORD

    leo_patient = db.session.scalar(sa.select(Patient).where(Patient.given_name == "Leo"))
    grant = db.session.scalar(
        sa.select(CaregiverGrant).where(CaregiverGrant.patient_id == leo_patient.id)
    )
    assert grant.kind is GrantKind.GUARDIAN and grant.legal_authority
    rosa = new_browser()
    rosa.login("rosa@demo.carecircle.test", DEMO_PASSWORD)
    listing = rosa.get(f"/patients/{leo_patient.id}/messages").get_data(as_text=True)
    assert "stress" not in listing
    leo = new_browser()
    leo.login("leo@demo.carecircle.test", DEMO_PASSWORD)
    mine = leo.get(f"/patients/{leo_patient.id}/messages").get_data(as_text=True)
    assert "Can I talk to someone about stress?" in mine
