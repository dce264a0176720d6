from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user

from app.auth.models import Role
from app.core.access import no_patient_data, role_required
from app.core.pagination import page_arg, page_count
from app.extensions import db
from app.patients.models import Patient
from app.team import bp
from app.team.models import CareTeamAssignment, CareTeamMember

PER_PAGE = 25


@bp.route("/patients")
@role_required(Role.CARE_TEAM)
@no_patient_data("lists the patients whose care team the member is on; records open via the policy")
def my_patients():
    page = page_arg()
    mine = (
        sa.select(Patient, CareTeamAssignment.is_coordinator)
        .join(CareTeamAssignment, CareTeamAssignment.patient_id == Patient.id)
        .join(CareTeamMember, CareTeamMember.id == CareTeamAssignment.member_id)
        .where(CareTeamMember.user_id == current_user.id)
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(mine.subquery()))
    rows = db.session.execute(
        mine.order_by(Patient.family_name, Patient.given_name, Patient.id)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "team/my_patients.html",
        rows=rows,
        total=total,
        page=page,
        pages=page_count(total, PER_PAGE),
    )
