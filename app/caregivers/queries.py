"""Reads of caregiver grants. "In force" is decided in one place: `grants_in_force`."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.caregivers.models import CaregiverGrant
from app.caregivers.rules import ended_by_age
from app.core.db import utcnow
from app.extensions import db


def grants_in_force(
    *,
    patient_id: int | None = None,
    caregiver_id: int | None = None,
    where=(),
    now: datetime | None = None,
    newest_first: bool = False,
) -> list[CaregiverGrant]:
    """Grants in force at `now`: current by their dates (in SQL) and not ended by the age
    rules (the 18th birthday counts at once; the daily sweep only records it). Each grant
    comes with its patient and caregiver loaded, in one query. `where` adds SQL conditions.
    """
    now = now or utcnow()
    query = (
        sa.select(CaregiverGrant)
        .where(CaregiverGrant.current_at(now), *where)
        .options(joinedload(CaregiverGrant.patient), joinedload(CaregiverGrant.caregiver))
        .order_by(CaregiverGrant.id.desc() if newest_first else CaregiverGrant.id)
    )
    if patient_id is not None:
        query = query.where(CaregiverGrant.patient_id == patient_id)
    if caregiver_id is not None:
        query = query.where(CaregiverGrant.caregiver_id == caregiver_id)
    return [
        grant for grant in db.session.scalars(query) if not ended_by_age(grant, grant.patient, now)
    ]


def current_grant(
    caregiver_id: int, patient_id: int, now: datetime | None = None
) -> CaregiverGrant | None:
    """The caregiver's newest grant for this patient that is in force at `now`."""
    found = grants_in_force(
        caregiver_id=caregiver_id, patient_id=patient_id, now=now, newest_first=True
    )
    return found[0] if found else None
