from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import Role
from app.caregivers.labels import SCOPE_LABELS
from app.caregivers.notices import notice_of_team_grants
from app.caregivers.queries import grants_in_force
from app.careplan.decisions import queries as decision_queries
from app.careplan.goals import queries as goal_queries
from app.careplan.items import queries as plan_queries
from app.careplan.items.labels import AREA_LABELS, FLAG_PATIENT_TEXT, FLAG_TEAM_TEXT
from app.core import audit
from app.core.access import Permission, can, no_patient_data, patient_route
from app.core.pagination import cursor_args
from app.core.privacy import Capacity, current_actor
from app.core.urls import id_arg
from app.extensions import db
from app.patients import bp, queries
from app.patients.forms import (
    CHANNEL_CHOICES,
    LEAD_CHOICES,
    PreferencesForm,
    ProfileForm,
    care_language_choices,
)
from app.team import queries as team_queries
from app.team.labels import DISCIPLINE_LABELS


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
@patient_route(Permission.VIEW_SUMMARY, "patient.summary")
def summary(patient):
    actor = current_actor()
    hidden = actor.hidden
    if actor.capacity is Capacity.PATIENT:
        notice_of_team_grants(patient)
    sees_plan = can(current_user, Permission.VIEW_PLAN, patient)
    plan = {}
    if sees_plan:
        plan = {
            "flags": plan_queries.open_flags(patient.id, hidden),
            "areas": plan_queries.group_by_area(plan_queries.open_item_titles(patient.id, hidden)),
            "area_labels": AREA_LABELS,
            "flag_patient": FLAG_PATIENT_TEXT,
            "flag_team": FLAG_TEAM_TEXT,
        }
    # Goals and decisions show to whoever may see them (with the plan, or to take part).
    if can(current_user, Permission.VIEW_GOALS, patient):
        plan["goals"] = goal_queries.summary_goals(patient.id, hidden)
    if can(current_user, Permission.VIEW_DECISIONS, patient):
        plan["decisions"] = decision_queries.summary_decisions(patient.id, hidden)
    return render_template(
        "patients/summary.html",
        patient=patient,
        plan=plan,
        sees_plan=sees_plan,
        prefs=queries.preferences(patient.id),
        channels=dict(CHANNEL_CHOICES),
        leads=dict(LEAD_CHOICES),
        team=team_queries.care_team(patient.id, hidden),
        caregivers=grants_in_force(patient_id=patient.id),
        Permission=Permission,
        care_languages=dict(care_language_choices()),
        discipline_labels=DISCIPLINE_LABELS,
        scope_labels=SCOPE_LABELS,
        today=patient.today(),
    )


@bp.route("/patients/<int:patient_id>/profile", methods=["GET", "POST"])
@patient_route(Permission.EDIT_PROFILE, "patient.profile")
def edit_profile(patient):
    form = ProfileForm(obj=patient)
    if form.validate_on_submit():
        form.populate_obj(patient)  # no phone here: a new number is proven with a code
        patient.preferred_name = patient.preferred_name or None
        patient.pronouns = patient.pronouns or None
        audit.record(action="update", resource="patient.profile", patient_id=patient.id)
        flash(_("Saved."), "success")
        return redirect(url_for("patients.summary", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return render_template("patients/profile_form.html", form=form, patient=patient), status


@bp.route("/patients/<int:patient_id>/access-log")
@patient_route(Permission.VIEW_AUDIT_LOG, "patient.access_log")
def access_log(patient):
    """Who looked at or changed the record; `?actor=<user id>` shows one person's trail
    (e.g. a caregiver's, linked from "People who help me")."""
    after, before = cursor_args()
    actor_id = id_arg("actor")
    page = queries.access_log(patient, 25, actor_id=actor_id, after=after, before=before)
    rows = page.rows
    return render_template(
        "patients/access_log.html",
        patient=patient,
        rows=rows,
        page=page,
        actor_id=actor_id,
        # Only names already in this patient's log are shown, never any account's by id.
        actor_name=rows[0][1] if actor_id is not None and rows else None,
        resource_labels=audit.RESOURCE_LABELS,
        capacity_labels=audit.CAPACITY_LABELS,
        action_labels=audit.ACTION_LABELS,
    )


PREFERENCE_FIELDS = (
    "contact_channels",
    "large_text",
    "high_contrast",
    "screen_reader",
    "what_matters_most",
    "preferred_pharmacy",
    "decision_involvement",
)
PATIENT_FIELDS = ("preferred_name", "pronouns", "language", "interpreter_needed", "timezone")


@bp.route("/patients/<int:patient_id>/preferences")
@patient_route(Permission.VIEW_SUMMARY, "patient.preferences")
def preferences(patient):
    return render_template(
        "patients/preferences.html",
        patient=patient,
        prefs=queries.preferences(patient.id),
        care_languages=dict(care_language_choices()),
        channels=dict(CHANNEL_CHOICES),
        leads=dict(LEAD_CHOICES),
        Permission=Permission,
    )


@bp.route("/patients/<int:patient_id>/preferences/edit", methods=["GET", "POST"])
@patient_route(Permission.EDIT_PREFERENCES, "patient.preferences")
def edit_preferences(patient):
    prefs = queries.preferences(patient.id)
    data = {name: getattr(patient, name) for name in PATIENT_FIELDS}
    data.update({name: getattr(prefs, name) for name in PREFERENCE_FIELDS})
    form = PreferencesForm(
        data=data if request.method == "GET" else None,
        has_phone=bool(patient.mobile_phone),
        text_settings=can(current_user, Permission.TEXT_SETTINGS, patient),
    )
    if form.validate_on_submit():
        for name in PATIENT_FIELDS:
            setattr(patient, name, getattr(form, name).data)
        patient.preferred_name = (patient.preferred_name or "").strip() or None
        patient.pronouns = (patient.pronouns or "").strip() or None
        for name in PREFERENCE_FIELDS:
            if name not in form:
                continue  # a field this person may not change (the patient's contact settings)
            value = getattr(form, name).data
            if isinstance(value, str):
                value = value.strip() or None
            setattr(prefs, name, value)
        if prefs.id is None:
            db.session.add(prefs)
        audit.record(action="update", resource="patient.preferences", patient_id=patient.id)
        flash(_("Saved. Your care team will see this."), "success")
        return redirect(url_for("patients.preferences", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return render_template("patients/preferences_form.html", form=form, patient=patient), status
