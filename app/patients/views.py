from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.auth.models import Role
from app.caregivers.labels import SCOPE_LABELS
from app.core import audit
from app.core.access import Permission, no_patient_data, patient_route
from app.core.db import utcnow
from app.patients import bp, queries
from app.patients.forms import ProfileForm, care_language_choices
from app.team.labels import DISCIPLINE_LABELS

#: How audit resources read on "Who has seen my record".
RESOURCE_LABELS = {
    "patient.summary": _l("Your summary page"),
    "patient.profile": _l("Your profile"),
    "patient.access_log": _l("The list of who has seen your record"),
}

CAPACITY_LABELS = {
    "patient": _l("You"),
    "caregiver": _l("Caregiver"),
    "care_team": _l("Care team"),
    "admin": _l("CareCircle administrator"),
    "system": _l("CareCircle system"),
}

ACTION_LABELS = {"view": _l("Looked at"), "update": _l("Changed"), "create": _l("Added")}


@bp.route("/")
@no_patient_data("sends each signed-in user to their own start page")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.role is Role.PATIENT:
        patient = queries.patient_for_user(current_user.id)
        if patient is None:
            return render_template("patients/no_record.html")
        return redirect(url_for("patients.summary", patient_id=patient.id))
    if current_user.role is Role.CAREGIVER:
        return redirect(url_for("caregivers.people"))
    if current_user.role is Role.CARE_TEAM:
        return redirect(url_for("team.my_patients"))
    return redirect(url_for("admin.index"))


@bp.route("/patients/<int:patient_id>")
@login_required
@patient_route(Permission.VIEW_SUMMARY, "patient.summary")
def summary(patient):
    return render_template(
        "patients/summary.html",
        patient=patient,
        team=queries.care_team(patient.id),
        caregivers=queries.current_caregivers(patient.id),
        Permission=Permission,
        care_languages=dict(care_language_choices()),
        discipline_labels=DISCIPLINE_LABELS,
        scope_labels=SCOPE_LABELS,
        today=utcnow().date(),
    )


@bp.route("/patients/<int:patient_id>/profile", methods=["GET", "POST"])
@login_required
@patient_route(Permission.EDIT_PROFILE, "patient.profile")
def edit_profile(patient):
    form = ProfileForm(obj=patient)
    if form.validate_on_submit():
        form.populate_obj(patient)
        patient.preferred_name = patient.preferred_name or None
        patient.pronouns = patient.pronouns or None
        audit.record(action="update", resource="patient.profile", patient_id=patient.id)
        flash(_("Saved."), "success")
        return redirect(url_for("patients.summary", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return render_template("patients/profile_form.html", form=form, patient=patient), status


@bp.route("/patients/<int:patient_id>/access-log")
@login_required
@patient_route(Permission.VIEW_AUDIT_LOG, "patient.access_log")
def access_log(patient):
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 10_000:
        abort(404)
    per_page = 25
    rows, total = queries.access_log(patient, page, per_page)
    return render_template(
        "patients/access_log.html",
        patient=patient,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, (total + per_page - 1) // per_page),
        resource_labels=RESOURCE_LABELS,
        capacity_labels=CAPACITY_LABELS,
        action_labels=ACTION_LABELS,
    )
