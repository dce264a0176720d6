"""Domains hear about each other through the signals in core.signals, and only through them:
a plan-item write reaches the reminders by `plan_item_changed`, a new number by
`patient_contact_changed`, an ended grant by `grant_ended`."""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.caregivers import lifecycle
from app.careplan.items import services
from app.careplan.items.models import ItemKind
from app.careplan.items.services import ItemInput
from app.core import signals
from app.extensions import db
from app.patients.models import PatientPreferences
from app.reminders import replan
from app.texting.models import OutboundSms
from tests.fixtures.plan import add

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
OLD_PHONE = "+15035550101"
NEW_PHONE = "+15035550177"
CAREGIVER_PHONE = "+15035550188"


@pytest.fixture
def maria(frozen_clock, make_patient, make_org):
    frozen_clock(NOW)
    patient = make_patient(given="María", family="López", mobile_phone=OLD_PHONE, language="es")
    db.session.add(
        PatientPreferences(
            patient_id=patient.id, contact_channels=["sms", "portal"], reminder_lead_hours=[48]
        )
    )
    db.session.commit()
    return patient, make_org()


def appointment(patient, org, days: int):
    return add(
        patient,
        org,
        kind=ItemKind.APPOINTMENT,
        title="Check-up",
        starts_at=NOW + timedelta(days=days),
        location="Riverbend Family Clinic",
    )


def waiting(**where) -> list[OutboundSms]:
    db.session.expire_all()
    conditions = [getattr(OutboundSms, k) == v for k, v in where.items()]
    return list(
        db.session.scalars(
            sa.select(OutboundSms)
            .where(*conditions, OutboundSms.status == "queued")
            .order_by(OutboundSms.id)
        )
    )


@contextmanager
def disconnected(signal, receiver):
    signal.disconnect(receiver)
    try:
        yield
    finally:
        signal.connect(receiver)


def test_a_plan_item_write_reaches_the_reminders_only_through_its_signal(maria):
    patient, org = maria
    item = appointment(patient, org, days=5)
    [first] = waiting(plan_item_id=item.id)
    assert first.send_after == item.starts_at - timedelta(hours=48)

    with disconnected(signals.plan_item_changed, replan._on_plan_item_changed):
        services.update_item(
            item, replace(ItemInput.from_item(item), starts_at=NOW + timedelta(days=7))
        )
        db.session.commit()
    # Nobody listened: the reminder still points at the old time.
    assert [r.send_after for r in waiting(plan_item_id=item.id)] == [first.send_after]

    services.update_item(
        item, replace(ItemInput.from_item(item), starts_at=NOW + timedelta(days=9))
    )
    db.session.commit()
    [moved] = waiting(plan_item_id=item.id)
    assert moved.send_after == NOW + timedelta(days=9) - timedelta(hours=48)


def test_a_new_number_drops_the_texts_waiting_for_the_old_one(maria, app):
    from app.reminders import verification

    patient, org = maria
    item = appointment(patient, org, days=5)
    assert [r.to_number for r in waiting(plan_item_id=item.id)] == [OLD_PHONE]
    with app.test_request_context():
        verification.start(patient, NEW_PHONE)
        [text] = waiting(to_number=NEW_PHONE, purpose="verify")
        verification.check(patient, re.search(r"\d{6}", text.body).group(0))
        db.session.commit()
    assert [r.to_number for r in waiting(plan_item_id=item.id)] == [NEW_PHONE]
    # only the notice that the number changed still goes to the old one
    assert [r.purpose for r in waiting(to_number=OLD_PHONE)] == ["number_changed"]


def test_an_ended_grant_drops_the_caregivers_waiting_texts(maria, make_user, grant):
    patient, org = maria
    ana = make_user(Role.CAREGIVER, name="Ana", mobile_phone=CAREGIVER_PHONE)
    ana.mobile_phone_verified_at = NOW - timedelta(days=3)
    row = grant(patient, ana, scopes=["reminders"], ends_at=NOW + timedelta(days=1))
    appointment(patient, org, days=5)
    assert len(waiting(user_id=ana.id)) == 1

    lifecycle.sweep(NOW + timedelta(days=2))  # past the grant's end: the sweep ends it
    db.session.commit()

    assert waiting(user_id=ana.id) == []
    assert len(waiting(to_number=OLD_PHONE)) == 1  # the patient's own stays
    db.session.refresh(row)
    assert row.ended_reason == "expired"


def test_every_signal_is_documented_with_its_senders_and_receivers():
    for name in (
        "plan_item_changed",
        "goal_changed",
        "thread_answered",
        "grant_changed",
        "grant_ended",
        "patient_contact_changed",
    ):
        signal = getattr(signals, name)
        assert "Sent by" in signal.__doc__, name
