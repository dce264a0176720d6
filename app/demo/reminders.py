"""The demo's text reminders: María's twice-daily metformin reminder, with her recorded consent
to more texts than the default cap; then the next day of reminders, planned as the worker
would."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from app.careplan.items.models import PlanItem
from app.demo.accounts import Demo
from app.extensions import db
from app.reminders.forms import MORE_TEXTS_WORDING
from app.reminders.models import ReminderSchedule, TextConsent
from app.reminders.recurring import plan_schedule


def seed(demo: Demo) -> None:
    maria, maria_user = demo.patients["maria"], demo.users["maria"]
    metformin = db.session.scalar(
        sa.select(PlanItem).where(
            PlanItem.patient_id == maria.id, PlanItem.medication_name == "Metformina"
        )
    )
    if metformin is None or db.session.scalar(
        sa.select(ReminderSchedule.id).where(ReminderSchedule.patient_id == maria.id)
    ):
        return
    # She chose a text at breakfast and at dinner.
    db.session.add(
        ReminderSchedule(
            patient_id=maria.id,
            plan_item_id=metformin.id,
            times=["08:00", "18:00"],
            updated_by_id=maria_user.id,
        )
    )
    # Twice a day is more than the default cap, so she agreed to more texts (words kept).
    with force_locale("es"):
        wording = str(
            MORE_TEXTS_WORDING % {"per_day": current_app.config["REMINDER_CAP_OPTED_IN_PER_DAY"]}
        )
    db.session.add(
        TextConsent(
            patient_id=maria.id,
            given=True,
            wording=wording,
            locale="es",
            recorded_by_id=maria_user.id,
        )
    )
    db.session.flush()


def plan_next_day(demo: Demo) -> None:
    """The next hours of chosen-time reminders of the demo patients, as the worker plans them.

    Each schedule is planned in the seed's own transaction (the worker's `plan_due` commits
    and may skip a round while another worker plans, which a seed must never do).
    """
    ids = [p.id for p in demo.patients.values()]
    for schedule in db.session.scalars(
        sa.select(ReminderSchedule).where(
            ReminderSchedule.patient_id.in_(ids), ReminderSchedule.active
        )
    ):
        plan_schedule(schedule)
