from __future__ import annotations

from flask import render_template
from flask_login import current_user

from app.auth.models import Role
from app.core import audit
from app.core.access import finds_patients, role_required
from app.core.pagination import page_arg, page_count
from app.core.privacy import Capacity
from app.team import bp, queries

PER_PAGE = 25


@bp.route("/patients")
@role_required(Role.CARE_TEAM)
@finds_patients("the patients whose care team the member is on: a view of each one shown")
def my_patients():
    page = page_arg()
    member = queries.member_for_user(current_user.id)
    rows, total = queries.panel_page(member.id, page, PER_PAGE) if member else ([], 0)
    audit.record_listed(
        "team.panel",
        [row[0].id for row in rows],
        actor_id=current_user.id,
        capacity=Capacity.CARE_TEAM.value,
    )
    return render_template(
        "team/my_patients.html",
        rows=rows,
        total=total,
        page=page,
        pages=page_count(total, PER_PAGE),
    )
