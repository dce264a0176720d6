"""The "What changed" page of the whole plan."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from app.careplan import bp, changes
from app.careplan.labels import CHANGE_EVENT_LABELS
from app.core.access import Permission, patient_route
from app.core.pagination import page_arg, page_count
from app.core.privacy import hidden


@bp.route("/patients/<int:patient_id>/changes", endpoint="changes")
@patient_route(Permission.VIEW_PLAN, "careplan.changes")
def changes_page(patient):
    page = page_arg()
    visit = changes.last_visit(current_user.id, patient.id)
    # Read before mark_seen moves it to now (it updates this same row).
    since = visit.seen_at if visit else None
    rows, total = changes.recent(patient.id, hidden(), page)
    if page == 1:
        changes.mark_seen(current_user.id, patient.id)
    return render_template(
        "careplan/changes.html",
        patient=patient,
        rows=[(row, changes.is_new(row, since, current_user.id)) for row in rows],
        since=since,
        page=page,
        pages=page_count(total, changes.PER_PAGE),
        event_labels=CHANGE_EVENT_LABELS,
    )
