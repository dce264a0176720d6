"""The patient's history of texts, with their delivery status."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_babel import lazy_gettext as _l

from app.core.access import Permission, patient_route
from app.core.pagination import page_arg, page_count
from app.extensions import db
from app.notifications.models import OutboundSms
from app.reminders import bp

PER_PAGE = 25

STATUS_LABELS = {
    "queued": _l("Waiting to be sent"),
    "sending": _l("Being sent"),
    "stored": _l("Kept in the outbox (test server)"),
    "accepted": _l("Sent"),
    "sent": _l("Sent"),
    "delivered": _l("Delivered"),
    "read": _l("Delivered"),
    "undelivered": _l("Not delivered"),
    "failed": _l("Not delivered"),
}

PURPOSE_LABELS = {
    "appointment": _l("Appointment reminder"),
    "team_replied": _l("New message from your care team"),
}


@bp.route("/patients/<int:patient_id>/texts")
@patient_route(Permission.VIEW_TEXTS, "reminders.texts")
def texts(patient):
    page = page_arg()
    conditions = [OutboundSms.patient_id == patient.id]
    total = db.session.scalar(sa.select(sa.func.count(OutboundSms.id)).where(*conditions))
    rows = db.session.scalars(
        sa.select(OutboundSms)
        .where(*conditions)
        .order_by(OutboundSms.send_after.desc(), OutboundSms.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "reminders/texts.html",
        patient=patient,
        rows=rows,
        page=page,
        pages=page_count(total, PER_PAGE),
        statuses=STATUS_LABELS,
        purposes=PURPOSE_LABELS,
    )
