"""Demo data for issue 15, medicines: María takes metformin twice a day (08:00 and 20:00) and
James his blood thinner (09:00 and 21:00); James has an open refill request for it, waiting in
the pharmacy queue for the demo pharmacist (Dev Sharma) to answer."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale

from app.careplan.items import refills
from app.careplan.items.models import ItemKind, PlanItem
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
    db.session.flush()
