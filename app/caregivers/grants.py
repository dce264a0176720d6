"""Giving a caregiver access: the one way a grant is made, whoever sets it up.

The patient's invitation (`invitations.accept`), the care team's legal grant (`team_views`) and
an administrator's invitation all call `grant_access`. An end date means one thing everywhere:
the last day of access, in the patient's calendar; access ends at the midnight after it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.auth.models import User
from app.caregivers.labels import relation_from_words
from app.caregivers.models import CaregiverGrant, GrantKind, Relation
from app.core import audit
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import Patient


def end_of_access(patient: Patient, last_day: date | None) -> datetime | None:
    """When access with this last day ends: the patient's midnight after it (None: no end)."""
    if last_day is None:
        return None
    return datetime.combine(last_day + timedelta(days=1), datetime.min.time(), patient.zone)


def last_day(patient: Patient, ends_at: datetime | None) -> date | None:
    """The last day of access as the patient's calendar shows it (the inverse of
    `end_of_access`)."""
    if ends_at is None:
        return None
    return patient.today(ends_at - timedelta(microseconds=1))


def grant_access(
    patient: Patient,
    caregiver: User,
    *,
    relationship: str,
    scopes,
    relation: Relation | None = None,
    categories=(),
    ends_at: datetime | None = None,
    kind: GrantKind = GrantKind.DELEGATE,
    legal_authority: str | None = None,
    document_reference: str | None = None,
    granted_by_id: int | None = None,
    audit_action: str = "create",
    actor_id: int | None = None,
    capacity: str | None = None,
) -> CaregiverGrant:
    """Give `caregiver` exactly this access to `patient`, from now.

    A new grant replaces what this person could do before for the same patient (their current
    grants end now). Audited as `audit_action` by the current actor unless another is given.
    """
    now = utcnow()
    db.session.execute(
        sa.update(CaregiverGrant)
        .where(
            CaregiverGrant.caregiver_id == caregiver.id,
            CaregiverGrant.patient_id == patient.id,
            CaregiverGrant.current_at(now),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    grant = CaregiverGrant(
        patient_id=patient.id,
        caregiver_id=caregiver.id,
        # The choice (from the form, or read from the words: "daughter") and the words, kept for
        # "Other (say who)".
        relation=relation if relation is not None else relation_from_words(relationship),
        relationship_label=relationship,
        kind=kind,
        scopes=sorted(set(scopes)),
        sensitive_categories=sorted(set(categories)),
        legal_authority=legal_authority or None,
        document_reference=document_reference or None,
        granted_by_id=granted_by_id,
        starts_at=now,
        ends_at=ends_at,
    )
    db.session.add(grant)
    db.session.flush()
    audit.record(
        action=audit_action,
        resource="caregivers.grant",
        resource_id=grant.id,
        patient_id=patient.id,
        actor_id=actor_id,
        capacity=capacity,
    )
    return grant
