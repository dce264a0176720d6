"""Appointment reminders: lead times, time zones and DST, quiet hours, re-planning, opt-out,
discreet bodies, and the exact words per language (snapshot files)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.careplan.items import services
from app.careplan.items.models import ItemKind, ItemStatus, PlanItem
from app.careplan.items.services import ItemInput
from app.extensions import db
from app.patients.models import PatientPreferences
from app.reminders.replan import replan_item
from app.texting.models import OutboundSms
from tests.fixtures.plan import add

LA = ZoneInfo("America/Los_Angeles")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LA)


@pytest.fixture
def maria(make_patient, make_org):
    patient = make_patient(
        given="María",
        family="López",
        mobile_phone="+15035550101",
        language="es",
        timezone="America/Los_Angeles",
    )
    db.session.add(
        PatientPreferences(
            patient_id=patient.id,
            contact_channels=["sms", "portal"],
            reminder_lead_hours=[48, 2],
            quiet_start=time(20, 0),
            quiet_end=time(9, 0),
        )
    )
    db.session.commit()
    return {"patient": patient, "org": make_org(name="Riverbend Family Clinic")}


def appointment(maria, starts_at, **kw):
    return add(
        maria["patient"],
        maria["org"],
        kind=ItemKind.APPOINTMENT,
        title=kw.pop("title", "Diabetes check-up with Dr. Okafor"),
        starts_at=starts_at,
        location="Riverbend Family Clinic",
        **kw,
    )


def planned(item_id=None):
    db.session.expire_all()
    query = sa.select(OutboundSms).order_by(OutboundSms.send_after)
    if item_id:
        query = query.where(OutboundSms.plan_item_id == item_id)
    return list(db.session.scalars(query))


def local_times(rows):
    return [r.send_after.astimezone(LA).strftime("%a %H:%M") for r in rows]


def test_lead_times_and_quiet_hours(app, maria):
    item = appointment(maria, local(2026, 12, 10, 10, 0))  # a Thursday at 10:00
    replan_item(item, now=local(2026, 12, 1, 12, 0))
    db.session.commit()
    # 48 h before: Tuesday 10:00. 2 h before is 08:00, inside the quiet hours: moved to 09:00.
    assert local_times(planned()) == ["Tue 10:00", "Thu 09:00"]


def test_dst_change_keeps_the_absolute_lead_time(app, maria):
    """Clocks sprang forward on Sunday 8 March 2026: 48 h before Monday 10:00 PDT is
    Saturday 09:00 PST, not 10:00."""
    item = appointment(maria, local(2026, 3, 9, 10, 0))
    replan_item(item, now=local(2026, 3, 1, 12, 0))
    db.session.commit()
    rows = planned()
    assert local_times(rows)[0] == "Sat 09:00"
    assert (item.starts_at - rows[0].send_after).total_seconds() == 48 * 3600


def test_too_late_to_matter_is_dropped(app, maria):
    item = appointment(maria, local(2026, 12, 10, 9, 0))  # 2 h before is 07:00 (quiet)
    replan_item(item, now=local(2026, 12, 1, 12, 0))
    db.session.commit()
    assert local_times(planned()) == ["Tue 09:00"]  # only the 48-hour one


def test_reminders_in_the_past_are_not_planned(app, maria):
    item = appointment(maria, local(2026, 12, 10, 10, 0))
    replan_item(item, now=local(2026, 12, 9, 12, 0))  # 22 h before: 48 h is gone
    db.session.commit()
    assert local_times(planned()) == ["Thu 09:00"]


def test_moving_or_cancelling_the_appointment_replans(app, maria):
    item = appointment(maria, local(2026, 12, 10, 10, 0))
    replan_item(item, now=local(2026, 12, 1, 12, 0))
    db.session.commit()
    services.update_item(
        item, replace(ItemInput.from_item(item), starts_at=local(2026, 12, 15, 14, 0))
    )
    db.session.commit()
    assert len(planned(item.id)) == 2
    assert all(r.send_after < item.starts_at for r in planned(item.id))
    assert "15" in planned(item.id)[0].body  # the new day is in the text
    services.set_status(db.session.get(PlanItem, item.id), ItemStatus.CANCELLED)
    db.session.commit()
    assert planned(item.id) == []


def test_sent_reminders_are_never_planned_again(app, maria):
    item = appointment(maria, local(2026, 12, 10, 10, 0))
    replan_item(item, now=local(2026, 12, 1, 12, 0))
    db.session.execute(
        sa.update(OutboundSms)
        .where(OutboundSms.send_after < local(2026, 12, 9))
        .values(status="accepted")
    )
    db.session.commit()
    replan_item(db.session.get(PlanItem, item.id), now=local(2026, 12, 2, 12, 0))
    db.session.commit()
    rows = planned(item.id)
    assert sorted(r.status for r in rows) == ["accepted", "queued"]


def test_no_texts_after_stop_or_for_portal_only(app, maria):
    from app.texting.optout import set_opt_out

    set_opt_out("+15035550101", True, "STOP")
    item = appointment(maria, local(2026, 12, 10, 10, 0))
    assert replan_item(item, now=local(2026, 12, 1, 12, 0)) == 0
    set_opt_out("+15035550101", False, "START")
    prefs = db.session.scalar(sa.select(PatientPreferences))
    prefs.contact_channels = ["portal"]
    assert replan_item(item, now=local(2026, 12, 1, 12, 0)) == 0


def test_demo_patient_gets_a_spanish_reminder_in_the_outbox(app, seeded):
    rows = [r for r in planned() if r.purpose == "appointment" and r.patient_id == 1]
    assert rows, "María's appointment tomorrow should have reminders"
    assert all(r.locale == "es" and "Responda C" in r.body for r in rows)
    assert all(r.send_after.astimezone(LA).time() >= time(9, 0) for r in rows)
    assert datetime.now(UTC) < max(r.send_after for r in rows)


@pytest.mark.parametrize(
    ("who", "status"),
    [("patient", 200), ("team", 200), ("caregiver", 404), ("admin", 404), ("other_team", 404)],
)
def test_history_of_texts_with_delivery_status(
    app, maria, new_browser, make_member, assign, make_user, grant, who, status
):
    from app.auth.models import Role, User

    item = appointment(maria, local(2030, 12, 10, 10, 0))
    replan_item(item, now=local(2030, 12, 1, 12, 0))
    db.session.execute(
        sa.update(OutboundSms)
        .where(OutboundSms.send_after < local(2030, 12, 9))
        .values(status="delivered")
    )
    member = make_member()
    assign(maria["patient"], member)
    caregiver = make_user(Role.CAREGIVER)
    grant(maria["patient"], caregiver, scopes=["plan", "messages", "reminders"])
    users = {
        "patient": db.session.get(User, maria["patient"].user_id),
        "team": db.session.get(User, member.user_id),
        "caregiver": caregiver,
        "admin": make_user(Role.ADMIN),
        "other_team": db.session.get(User, make_member().user_id),
    }
    b = new_browser()
    b.login(users[who].email)
    response = b.get(f"/patients/{maria['patient'].id}/texts")
    assert response.status_code == status
    if status == 200:
        html = response.get_data(as_text=True)
        assert html.count('class="text-entry"') == 2
        assert "Entregado" in html or "Delivered" in html
        assert "Esperando" in html or "Waiting to be sent" in html
