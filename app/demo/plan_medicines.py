"""Demo data for issue 15, medicines: María takes metformin twice a day (08:00 and 20:00) and
James his blood thinner (09:00 and 21:00); James has an open refill request for it, waiting in
the pharmacy queue for the demo pharmacist (Dev Sharma) to answer."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import force_locale

from app.careplan.items import refills
from app.careplan.items.doses import MedicationDose
from app.careplan.items.models import ItemKind, PlanItem
from app.core.db import utcnow
from app.core.privacy import Actor, Capacity, acting_as
from app.extensions import db


def _medicine(patient, name: str) -> PlanItem | None:
    return db.session.scalar(
        sa.select(PlanItem).where(
            PlanItem.patient_id == patient.id,
            PlanItem.kind == ItemKind.MEDICATION,
            PlanItem.medication_name == name,
        )
    )


def seed(people) -> None:
    """Add the demo's medicines data (idempotent; adds and flushes, the caller commits)."""
    metformin = _medicine(people.patients["maria"], "Metformina")
    if metformin is not None and not metformin.dose_times:
        metformin.dose_times = ["08:00", "20:00"]  # "con el desayuno y la cena"

    james = people.patients["james"]
    blood_thinner = _medicine(james, "Apixaban")
    if blood_thinner is not None and not blood_thinner.dose_times:
        blood_thinner.dose_times = ["09:00", "21:00"]  # "5 mg twice a day"
    asked = blood_thinner is not None and db.session.scalar(
        sa.select(refills.RefillRequest.id).where(refills.RefillRequest.item_id == blood_thinner.id)
    )
    if blood_thinner is not None and not asked:
        user = people.users["james"]
        with (
            force_locale(user.locale or "en"),
            acting_as(Actor(user_id=user.id, capacity=Capacity.PATIENT, patient=james)),
        ):
            refills.request_refill(
                blood_thinner,
                refills.RefillInput(
                    pharmacy="Hillside Community Pharmacy",
                    note="I have 3 pills left.",
                ),
                author_id=user.id,
                capacity=Capacity.PATIENT.value,
            )
    for patient, item, missed in (
        (people.patients["maria"], metformin, {(2, 1), (5, 1)}),  # two evening doses forgotten
        (james, blood_thinner, {(4, 0)}),
    ):
        if item is not None:
            _history(patient, item, people.users[_key(people, patient)].id, missed)
    db.session.flush()


def _key(people, patient) -> str:
    return next(key for key, p in people.patients.items() if p.id == patient.id)


def _history(patient, item: PlanItem, user_id: int, missed: set[tuple[int, int]]) -> None:
    """The last six days of doses (today is left for the demo walk), but the `missed` ones
    ((days ago, slot)), so the 7-day strip on the medicine has something to say. The medicine
    has been in the plan for weeks."""
    if db.session.scalar(sa.select(MedicationDose.id).where(MedicationDose.item_id == item.id)):
        return
    item.created_at = min(item.created_at or utcnow(), utcnow() - timedelta(days=45))
    today = patient.today()
    for back in range(1, 7):
        day = today - timedelta(days=back)
        for slot, at in enumerate(item.dose_times or ["09:00"]):
            if (back, slot) in missed:
                continue
            hour, minute = (int(part) for part in at.split(":"))
            taken_at = datetime.combine(day, time(hour, minute), tzinfo=patient.zone)
            db.session.add(
                MedicationDose(
                    item_id=item.id,
                    for_date=day,
                    slot=slot,
                    taken_by_id=user_id,
                    taken_at=taken_at.astimezone(UTC) + timedelta(minutes=7),
                )
            )
