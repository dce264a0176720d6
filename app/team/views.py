from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from app.auth.models import Role
from app.core import audit
from app.core.access import finds_patients, role_required
from app.core.pagination import COUNT_CAP, Page, cursor_args
from app.core.privacy import Capacity
from app.team import bp, queries

PER_PAGE = 25


@bp.route("/patients")
@role_required(Role.CARE_TEAM)
@finds_patients("the patients whose care team the member is on: a view of each one shown")
def my_patients():
    member = queries.member_for_user(current_user.id)
    after, before = cursor_args()
    typed = (request.args.get("q") or "").strip()[:60]
    if "\x00" in typed:
        abort(400)
    if member is None:
        page, total = Page([], None, None), 0
    else:
        page, total = queries.panel_page(
            member.id, PER_PAGE, after=after, before=before, typed=typed
        )
    audit.record_listed(
        "team.panel",
        [row[0].id for row in page.rows],
        actor_id=current_user.id,
        capacity=Capacity.CARE_TEAM.value,
    )
    return render_template(
        "team/my_patients.html",
        rows=page.rows,
        page=page,
        total=total,
        count_cap=COUNT_CAP,
        typed=typed,
    )
