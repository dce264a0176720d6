"""The patient stays in control: what each caregiver may do and see, changes and ending that
count from the caregiver's next click, and the trail of what they looked at."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.caregivers.models import CaregiverGrant
from app.core.db import utcnow
from app.core.privacy import Sensitivity
from app.extensions import db
from app.texting.models import OutboundSms
from tests.fixtures.browser import signed_in
from tests.fixtures.invitations import accept_as_new, invite
from tests.fixtures.mail import link_in, outbox_emails
from tests.fixtures.plan import add


@pytest.fixture
def james(make_patient):
    return make_patient(given="James", family="Walker", preferred_name="Jim")


@pytest.fixture
def james_browser(james, new_browser):
    return signed_in(new_browser, db.session.get(User, james.user_id))


@pytest.fixture
def ana(make_user):
    return make_user(Role.CAREGIVER, name="Ana Walker", email="ana@example.test")


def edit(browser, patient, grant, **data):
    url = f"/patients/{patient.id}/caregivers/{grant.id}/edit"
    payload = {"scopes": [], "sensitive_categories": [], "ends_on": ""}
    payload.update(data)
    return browser.post(url, payload, form_url=url)


def end_access(browser, patient, grant):
    url = f"/patients/{patient.id}/caregivers/{grant.id}/end"
    return browser.post(url, {}, form_url=url)


def test_caregiver_can_do_what_the_patient_chose_and_nothing_more(
    james, james_browser, new_browser
):
    invite(james_browser, james, scopes=["plan", "messages"])
    ana_browser, response = accept_as_new(new_browser, link_in(outbox_emails()[0].body))
    assert response.status_code == 302
    base = f"/patients/{james.id}"
    for url in (base, f"{base}/plan", f"{base}/today", f"{base}/messages"):
        assert ana_browser.get(url).status_code == 200, url
    # Not chosen: taking part in decisions, goals and preferences, the access log, managing.
    assert (
        ana_browser.post(
            f"{base}/decisions/1/preference", {"preferred_option": "1"}, form_url=f"{base}/plan"
        ).status_code
        == 404
    )
    for url in (
        f"{base}/goals/new",
        f"{base}/preferences/edit",
        f"{base}/access-log",
        f"{base}/caregivers",
        f"{base}/caregivers/invite",
    ):
        assert ana_browser.get(url).status_code == 404, url


def test_sensitive_items_stay_hidden_unless_the_patient_includes_them(
    james, james_browser, new_browser, ana, grant, make_org
):
    org = make_org()
    add(james, org, title="Walk after lunch")
    add(james, org, title="Counseling group", sensitivity=Sensitivity.BEHAVIORAL_HEALTH)
    add(james, org, title="Clinic for recovery", sensitivity=Sensitivity.SUBSTANCE_USE)
    row = grant(james, ana, scopes=["plan"])
    b = signed_in(new_browser, ana)
    plan = b.get(f"/patients/{james.id}/plan").get_data(as_text=True)
    assert "Walk after lunch" in plan
    assert "Counseling group" not in plan and "Clinic for recovery" not in plan

    assert (
        edit(
            james_browser, james, row, scopes=["plan"], sensitive_categories=["behavioral_health"]
        ).status_code
        == 302
    )
    plan = b.get(f"/patients/{james.id}/plan").get_data(as_text=True)
    assert "Counseling group" in plan
    assert "Clinic for recovery" not in plan


def test_a_change_counts_from_the_caregivers_next_click(
    james, james_browser, new_browser, ana, grant
):
    row = grant(james, ana, scopes=["plan", "messages"])
    b = signed_in(new_browser, ana)
    assert b.get(f"/patients/{james.id}/plan").status_code == 200

    form = james_browser.get(f"/patients/{james.id}/caregivers/{row.id}/edit")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="plan"', html)  # filled in with today's access
    assert not re.search(r'<input checked[^>]*value="behavioral_health"', html)
    response = edit(james_browser, james, row, scopes=["messages"])
    assert response.status_code == 302

    assert b.get(f"/patients/{james.id}/plan").status_code == 404  # the same open session
    assert b.get(f"/patients/{james.id}/messages").status_code == 200
    [email] = outbox_emails()
    assert email.to_address == ana.email
    assert email.subject == "Your access to Jim's record changed"
    assert "plan" not in email.body.lower() and "message" not in email.body.lower()


def test_an_end_date_is_the_last_day_of_access_and_cannot_be_in_the_past(
    james, james_browser, ana, grant, frozen_clock
):
    frozen_clock(datetime(2026, 3, 2, 18, 0, tzinfo=UTC))
    james_browser.confirm()  # the clock moved: the sign-in is no longer fresh
    row = grant(james, ana, scopes=["plan"])
    response = edit(james_browser, james, row, scopes=["plan"], ends_on="2026-03-01")
    assert response.status_code == 422
    assert "The last day cannot be in the past." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CaregiverGrant, row.id).ends_at is None

    assert edit(james_browser, james, row, scopes=["plan"], ends_on="2026-04-01").status_code == 302
    db.session.expire_all()
    # Access lasts through April 1 where James lives: it ends at the midnight after it
    # (Pacific time, daylight saving by then).
    assert db.session.get(CaregiverGrant, row.id).ends_at == datetime(2026, 4, 2, 7, tzinfo=UTC)
    page = james_browser.get(f"/patients/{james.id}/caregivers").get_data(as_text=True)
    assert "Last day of access: April 1, 2026" in page
    # Today is a valid last day: access ends tonight.
    assert edit(james_browser, james, row, scopes=["plan"], ends_on="2026-03-02").status_code == 302
    db.session.expire_all()
    assert db.session.get(CaregiverGrant, row.id).ends_at == datetime(2026, 3, 3, 8, tzinfo=UTC)


def test_ending_access_asks_first_then_counts_from_the_next_click(
    james, james_browser, new_browser, ana, grant, make_patient
):
    row = grant(james, ana, scopes=["plan", "reminders"])
    other = make_patient(given="Maria", family="Lopez")
    grant(other, ana, scopes=["plan"])
    b = signed_in(new_browser, ana)
    assert b.get(f"/patients/{james.id}").status_code == 200

    def text(patient, user_id, status="queued"):
        return OutboundSms(
            to_number="+15035550142",
            user_id=user_id,
            patient_id=patient.id,
            purpose="appointment",
            locale="en",
            body="CareCircle: you have an appointment soon.",
            status=status,
        )

    mine_queued = text(james, ana.id)
    mine_sent = text(james, ana.id, status="stored")
    james_own = text(james, james.user_id)
    for_maria = text(other, ana.id)
    db.session.add_all([mine_queued, mine_sent, james_own, for_maria])
    db.session.commit()
    kept = [mine_sent.id, james_own.id, for_maria.id]
    gone = mine_queued.id

    confirm = james_browser.get(f"/patients/{james.id}/caregivers/{row.id}/end")
    assert confirm.status_code == 200
    assert "Yes, end access now" in confirm.get_data(as_text=True)
    assert b.get(f"/patients/{james.id}").status_code == 200  # asking changed nothing

    response = end_access(james_browser, james, row)
    assert response.status_code == 302
    assert b.get(f"/patients/{james.id}").status_code == 404
    assert b.get(f"/patients/{james.id}/plan").status_code == 404
    assert b.get(f"/patients/{other.id}").status_code == 200  # Maria's access is untouched

    db.session.expire_all()
    remaining = set(db.session.scalars(sa.select(OutboundSms.id)))
    assert gone not in remaining and set(kept) <= remaining
    [email] = outbox_emails()
    assert email.to_address == ana.email
    assert email.subject == "Your access to Jim's record ended"

    page = james_browser.get(f"/patients/{james.id}/caregivers").get_data(as_text=True)
    assert "Access that ended" in page and "Ana Walker" in page
    assert f"/caregivers/{row.id}/end" not in page
    # Ending twice, or changing an ended grant: nothing left to act on.
    assert end_access(james_browser, james, row).status_code == 404
    assert james_browser.get(f"/patients/{james.id}/caregivers/{row.id}/edit").status_code == 404


def test_the_access_log_shows_one_caregivers_trail(
    james, james_browser, new_browser, ana, grant, make_member, assign
):
    grant(james, ana, scopes=["plan"])
    nurse_member = make_member(name="Nina Patel")
    assign(james, nurse_member)
    b = signed_in(new_browser, ana)
    b.get(f"/patients/{james.id}")
    b.get(f"/patients/{james.id}/plan")
    nurse = signed_in(new_browser, db.session.get(User, nurse_member.user_id))
    nurse.get(f"/patients/{james.id}")

    helpers = james_browser.get(f"/patients/{james.id}/caregivers").get_data(as_text=True)
    trail_url = f"/patients/{james.id}/access-log?actor={ana.id}"
    assert trail_url in helpers
    page = james_browser.get(trail_url).get_data(as_text=True)
    assert "Showing only what Ana Walker looked at and did." in page
    assert "Your care plan" in page and "Your summary page" in page
    assert "Nina Patel" not in page
    everyone = james_browser.get(f"/patients/{james.id}/access-log").get_data(as_text=True)
    assert "Nina Patel" in everyone and "Ana Walker" in everyone


def test_the_access_log_filter_reveals_no_stranger(james, james_browser, make_user):
    stranger = make_user(Role.CAREGIVER, name="Somebody Else")
    page = james_browser.get(f"/patients/{james.id}/access-log?actor={stranger.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Somebody Else" not in html
    assert "Nothing is recorded for this person." in html


def test_people_page_costs_the_same_queries_however_many_helpers(
    james, james_browser, make_user, grant, count_queries
):
    def add_helpers(n):
        for i in range(n):
            helper = make_user(Role.CAREGIVER)
            grant(james, helper, scopes=["plan"], granted_by_id=james.user_id)
            ended = make_user(Role.CAREGIVER)
            grant(james, ended, scopes=["plan"], revoked_at=utcnow())
            invite(james_browser, james, email=f"invitee{n}-{i}@example.test")

    url = f"/patients/{james.id}/caregivers"
    add_helpers(1)
    james_browser.get(url)
    with count_queries() as one:
        assert james_browser.get(url).status_code == 200
    add_helpers(4)
    with count_queries() as five:
        html = james_browser.get(url).get_data(as_text=True)
    assert html.count("Cancel invitation") == 5
    assert five.count == one.count


def test_care_team_sees_who_helps_but_only_the_patient_manages(
    james, new_browser, ana, grant, make_member, assign
):
    row = grant(james, ana, scopes=["plan"])
    member = make_member()
    assign(james, member)
    b = signed_in(new_browser, db.session.get(User, member.user_id))
    page = b.get(f"/patients/{james.id}/caregivers")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ana Walker" in html and "Invite someone" not in html
    assert b.get(f"/patients/{james.id}/caregivers/{row.id}/edit").status_code == 404
    assert end_access(b, james, row).status_code == 404


def test_a_grant_the_care_team_set_up_is_not_changed_from_here(james, james_browser, ana, grant):
    row = grant(james, ana, scopes=["plan"], legal_authority="Health care power of attorney")
    page = james_browser.get(f"/patients/{james.id}/caregivers").get_data(as_text=True)
    assert "Health care power of attorney" in page
    assert f"/caregivers/{row.id}/edit" not in page
    assert james_browser.get(f"/patients/{james.id}/caregivers/{row.id}/edit").status_code == 404
    assert end_access(james_browser, james, row).status_code == 404


def test_another_patients_grant_is_not_found(
    james, james_browser, ana, grant, make_patient, frozen_clock
):
    frozen_clock(datetime(2026, 3, 2, 18, 0, tzinfo=UTC))
    other = make_patient(given="Maria", family="Lopez")
    theirs = grant(other, ana, scopes=["plan"])
    james_browser.confirm()  # the clock moved: the sign-in is no longer fresh
    assert james_browser.get(f"/patients/{james.id}/caregivers/{theirs.id}/edit").status_code == 404
    assert end_access(james_browser, james, theirs).status_code == 404
    db.session.expire_all()
    assert db.session.get(CaregiverGrant, theirs.id).is_current(
        datetime(2026, 3, 2, 18, 0, tzinfo=UTC) + timedelta(seconds=1)
    )
