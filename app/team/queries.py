"""Reads about care teams: who is on a patient's team, a user's member row, a member's panel.

Every other domain asks these instead of writing its own query.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.extensions import db
from app.patients.models import Patient
from app.team.models import CareTeamAssignment, CareTeamMember, Discipline, Organization

#: Care team disciplines that would reveal a sensitive category to someone who may not see it.
DISCIPLINE_CATEGORY = {Discipline.BEHAVIORAL_HEALTH: "behavioral_health"}


def care_team(patient_id: int, hidden: frozenset[str] = frozenset()) -> list[CareTeamAssignment]:
    """The patient's care team, coordinator first, with each member's user and organization.

    Members whose discipline alone would reveal a category hidden from the viewer are left
    out (a caregiver who may not see behavioral health does not learn that a therapist is on
    the team).
    """
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


def member_for_user(user_id: int) -> CareTeamMember | None:
    """The care team member row of a user (None for anyone who is not on a team)."""
    return db.session.scalar(sa.select(CareTeamMember).where(CareTeamMember.user_id == user_id))


def on_care_team(patient_id: int, *, user_id: int | None = None, member_id: int | None = None):
    """Whether a user (or a member row) is on this patient's care team."""
    query = sa.select(CareTeamAssignment.id).where(CareTeamAssignment.patient_id == patient_id)
    if member_id is not None:
        query = query.where(CareTeamAssignment.member_id == member_id)
    else:
        query = query.join(CareTeamMember, CareTeamMember.id == CareTeamAssignment.member_id)
        query = query.where(CareTeamMember.user_id == user_id)
    return db.session.scalar(query.limit(1)) is not None


def titles(user_ids) -> dict[int, str]:
    """Job titles of care team users, to show next to their names (one query)."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(CareTeamMember.user_id, CareTeamMember.title).where(
                CareTeamMember.user_id.in_(ids)
            )
        ).all()
    )


def organizations() -> list[Organization]:
    return list(db.session.scalars(sa.select(Organization).order_by(Organization.name)))


def _panel(member_id: int):
    """A member's patients, with whether the member coordinates each one, by name."""
    return (
        sa.select(Patient, CareTeamAssignment.is_coordinator)
        .join(CareTeamAssignment, CareTeamAssignment.patient_id == Patient.id)
        .where(CareTeamAssignment.member_id == member_id)
        .order_by(Patient.family_name, Patient.given_name, Patient.id)
    )


def panel(member_id: int) -> list[Patient]:
    """The patients whose care team this member is on, by name."""
    return list(db.session.scalars(_panel(member_id)))


def panel_page(member_id: int, page: int, per_page: int):
    """One page of the member's panel as (patient, is_coordinator) rows, and how many."""
    query = _panel(member_id)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total
