"""Issue 6's "done when", on the demo data through the running app: James invites Ana with
plan and messages only; she accepts, sees his plan without his behavioral health items, and
writes a message the team sees as "Ana Carter, for Jim"; James ends her access and her open
session loses it on the next click. Rosa sees her 15-year-old's appointments but none of his
confidential care, and Leo has a private thread with his team."""

from __future__ import annotations

import sqlalchemy as sa

from app.caregivers.models import CaregiverGrant
from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.messaging.models import Thread
from app.patients.models import Patient
from tests.fixtures.invitations import prove
from tests.fixtures.mail import link_in, outbox_emails


def signed_in(new_browser, who):
    b = new_browser()
    assert b.login(f"{who}@demo.carecircle.test", DEMO_PASSWORD).status_code == 302
    return b


def patient(given):
    return db.session.scalar(sa.select(Patient).where(Patient.given_name == given))


def test_james_invites_ana_then_ends_her_access(app, seeded, new_browser):
    james = patient("James")
    base = f"/patients/{james.id}"
    jim = signed_in(new_browser, "james")
    ana = signed_in(new_browser, "ana")  # she already helps him: the new invitation replaces it

    invite = {
        "full_name": "Ana Carter",
        "email": "ana@demo.carecircle.test",
        "mobile_phone": "",
        "relationship": "daughter",
        "scopes": ["plan", "messages"],
        "ends_on": "",
    }
    assert jim.post(f"{base}/caregivers/invite", invite).status_code == 302
    link = link_in(outbox_emails()[-1].body)
    page = ana.open(link)
    assert prove(ana, page)  # the code emailed to her, as the link was
    assert "Accept as Ana Carter" in ana.get(page).get_data(as_text=True)
    assert ana.post(page, {}).status_code == 302
    [grant] = db.session.scalars(
        sa.select(CaregiverGrant).where(
            CaregiverGrant.patient_id == james.id, CaregiverGrant.revoked_at.is_(None)
        )
    ).all()
    assert sorted(grant.scopes) == ["messages", "plan"] and grant.sensitive_categories == []

    plan = ana.get(f"{base}/plan").get_data(as_text=True)
    assert "Take your blood thinner" in plan
    assert "Grief support session" not in plan
    assert ana.get(f"{base}/reminders").status_code == 404  # not in her scopes

    new = ana.post(
        f"{base}/messages/new",
        {
            "topic": "medication",
            "subject": "Dad's pill box",
            "body": "Should the pill box be refilled on Sunday?",
        },
    )
    assert new.status_code == 302
    thread_url = new.headers["Location"]
    nurse = signed_in(new_browser, "nurse")
    assert "Ana Carter, for Jim" in nurse.get(thread_url).get_data(as_text=True)

    end = f"{base}/caregivers/{grant.id}/end"
    assert jim.post(end, {}, form_url=end).status_code == 302
    for url in (f"{base}/plan", thread_url, base):
        assert ana.get(url).status_code == 404, url  # her open session, next click
    assert f"{base}" not in ana.get("/caregivers/").get_data(as_text=True)


def test_rosa_sees_leos_appointments_but_not_his_confidential_care(app, seeded, new_browser):
    leo = patient("Leo")
    base = f"/patients/{leo.id}"
    rosa = signed_in(new_browser, "rosa")
    plan = rosa.get(f"{base}/plan").get_data(as_text=True)
    # Rosa reads Spanish: the team translated the dental visit for her (issue 16).
    assert "Limpieza dental y selladores" in plan
    assert "Dental cleaning and sealants" not in plan
    assert "Counseling check-in" not in plan
    private = db.session.scalar(
        sa.select(Thread).where(Thread.subject == "Can I talk to someone about stress?")
    )
    assert "stress" not in rosa.get(f"{base}/messages").get_data(as_text=True)
    assert rosa.get(f"{base}/messages/{private.id}").status_code == 404

    teen = signed_in(new_browser, "leo")
    mine = teen.get(f"{base}/messages/{private.id}")
    assert mine.status_code == 200
    assert "Only you and your care team see this conversation." in mine.get_data(as_text=True)
    assert "Counseling check-in" in teen.get(f"{base}/plan").get_data(as_text=True)
