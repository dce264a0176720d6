"""Reminders follow what they are about: the receivers of the domain signals.

- `plan_item_changed`: an appointment moved, cancelled or closed, a medicine or task stopped
  or done: its waiting texts are dropped and planned again (`replan_item`).
- `goal_changed`: a goal on hold or finished gets no more check-in texts (`replan_goal`).
- `patient_contact_changed`: texts waiting for the old number are dropped and everything is
  planned again for the new one (`replan_patient`).
- `grant_changed`, `grant_ended`: texts waiting for a caregiver who may no longer get them are
  dropped.

Receivers only add to the sender's transaction (see core.signals).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.caregivers.models import CaregiverGrant, Scope
from app.careplan.goals.models import Goal
from app.careplan.items.models import CLOSED_STATUSES, ItemKind, PlanItem
from app.core import signals
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import Patient
from app.reminders.models import ReminderSchedule
from app.reminders.recurring import (
    TIMED_KINDS,
    forget_planned,
    plan_schedule,
    replan_schedule,
    schedule_for_goal,
    schedule_for_item,
)
from app.reminders.scheduling import drop_waiting, replan_appointment
from app.texting.models import OutboundSms


def replan_item(item: PlanItem, now: datetime | None = None) -> int:
    """Drop this item's unsent reminders and plan them again. Returns how many are planned."""
    if item.kind is ItemKind.APPOINTMENT:
        return replan_appointment(item, now)
    if item.kind not in TIMED_KINDS:
        return 0
    drop_waiting(OutboundSms.plan_item_id == item.id)
    schedule = schedule_for_item(item.id)
    return plan_schedule(schedule, now) if schedule is not None else 0


def replan_goal(goal: Goal, now: datetime | None = None) -> int:
    schedule = schedule_for_goal(goal.id)
    return replan_schedule(schedule, now) if schedule is not None else 0


def replan_patient(patient: Patient, now: datetime | None = None) -> None:
    """Every upcoming appointment and every chosen-time schedule of the patient, again."""
    now = now or utcnow()
    appointments = db.session.scalars(
        sa.select(PlanItem).where(
            PlanItem.patient_id == patient.id,
            PlanItem.kind == ItemKind.APPOINTMENT,
            PlanItem.status.not_in(list(CLOSED_STATUSES)),
            PlanItem.starts_at > now,
        )
    ).all()
    for item in appointments:
        replan_appointment(item, now)
    for schedule in db.session.scalars(
        sa.select(ReminderSchedule).where(ReminderSchedule.patient_id == patient.id)
    ).all():
        replan_schedule(schedule, now)


def drop_for_caregiver(grant: CaregiverGrant) -> None:
    """Texts still waiting for this caregiver about this patient are not sent after all."""
    db.session.execute(
        sa.delete(OutboundSms).where(
            OutboundSms.patient_id == grant.patient_id,
            OutboundSms.user_id == grant.caregiver_id,
            OutboundSms.status == "queued",
        )
    )


# ------------------------------------------------------------------ receivers


def _on_plan_item_changed(item: PlanItem, **_kw) -> None:
    replan_item(item)


def _on_goal_changed(goal: Goal, **_kw) -> None:
    replan_goal(goal)


def _on_patient_contact_changed(patient: Patient, old_phone: str | None = None, **_kw) -> None:
    if old_phone:
        drop_waiting(OutboundSms.patient_id == patient.id, OutboundSms.to_number == old_phone)
    replan_patient(patient)


def _on_grant_changed(grant: CaregiverGrant, **_kw) -> None:
    if Scope.REMINDERS.value not in (grant.scopes or []):
        drop_for_caregiver(grant)
    else:  # a caregiver who now gets reminders: plan the patient's schedules again
        forget_planned(ReminderSchedule.patient_id == grant.patient_id)


def _on_grant_ended(grant: CaregiverGrant, **_kw) -> None:
    drop_for_caregiver(grant)


def connect() -> None:
    signals.plan_item_changed.connect(_on_plan_item_changed)
    signals.goal_changed.connect(_on_goal_changed)
    signals.patient_contact_changed.connect(_on_patient_contact_changed)
    signals.grant_changed.connect(_on_grant_changed)
    signals.grant_ended.connect(_on_grant_ended)
