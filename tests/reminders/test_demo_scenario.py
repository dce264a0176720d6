"""The issue's "done when", through the running app on the demo data: an appointment the
nurse adds for María tomorrow gives a Spanish reminder at the right local time in the outbox;
a signed "C" confirms that appointment; STOP stops every further text to her number."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from app.careplan.items.models import PlanItem
from app.core.db import utcnow
from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.patients.models import Patient
from app.reminders.worker import plan_and_send
from app.team.models import Organization
from app.texting.models import OutboundSms

TOKEN = "demo-auth-token-0123456789abcdef"


def signed(client, body, sender, sid):
    params = {"MessageSid": sid, "From": sender, "To": "+15035550199", "Body": body}
    signature = RequestValidator(TOKEN).compute_signature(
        "http://carecircle.test/sms/inbound", params
    )
    return client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})


def test_maria_tomorrow_confirm_and_stop(app, seeded, new_browser, client, frozen_clock):
    app.config["TWILIO_AUTH_TOKEN"] = TOKEN
    maria = db.session.scalar(sa.select(Patient).where(Patient.given_name == "María"))
    zone = ZoneInfo(maria.timezone)
    tomorrow = (utcnow().astimezone(zone) + timedelta(days=1)).date()
    clinic = db.session.scalar(
        sa.select(Organization).where(Organization.name == "Riverbend Family Clinic")
    )

    nurse = new_browser()
    nurse.login("nurse@demo.carecircle.test", DEMO_PASSWORD)
    form = {
        "title": "Revisión de la vista",
        "area": "physical_health",
        "status": "active",
        "discipline": "primary_care",
        "source_organization": clinic.id,
        "owner": "patient",
        "sensitivity": "",
        "starts_at": f"{tomorrow.isoformat()}T16:00",
        "location": "Riverbend",
    }
    created = nurse.post(f"/patients/{maria.id}/plan/new/appointment", form)
    assert created.status_code == 302, created.get_data(as_text=True)[:500]
    item = db.session.scalar(sa.select(PlanItem).where(PlanItem.title == "Revisión de la vista"))

    # Her lead times are 48 h and 2 h: 48 h is already past, so one text at 14:00 her time.
    [reminder] = db.session.scalars(
        sa.select(OutboundSms).where(OutboundSms.plan_item_id == item.id)
    ).all()
    assert reminder.locale == "es" and reminder.status == "queued"
    assert reminder.send_after.astimezone(zone) == datetime.combine(tomorrow, time(14, 0), zone)
    assert reminder.body.startswith("CareCircle: tiene una cita el ")
    assert "Revisión" not in reminder.body and "Responda C" in reminder.body

    admin = new_browser()
    admin.login("admin@demo.carecircle.test", DEMO_PASSWORD)
    delivery = admin.get("/admin/outbox").get_data(as_text=True)
    assert "Appointment reminder" in delivery and reminder.body not in delivery

    # At 14:00 her time the dispatcher sends it (outbox backend: stored for admins to read).
    frozen_clock(reminder.send_after.astimezone(UTC) + timedelta(seconds=5))
    plan_and_send()
    db.session.expire_all()
    assert db.session.get(OutboundSms, reminder.id).status == "stored"

    answer = signed(client, " c ", maria.mobile_phone, "SMdemo1")
    assert answer.status_code == 200
    assert "confirmada" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PlanItem, item.id).patient_confirmed_at is not None

    stop = signed(client, "STOP", maria.mobile_phone, "SMdemo2")
    assert "no recibirá más mensajes" in stop.get_data(as_text=True)
    waiting = db.session.scalar(
        sa.select(sa.func.count(OutboundSms.id)).where(
            OutboundSms.to_number == maria.mobile_phone, OutboundSms.status == "queued"
        )
    )
    assert waiting > 0  # her medicine reminders, planned before STOP
    frozen_clock(utcnow() + timedelta(days=3))
    plan_and_send()
    db.session.expire_all()
    after = db.session.scalars(
        sa.select(OutboundSms).where(
            OutboundSms.to_number == maria.mobile_phone,
            OutboundSms.created_at > reminder.created_at,
        )
    ).all()
    assert after and all(r.status in ("failed", "skipped") for r in after if r.id != reminder.id)
    assert not [
        r for r in after if r.status == "stored" and r.sent_at and r.sent_at > reminder.sent_at
    ]
