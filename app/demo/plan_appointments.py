"""Demo data for issue 15, appointments: every demo appointment has the place's phone ("Call"),
and the counseling visits are by video (James's grief support session and María's "Sesión de
consejería" get a join link, shown from 15 minutes before). María's diabetes check-up
(app/demo/plan.py) is tomorrow on her clock, for "Confirm" and "Add to calendar" on Home."""

from __future__ import annotations

import sqlalchemy as sa

from app.careplan.items.models import ItemKind, PlanItem
from app.extensions import db

#: The place's phone, by the start of the appointment's location.
PHONES = {
    "Riverbend Family Clinic": "+15035550111",
    "Cascade Behavioral Health": "+15035550121",
    "Salem Heart and Vascular": "+15035550161",
    "Valley Smiles Dental": "+15035550151",
}

#: Video visits: (patient, title) -> join link (example.org: never a real meeting).
VIDEO = {
    ("james", "Grief support session"): "https://video.example.org/join/cbh-grief-4821",
    ("maria", "Sesión de consejería"): "https://video.example.org/join/cbh-consejo-1937",
}


def seed(people) -> None:
    """Add the demo's appointments data (idempotent; adds and flushes, the caller commits)."""
    patient_ids = {patient.id: name for name, patient in people.patients.items()}
    appointments = db.session.scalars(
        sa.select(PlanItem).where(
            PlanItem.patient_id.in_(list(patient_ids)), PlanItem.kind == ItemKind.APPOINTMENT
        )
    )
    for item in appointments:
        if item.location_phone is None:
            item.location_phone = next(
                (
                    phone
                    for place, phone in PHONES.items()
                    if (item.location or "").startswith(place)
                ),
                None,
            )
        link = VIDEO.get((patient_ids[item.patient_id], item.title))
        if link and item.video_url is None:
            item.video_url = link
    db.session.flush()
