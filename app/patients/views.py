from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import display
from app.auth.models import Role
from app.caregivers.labels import SCOPE_LABELS
from app.caregivers.notices import notice_of_team_grants
from app.caregivers.queries import grants_in_force
from app.careplan.decisions import queries as decision_queries
from app.careplan.decisions.models import DecisionStatus
from app.careplan.goals import queries as goal_queries
from app.careplan.items import queries as plan_queries
from app.careplan.items import readings
from app.careplan.items.labels import AREA_LABELS, FLAG_PATIENT_TEXT, FLAG_TEAM_TEXT
from app.careplan.items.models import ItemKind, ItemStatus
from app.careplan.translations import worklist as translation_worklist
from app.core import audit
from app.core.access import Permission, can, no_patient_data, patient_route
from app.core.db import utcnow
from app.core.pagination import cursor_args
from app.core.privacy import Capacity, current_actor
from app.core.urls import id_arg
from app.extensions import db
from app.messaging import queries as message_queries
from app.messaging.labels import TOPIC_LABELS
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
        return redirect(url_for("patients.home_page", patient_id=patient.id))
    if current_user.role is Role.CAREGIVER:
        # Straight to the person when there is exactly one; a choice when there are several.
        people = {grant.patient_id for grant in grants_in_force(caregiver_id=current_user.id)}
        if len(people) == 1:
            return redirect(url_for("patients.home_page", patient_id=people.pop()))
        return redirect(url_for("caregivers.people"))
    if current_user.role is Role.CARE_TEAM:
        return redirect(url_for("team.my_patients"))
    return redirect(url_for("admin.index"))


@bp.route("/patients/<int:patient_id>")
@patient_route(Permission.VIEW_SUMMARY, "patient.summary")
def summary(patient):
    """The record at a glance. For the care team a dashboard (what needs checking, what is past
    due, decisions waiting, goals, recent messages, language and interpreter), then the
    details; the patient and their caregivers see the details (as "My details"). A fixed
    number of queries whatever the size of the plan, the team or the conversations."""
    actor = current_actor()
    hidden = actor.hidden
    team_side = actor.capacity is Capacity.CARE_TEAM
    if actor.capacity is Capacity.PATIENT:
        notice_of_team_grants(patient)
    sees_plan = can(current_user, Permission.VIEW_PLAN, patient)
    now = utcnow()
    today = patient.today(now)
    plan = {}
    if sees_plan:
        if team_side:  # whole rows: the dashboard also shows what is past due
            open_items = plan_queries.items(patient.id, hidden, include_closed=False, loads=())
            plan["past_due"] = _past_due(patient, open_items, now, today)
            plan["readings"] = readings.summary_series(patient.id, hidden)
        else:
            open_items = plan_queries.open_item_titles(patient.id, hidden)
        plan.update(
            flags=plan_queries.open_flags(patient.id, hidden),
            areas=plan_queries.group_by_area(open_items),
            area_labels=AREA_LABELS,
            flag_patient=FLAG_PATIENT_TEXT,
            flag_team=FLAG_TEAM_TEXT,
        )
    # Goals and decisions show to whoever may see them (with the plan, or to take part).
    if can(current_user, Permission.VIEW_GOALS, patient):
        plan["goals"] = goal_queries.summary_goals(patient.id, hidden)
    if can(current_user, Permission.VIEW_DECISIONS, patient):
        plan["decisions"] = decision_queries.summary_decisions(patient.id, hidden)
    desk = {}
    if team_side:
        waiting = [d for d in plan.get("decisions", ()) if d.status is DecisionStatus.OPEN]
        desk["decisions_waiting"] = waiting
        desk["asked"] = decision_queries.waiting_for_answer([d.id for d in waiting])
        if can(current_user, Permission.VIEW_MESSAGES, patient):
            threads, total = message_queries.patient_threads(patient.id, hidden, 1)
            recent = threads[:RECENT_THREADS]
            desk.update(
                threads=recent,
                threads_total=total,
                unread=message_queries.unread_counts(
                    [t.id for t in recent], current_user.id, include_internal=True
                ),
                topics=TOPIC_LABELS,
            )
    caregivers = grants_in_force(patient_id=patient.id)
    if team_side and sees_plan:  # "Not yet in Spanish": what the readers cannot read yet
        desk["translation_gaps"] = translation_worklist.gaps(patient, caregivers, hidden)
    return render_template(
        "patients/summary.html",
        patient=patient,
        plan=plan,
        sees_plan=sees_plan,
        team_side=team_side,
        desk=desk,
        now=now,
        prefs=queries.preferences(patient.id),
        channels=dict(CHANNEL_CHOICES),
        leads=dict(LEAD_CHOICES),
        team=team_queries.care_team(patient.id, hidden),
        caregivers=caregivers,
        Permission=Permission,
        care_languages=dict(care_language_choices()),
        discipline_labels=DISCIPLINE_LABELS,
        scope_labels=SCOPE_LABELS,
        today=today,
    )


#: The summary's "Recent messages" card shows this many conversations.
RECENT_THREADS = 4


def _past_due(patient, open_items: list, now, today) -> list[tuple]:
    """(day, item) of the open tests whose due day has passed and the visits whose time has
    passed that nobody marked done, oldest first, in the patient's calendar. Items on hold
    wait on purpose. From the rows already loaded: no query."""
    late = []
    for item in open_items:
        if item.status is ItemStatus.ON_HOLD:
            continue
        if item.kind is ItemKind.TEST and item.due_date and item.due_date < today:
            late.append((item.due_date, item))
        elif item.kind is ItemKind.APPOINTMENT and item.starts_at and item.starts_at < now:
            late.append((patient.local(item.starts_at).date(), item))
    late.sort(key=lambda pair: (pair[0], pair[1].id))
    return late


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
        if patient.user_id == current_user.id:  # their own screen follows (app.core.display)
            display.follow_care_preferences(current_user._get_current_object(), prefs, was=data)
        audit.record(action="update", resource="patient.preferences", patient_id=patient.id)
        flash(_("Saved. Your care team will see this."), "success")
        return redirect(url_for("patients.preferences", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return render_template("patients/preferences_form.html", form=form, patient=patient), status
