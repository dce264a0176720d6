"""Reads for the patient pages, each with explicit loading (no lazy loads in templates)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.core.audit import DENIED, AuditEvent
from app.core.pagination import Page, keyset_page
from app.extensions import db
from app.patients.models import REMINDER_KINDS, Patient, PatientPreferences
from app.team.models import CareTeamMember, Organization


def patient_for_user(user_id: int) -> Patient | None:
    return db.session.scalar(sa.select(Patient).where(Patient.user_id == user_id))


def by_member_number(member_number: str, date_of_birth) -> Patient | None:
    """The patient with this member number, if their date of birth is this one too."""
    return db.session.scalar(
        sa.select(Patient).where(
            Patient.member_number == member_number.strip(),
            Patient.date_of_birth == date_of_birth,
        )
    )


def access_log(
    patient: Patient,
    per_page: int = 25,
    actor_id: int | None = None,
    *,
    after: int | None = None,
    before: int | None = None,
) -> Page:
    """Who looked at or changed this record, newest first, without the patient's own visits
    and without refused attempts (nothing was seen; the security page lists those);
    only `actor_id`'s trail when given (e.g. one caregiver's, from "People who help me").

    A keyset page from just after (or before) an audit row of this patient: one query for the
    rows (with the actor's name, role and organization) read along the (patient_id,
    occurred_at) index, and no count, so a patient with 20,000 rows costs what one with 20
    does. A cursor row that is not this patient's is a 404.
    """
    actor = aliased(User)
    conditions = [AuditEvent.patient_id == patient.id, AuditEvent.action != DENIED]
    if actor_id is not None:
        conditions.append(AuditEvent.actor_id == actor_id)
    if patient.user_id is not None:
        conditions.append(
            sa.or_(AuditEvent.actor_id.is_(None), AuditEvent.actor_id != patient.user_id)
        )
    keys = (AuditEvent.occurred_at, AuditEvent.id)

    def keys_of(event_id):
        if event_id is None:
            return None
        found = db.session.execute(
            sa.select(*keys).where(AuditEvent.id == event_id, AuditEvent.patient_id == patient.id)
        ).first()
        if found is None:
            abort(404)
        return tuple(found)

    return keyset_page(
        sa.select(AuditEvent, actor.full_name, CareTeamMember, Organization.name)
        .where(*conditions)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(CareTeamMember, CareTeamMember.user_id == AuditEvent.actor_id)
        .outerjoin(Organization, Organization.id == CareTeamMember.organization_id),
        keys,
        per_page=per_page,
        descending=True,
        after=keys_of(after),
        before=keys_of(before),
        row_id=lambda row: row[0].id,
    )


def preferences(patient_id: int) -> PatientPreferences:
    """The patient's preferences, or unsaved defaults when they have none yet."""
    found = db.session.scalar(
        sa.select(PatientPreferences).where(PatientPreferences.patient_id == patient_id)
    )
    if found is not None:
        return found
    from datetime import time

    return PatientPreferences(
        patient_id=patient_id,
        contact_channels=["sms", "portal"],
        quiet_start=time(20, 0),
        quiet_end=time(9, 0),
        reminder_lead_hours=[48, 2],
        detailed_texts=False,
        reminder_kinds=list(REMINDER_KINDS),
        large_text=False,
        high_contrast=False,
        screen_reader=False,
    )
