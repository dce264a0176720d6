"""The patient's texts: history with delivery status, reminder settings and times, the phone
number, and short links."""

from __future__ import annotations

from datetime import time

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TelField
from wtforms.validators import DataRequired, Length

from app.auth.fresh import fresh_auth_required
from app.careplan.goals import queries as goal_queries
from app.careplan.goals.models import Goal
from app.careplan.items import queries as item_queries
from app.careplan.items.models import CLOSED_STATUSES, PlanItem
from app.core import audit
from app.core.access import Permission, patient_route
from app.core.forms import EmptyForm, phone_e164
from app.core.pagination import page_arg, page_count
from app.core.privacy import hidden, visible
from app.extensions import db, limiter
from app.patients import queries as patient_queries
from app.patients.models import REMINDER_KINDS
from app.reminders import bp, caps, verification
from app.reminders.forms import ReminderSettingsForm, ScheduleForm
from app.reminders.models import ReminderSchedule, TextConsent
from app.reminders.recurring import (
    GOALS_IN_PROGRESS,
    TIMED_KINDS,
    replan_schedule,
    schedule_for_goal,
    schedule_for_item,
)
from app.reminders.replan import replan_patient
from app.reminders.scheduling import drop_waiting
from app.texting.labels import PURPOSE_LABELS, REASON_LABELS, STATUS_LABELS
from app.texting.models import OutboundSms
from app.texting.optout import is_opted_out
from app.texting.outbox import in_quiet_hours

PER_PAGE = 25


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
        reasons=REASON_LABELS,
        purposes=PURPOSE_LABELS,
    )


class PhoneForm(FlaskForm):
    phone = TelField(
        _l("Mobile phone"),
        validators=[
            DataRequired(_l("Enter a phone number, for example 503-555-0123.")),
            Length(max=32),
            phone_e164(),
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
@patient_route(Permission.CHANGE_PHONE, "patient.profile")
@fresh_auth_required
def phone(patient):
    form = PhoneForm()
    if form.validate_on_submit():
        verification.start(patient, form.phone.data)
        flash(_("We sent a code to %(phone)s.", phone=form.phone.data), "success")
        return redirect(url_for("reminders.verify_phone", patient_id=patient.id))
    status = 422 if form.is_submitted() else 200
    return render_template("reminders/phone.html", patient=patient, form=form), status


@bp.route("/patients/<int:patient_id>/phone/verify", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@patient_route(Permission.CHANGE_PHONE, "patient.profile")
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


# ------------------------------------------------------------------ reminder settings


def _per_day() -> int:
    return current_app.config["REMINDER_CAP_OPTED_IN_PER_DAY"]


@bp.route("/patients/<int:patient_id>/reminders", methods=["GET", "POST"])
@patient_route(Permission.TEXT_SETTINGS, "patient.reminders")
def settings(patient):
    """Which texts, lead times, quiet hours, discreet or detailed, more than the caps."""
    prefs = patient_queries.preferences(patient.id)
    agreed = caps.more_texts_agreed(patient.id)
    data = {
        "kinds": list(prefs.reminder_kinds or []),
        "reminder_lead_hours": [str(h) for h in prefs.reminder_lead_hours or []],
        "quiet_start": prefs.quiet_start,
        "quiet_end": prefs.quiet_end,
        "detailed_texts": prefs.detailed_texts,
        "more_texts": agreed,
    }
    form = ReminderSettingsForm(data=data if request.method == "GET" else None, per_day=_per_day())
    if form.validate_on_submit():
        before_kinds = set(prefs.reminder_kinds or [])
        prefs.reminder_kinds = [k for k in REMINDER_KINDS if k in (form.kinds.data or [])]
        prefs.reminder_lead_hours = sorted(
            {int(h) for h in form.reminder_lead_hours.data or []}, reverse=True
        )
        prefs.quiet_start, prefs.quiet_end = form.quiet_start.data, form.quiet_end.data
        prefs.detailed_texts = form.detailed_texts.data
        if prefs.id is None:
            db.session.add(prefs)
        if form.more_texts.data != agreed:
            db.session.add(
                TextConsent(
                    patient_id=patient.id,
                    given=form.more_texts.data,
                    wording=str(form.more_texts.label.text),
                    locale=str(get_locale()),
                    recorded_by_id=current_user.id,
                )
            )
        turned_off = before_kinds - set(prefs.reminder_kinds)
        if turned_off:
            drop_waiting(OutboundSms.patient_id == patient.id, OutboundSms.purpose.in_(turned_off))
        replan_patient(patient)
        audit.record(action="update", resource="patient.reminders", patient_id=patient.id)
        flash(_("Saved. Texts waiting to be sent follow your new choices."), "success")
        return redirect(url_for("reminders.settings", patient_id=patient.id))
    return render_template(
        "reminders/settings.html",
        patient=patient,
        form=form,
        prefs=prefs,
        agreed=agreed,
        opted_out=bool(patient.mobile_phone) and is_opted_out(patient.mobile_phone),
        timed=timed_things(patient),
    ), (422 if form.is_submitted() else 200)


def timed_things(patient) -> list[dict]:
    """Medicines, tasks and goals that can have reminder times, with the times chosen."""
    hidden_now = hidden()
    items = db.session.scalars(
        sa.select(PlanItem)
        .where(
            PlanItem.patient_id == patient.id,
            PlanItem.kind.in_(TIMED_KINDS),
            PlanItem.status.not_in(list(CLOSED_STATUSES)),
            visible(PlanItem.sensitivity, hidden_now),
        )
        .order_by(PlanItem.kind, PlanItem.title)
    ).all()
    goal_rows = db.session.scalars(
        sa.select(Goal)
        .where(
            Goal.patient_id == patient.id,
            Goal.lifecycle_status.in_(GOALS_IN_PROGRESS),
            visible(Goal.sensitivity, hidden_now),
        )
        .order_by(Goal.id)
    ).all()
    schedules = db.session.scalars(
        sa.select(ReminderSchedule).where(ReminderSchedule.patient_id == patient.id)
    ).all()
    by_item = {s.plan_item_id: s for s in schedules if s.plan_item_id}
    by_goal = {s.goal_id: s for s in schedules if s.goal_id}
    found = [
        {
            "title": i.title,
            "kind": i.kind.value,
            "schedule": by_item.get(i.id),
            "url": url_for("reminders.item_schedule", patient_id=patient.id, item_id=i.id),
        }
        for i in items
    ]
    found += [
        {
            "title": goal.description,
            "kind": "goal",
            "schedule": by_goal.get(goal.id),
            "url": url_for("reminders.goal_schedule", patient_id=patient.id, goal_id=goal.id),
        }
        for goal in goal_rows
    ]
    return found


def _schedule_page(patient, subject, schedule, *, title: str, back: str, weekly: bool):
    form = ScheduleForm(
        data=(
            {
                **{f"time_{n + 1}": time.fromisoformat(t) for n, t in enumerate(schedule.times)},
                "weekday": str(schedule.weekdays[0]) if schedule.weekdays else "",
            }
            if schedule is not None and schedule.active and request.method == "GET"
            else None
        )
    )
    prefs = patient_queries.preferences(patient.id)
    if request.method == "POST" and request.form.get("action") == "off":
        if not EmptyForm().validate_on_submit():
            abort(400)
        if schedule is not None:
            schedule.active = False
            schedule.updated_by_id = current_user.id
            replan_schedule(schedule)
        audit.record(action="update", resource="patient.reminders", patient_id=patient.id)
        flash(_("Reminder texts turned off."), "success")
        return redirect(back)
    if form.validate_on_submit():
        if schedule is None:
            schedule = ReminderSchedule(patient_id=patient.id, **subject)
            db.session.add(schedule)
        schedule.times = form.times()
        schedule.weekdays = [int(form.weekday.data)] if weekly and form.weekday.data else None
        schedule.active = True
        schedule.updated_by_id = current_user.id
        db.session.flush()
        replan_schedule(schedule)
        audit.record(action="update", resource="patient.reminders", patient_id=patient.id)
        flash(_("Saved. We will text you at these times."), "success")
        return redirect(back)
    quiet = [
        t
        for t in (schedule.times if schedule is not None and schedule.active else [])
        if in_quiet_hours(time.fromisoformat(t), prefs.quiet_start, prefs.quiet_end)
    ]
    return render_template(
        "reminders/schedule.html",
        patient=patient,
        form=form,
        title=title,
        back=back,
        weekly=weekly,
        schedule=schedule if schedule is not None and schedule.active else None,
        prefs=prefs,
        quiet=quiet,
        per_day=current_app.config["REMINDER_CAP_PER_DAY"],
        agreed=caps.more_texts_agreed(patient.id),
        off_form=EmptyForm(),
    ), (422 if form.is_submitted() else 200)


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/reminders", methods=["GET", "POST"])
@patient_route(Permission.TEXT_SETTINGS, "careplan.item")
def item_schedule(patient, item_id: int):
    item = item_queries.item(patient.id, item_id, hidden())
    if item is None or item.kind not in TIMED_KINDS:
        abort(404)
    return _schedule_page(
        patient,
        {"plan_item_id": item.id},
        schedule_for_item(item.id),
        title=item.title,
        back=url_for("careplan.items.detail", patient_id=patient.id, item_id=item.id),
        weekly=False,
    )


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/reminders", methods=["GET", "POST"])
@patient_route(Permission.TEXT_SETTINGS, "careplan.goal")
def goal_schedule(patient, goal_id: int):
    goal = goal_queries.goal_for(patient.id, goal_id, hidden())
    if goal is None:
        abort(404)
    return _schedule_page(
        patient,
        {"goal_id": goal.id},
        schedule_for_goal(goal.id),
        title=goal.description,
        back=url_for("careplan.goals.detail", patient_id=patient.id, goal_id=goal.id),
        weekly=True,
    )
