"""Reads for the patient pages, each with explicit loading (no lazy loads in templates)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from app.auth.models import User
from app.caregivers.models import CaregiverGrant
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.patients.models import REMINDER_KINDS, Patient, PatientPreferences
from app.team.models import CareTeamAssignment, CareTeamMember, Discipline, Organization


def patient_for_user(user_id: int) -> Patient | None:
    return db.session.scalar(sa.select(Patient).where(Patient.user_id == user_id))


#: Care team disciplines that would reveal a sensitive category to someone who may not see it.
DISCIPLINE_CATEGORY = {Discipline.BEHAVIORAL_HEALTH: "behavioral_health"}


def care_team(patient_id: int) -> list[CareTeamAssignment]:
    """The patient's care team, without members whose discipline alone would reveal a
    category hidden from the viewer (a caregiver who may not see behavioral health does not
    learn that a therapist is on the team)."""
    from app.careplan.changes import hidden_categories

    hidden = hidden_categories()
    concealed = [d for d, category in DISCIPLINE_CATEGORY.items() if category in hidden]
    return list(
        db.session.scalars(
            sa.select(CareTeamAssignment)
            .where(CareTeamAssignment.patient_id == patient_id)
            .where(CareTeamMember.discipline.not_in(concealed) if concealed else sa.true())
            .join(CareTeamAssignment.member)
            .join(CareTeamMember.user)
            .options(
                joinedload(CareTeamAssignment.member).joinedload(CareTeamMember.user),
                joinedload(CareTeamAssignment.member).joinedload(CareTeamMember.organization),
            )
            .order_by(CareTeamAssignment.is_coordinator.desc(), User.full_name)
        )
    )


def current_caregivers(patient_id: int) -> list[CaregiverGrant]:
    """Grants in force now: current by their dates and not ended by the age rules (which
    the daily sweep also records, but a birthday must not wait for it)."""
    from app.caregivers.policy import in_force

    now = utcnow()
    patient = db.session.get(Patient, patient_id)
    grants = db.session.scalars(
        sa.select(CaregiverGrant)
        .where(
            CaregiverGrant.patient_id == patient_id,
            CaregiverGrant.current_at(now),
        )
        .options(joinedload(CaregiverGrant.caregiver))
        .order_by(CaregiverGrant.id)
    )
    return [grant for grant in grants if in_force(grant, patient, now)]


def access_log(patient: Patient, page: int, per_page: int = 25, actor_id: int | None = None):
    """Who looked at or changed this record, newest first, without the patient's own visits;
    only `actor_id`'s trail when given (e.g. one caregiver's, from "People who help me").

    One query for the rows (with the actor's name, role and organization) and one to count.
    """
    actor = aliased(User)
    conditions = [AuditEvent.patient_id == patient.id]
    if actor_id is not None:
        conditions.append(AuditEvent.actor_id == actor_id)
    if patient.user_id is not None:
        conditions.append(
            sa.or_(AuditEvent.actor_id.is_(None), AuditEvent.actor_id != patient.user_id)
        )
    base = sa.select(AuditEvent).where(*conditions)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    rows = db.session.execute(
        sa.select(
            AuditEvent,
            actor.full_name,
            CareTeamMember.title,
            Organization.name,
        )
        .where(*conditions)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(CareTeamMember, CareTeamMember.user_id == AuditEvent.actor_id)
        .outerjoin(Organization, Organization.id == CareTeamMember.organization_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return rows, total


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
