from __future__ import annotations

from flask import render_template
from flask_login import current_user

from app.auth.models import Role
from app.core.access import no_patient_data, role_required
from app.core.pagination import page_arg, page_count
from app.team import bp, queries

PER_PAGE = 25


@bp.route("/patients")
@role_required(Role.CARE_TEAM)
@no_patient_data("lists the patients whose care team the member is on; records open via the policy")
def my_patients():
    page = page_arg()
    member = queries.member_for_user(current_user.id)
    rows, total = queries.panel_page(member.id, page, PER_PAGE) if member else ([], 0)
    return render_template(
        "team/my_patients.html",
        rows=rows,
        total=total,
        page=page,
        pages=page_count(total, PER_PAGE),
    )
