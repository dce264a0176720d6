"""The demo's caregivers: Ana helps her father James; Rosa is Leo's mother."""

from __future__ import annotations

import sqlalchemy as sa

from app.caregivers.grants import grant_access
from app.caregivers.models import CaregiverGrant, GrantKind, Scope
from app.demo.accounts import Demo
from app.extensions import db


def _has_grant(patient_id: int, caregiver_id: int) -> bool:
    found = db.session.scalar(
        sa.select(CaregiverGrant.id).where(
            CaregiverGrant.patient_id == patient_id, CaregiverGrant.caregiver_id == caregiver_id
        )
    )
    return found is not None


def seed(demo: Demo) -> None:
    james, leo = demo.patients["james"], demo.patients["leo"]
    ana, rosa = demo.users["ana"], demo.users["rosa"]
    if not _has_grant(james.id, ana.id):
        grant_access(
            james,
            ana,
            relationship="daughter",
            scopes=[
                Scope.PLAN.value,
                Scope.MESSAGES.value,
                Scope.REMINDERS.value,
                Scope.APPOINTMENTS.value,
                Scope.DECISIONS.value,
            ],
        )
    # Rosa is Leo's parent: the care team set her access up on a legal footing. As Leo is a
    # teen, she does not see his confidential care, whatever the grant says.
    if not _has_grant(leo.id, rosa.id):
        grant_access(
            leo,
            rosa,
            relationship="mother",
            kind=GrantKind.GUARDIAN,
            scopes=[s.value for s in Scope],
            legal_authority="Parent of a minor",
            document_reference="Birth certificate, scanned into the chart",
            granted_by_id=demo.members["nurse"].user_id,
        )
