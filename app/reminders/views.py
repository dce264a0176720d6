"""The patient's history of texts, with their delivery status."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TelField
from wtforms.validators import DataRequired, Length

from app.core.access import Permission, patient_route
from app.core.forms import phone_e164
from app.core.pagination import page_arg, page_count
from app.extensions import db, limiter
from app.notifications.models import OutboundSms
from app.reminders import bp, verification

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
    "verify": _l("Code to check your phone number"),
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


class PhoneForm(FlaskForm):
    phone = TelField(
        _l("Mobile phone"),
        validators=[
            DataRequired(_l("Enter a phone number, for example 503-555-0123.")),
            Length(max=32),
            phone_e164(lambda: current_app.config["DEFAULT_PHONE_REGION"]),
        ],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code from the text"),
        validators=[DataRequired(_l("Enter the 6-digit code.")), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


@bp.route("/patients/<int:patient_id>/phone", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
@patient_route(Permission.EDIT_PREFERENCES, "patient.profile")
def phone(patient):
    form = PhoneForm()
    if form.validate_on_submit():
        locale = (
            patient.language
            if patient.language in current_app.config["LANGUAGES"]
            else (current_app.config["BABEL_DEFAULT_LOCALE"])
        )
        verification.start(patient, form.phone.data, locale)
        flash(_("We sent a code to %(phone)s.", phone=form.phone.data), "success")
        return redirect(url_for("reminders.verify_phone", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return render_template("reminders/phone.html", patient=patient, form=form), status


@bp.route("/patients/<int:patient_id>/phone/verify", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@patient_route(Permission.EDIT_PREFERENCES, "patient.profile")
def verify_phone(patient):
    form = CodeForm()
    if form.validate_on_submit():
        try:
            verification.check(patient, form.code.data)
        except verification.VerificationError as exc:
            # 200, not 4xx: the wrong try must be counted (committed) against guessing.
            form.code.errors.append(str(exc))
            return render_template("reminders/phone_verify.html", patient=patient, form=form)
        flash(_("Your mobile number is saved and checked."), "success")
        return redirect(url_for("patients.preferences", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return render_template("reminders/phone_verify.html", patient=patient, form=form), status
