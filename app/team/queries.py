"""Reads about care teams: who is on a patient's team, a user's member row, a member's panel.

Every other domain asks these instead of writing its own query.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import contains_eager

from app.auth.models import User
from app.core.pagination import capped_count, keyset_page
from app.extensions import db
from app.patients.models import Patient
from app.team.models import CareTeamAssignment, CareTeamMember, Discipline, Organization
from app.team.sorting import prefix_range

#: Care team disciplines that would reveal a sensitive category to someone who may not see it.
DISCIPLINE_CATEGORY = {Discipline.BEHAVIORAL_HEALTH: "behavioral_health"}


def care_team(patient_id: int, hidden: frozenset[str] = frozenset()) -> list[CareTeamAssignment]:
    """The patient's care team, coordinator first, with each member's user and organization.

    Members whose discipline alone would reveal a category hidden from the viewer are left
    out (a caregiver who may not see behavioral health does not learn that a therapist is on
    the team).
    """
    concealed = tuple(d for d, category in DISCIPLINE_CATEGORY.items() if category in hidden)
    query = _CARE_TEAM_STATEMENTS.get(concealed)
    if query is None:
        query = _CARE_TEAM_STATEMENTS.setdefault(
            concealed,
            sa.select(CareTeamAssignment)
            .where(CareTeamAssignment.patient_id == sa.bindparam("patient_id"))
            .where(CareTeamMember.discipline.not_in(concealed) if concealed else sa.true())
            .join(CareTeamAssignment.member)
            .join(CareTeamMember.user)
            .options(
                contains_eager(CareTeamAssignment.member).contains_eager(CareTeamMember.user),
                contains_eager(CareTeamAssignment.member).joinedload(CareTeamMember.organization),
            )
            .order_by(CareTeamAssignment.is_coordinator.desc(), User.full_name),
        )
    return list(db.session.scalars(query, {"patient_id": patient_id}))


#: care_team's statement per set of concealed disciplines, built once (the patient is a bound
#: parameter): every patient page shows the team, and building the join costs more than it runs.
_CARE_TEAM_STATEMENTS: dict[tuple, sa.Select] = {}


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


def panel_page(member_id: int, per_page: int, *, after=None, before=None, typed: str = ""):
    """One page of the member's panel as (patient, is_coordinator) rows, by name, read in the
    order of the (member_id, patient_sort, patient_id) index from just after (or before) a
    patient id; only names starting with `typed` when given. Also how many (capped)."""
    conditions = [CareTeamAssignment.member_id == member_id]
    if typed:
        conditions.append(prefix_range(CareTeamAssignment.patient_sort, typed))
    keys = (CareTeamAssignment.patient_sort, CareTeamAssignment.patient_id)

    def keys_of(patient_id):
        if patient_id is None:
            return None
        found = db.session.execute(
            sa.select(*keys).where(
                CareTeamAssignment.member_id == member_id,
                CareTeamAssignment.patient_id == patient_id,
            )
        ).first()
        if found is None:
            abort(404)
        return tuple(found)

    page = keyset_page(
        sa.select(Patient, CareTeamAssignment.is_coordinator)
        .join(CareTeamAssignment, CareTeamAssignment.patient_id == Patient.id)
        .where(*conditions),
        keys,
        per_page=per_page,
        after=keys_of(after),
        before=keys_of(before),
        row_id=lambda row: row[0].id,
    )
    total = capped_count(sa.select(CareTeamAssignment.id).where(*conditions))
    return page, total
