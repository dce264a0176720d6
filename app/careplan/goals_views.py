"""Goal pages: the list, one goal with its check-ins and trend chart, and the forms to write,
change, accept, decline, check in on and change the status of a goal.

Access goes through `patient_route` only: VIEW_PLAN to see goals, EDIT_GOALS to change them.
Rules that depend on who is acting (the care team proposes; only the patient side answers a
proposal) live in `app.careplan.goals`.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from app.careplan import bp, goals
from app.careplan.changes import hidden_categories
from app.careplan.goals import (
    ACHIEVEMENT_LABELS,
    CAPACITY_LABELS,
    CHECK_IN_LIST,
    CHECK_IN_STATUSES,
    FINAL,
    LIFECYCLE_LABELS,
    GoalRuleError,
)
from app.careplan.goals_forms import CheckInForm, DeclineForm, GoalForm, StatusForm
from app.careplan.labels import SENSITIVITY_LABELS
from app.careplan.models import Goal, GoalLifecycle
from app.careplan.services import local_today
from app.core.access import Capacity, Permission, can, patient_route
from app.core.forms import EmptyForm

LABELS = {
    "lifecycle": LIFECYCLE_LABELS,
    "achievement": ACHIEVEMENT_LABELS,
    "capacity": CAPACITY_LABELS,
    "sensitivity": SENSITIVITY_LABELS,
}


def _goal_or_404(patient, goal_id: int) -> Goal:
    found = goals.goal_for(patient.id, goal_id, hidden_categories())
    if found is None:
        abort(404)
    return found


def _patient_side() -> bool:
    return g.get("capacity") in goals.PATIENT_SIDE


def _detail_url(patient, goal: Goal) -> str:
    return url_for("careplan.goal_detail", patient_id=patient.id, goal_id=goal.id)


def _after_change(patient, goal: Goal):
    """Back to the goal, or to the summary for a helper who may change goals but not see them."""
    if can(current_user, Permission.VIEW_PLAN, patient):
        return redirect(_detail_url(patient, goal))
    return redirect(url_for("patients.summary", patient_id=patient.id))


def _render(template: str, status: int = 200, **context):
    return render_template(
        template,
        labels=LABELS,
        number=goals.format_number,
        amount=goals.format_amount,
        day=format_date,
        **context,
    ), status


def _render_detail(patient, goal: Goal, status: int = 200, **forms):
    """The goal page. Forms given (with their errors) replace the blank ones."""
    check_ins = goals.recent_check_ins(goal.id)
    can_edit = can(current_user, Permission.EDIT_GOALS, patient)
    steps = goals.next_steps(goal) if can_edit else []
    check_in_form = _given(forms, "check_in_form", CheckInForm)
    check_in_form.value.description = (
        _("Optional. In %(unit)s.", unit=goal.target_unit) if goal.target_unit else _("Optional.")
    )
    return _render(
        "careplan/goals_detail.html",
        status,
        patient=patient,
        goal=goal,
        check_ins=check_ins[:CHECK_IN_LIST],
        more_check_ins=len(check_ins) > CHECK_IN_LIST,
        chart=goals.trend_chart(goal, check_ins),
        can_edit=can_edit and goal.lifecycle_status not in FINAL,
        can_check_in=can_edit and goal.lifecycle_status in CHECK_IN_STATUSES,
        can_answer=can_edit and goal.lifecycle_status is GoalLifecycle.PROPOSED and _patient_side(),
        steps=[
            s
            for s in steps
            if s not in (GoalLifecycle.ACCEPTED, GoalLifecycle.REJECTED)
            and not (goal.lifecycle_status is GoalLifecycle.PROPOSED and s is GoalLifecycle.ACTIVE)
        ],
        patient_side=_patient_side(),
        check_in_form=check_in_form,
        decline_form=_given(forms, "decline_form", DeclineForm),
        status_form=_given(forms, "status_form", StatusForm),
    )


def _given(forms: dict, name: str, form_class):
    found = forms.get(name)
    return found if found is not None else form_class(formdata=None)


def _rule_error(patient, goal: Goal, exc: GoalRuleError, **forms):
    """Show the rule that was broken on the goal page; nothing is written (4xx rolls back)."""
    flash(str(exc), "error")
    return _render_detail(patient, goal, 422, **forms)


# ------------------------------------------------------------------ reading


@bp.route("/patients/<int:patient_id>/goals", endpoint="goals")
@patient_route(Permission.VIEW_PLAN, "careplan.goal")
def goals_list(patient):
    return _render(
        "careplan/goals.html",
        patient=patient,
        listing=goals.goal_list(patient.id, hidden_categories()),
        can_add=can(current_user, Permission.EDIT_GOALS, patient),
        patient_side=_patient_side(),
    )


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>")
@patient_route(Permission.VIEW_PLAN, "careplan.goal")
def goal_detail(patient, goal_id: int):
    return _render_detail(patient, _goal_or_404(patient, goal_id))


# ------------------------------------------------------------------ writing


@bp.route("/patients/<int:patient_id>/goals/new", methods=["GET", "POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def new_goal(patient):
    today = local_today(patient.timezone)
    form = GoalForm(today=today, with_sensitivity=g.capacity is not Capacity.CAREGIVER)
    if form.validate_on_submit():
        goal = goals.create_goal(patient.id, form.to_input(), today=today)
        if goal.lifecycle_status is GoalLifecycle.PROPOSED:
            flash(_("Goal suggested. The patient will be asked to say yes or no."), "success")
        else:
            flash(_("Goal added."), "success")
        return _after_change(patient, goal)
    return _render(
        "careplan/goals_form.html",
        422 if form.is_submitted() else 200,
        patient=patient,
        form=form,
        goal=None,
        accepting=False,
        patient_side=_patient_side(),
    )


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def edit_goal(patient, goal_id: int):
    """Change a goal. For a proposed goal, the patient side changes it and accepts it."""
    goal = _goal_or_404(patient, goal_id)
    if goal.lifecycle_status in FINAL:
        flash(
            _("This goal is closed, so it can't be changed. You can add a new goal instead."),
            "error",
        )
        return redirect(_detail_url(patient, goal))
    today = local_today(patient.timezone)
    accepting = goal.lifecycle_status is GoalLifecycle.PROPOSED and _patient_side()
    form = GoalForm(today=today, goal=goal, with_sensitivity=g.capacity is not Capacity.CAREGIVER)
    if form.validate_on_submit():
        try:
            if accepting:
                goals.accept_goal(goal, today=today, data=form.to_input())
                flash(_("You changed the goal and said yes to it."), "success")
            else:
                changed = goals.edit_goal(goal, form.to_input())
                flash(_("Saved.") if changed else _("Nothing was changed."), "success")
        except GoalRuleError as exc:
            return _rule_error(patient, goal, exc)
        return _after_change(patient, goal)
    return _render(
        "careplan/goals_form.html",
        422 if form.is_submitted() else 200,
        patient=patient,
        form=form,
        goal=goal,
        accepting=accepting,
        patient_side=_patient_side(),
    )


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/accept", methods=["POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def accept_goal(patient, goal_id: int):
    goal = _goal_or_404(patient, goal_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        goals.accept_goal(goal, today=local_today(patient.timezone))
    except GoalRuleError as exc:
        return _rule_error(patient, goal, exc)
    flash(_("You said yes to this goal."), "success")
    return _after_change(patient, goal)


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/decline", methods=["POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def decline_goal(patient, goal_id: int):
    goal = _goal_or_404(patient, goal_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _render_detail(patient, goal, 422, decline_form=form)
    try:
        goals.decline_goal(goal, form.reason.data)
    except GoalRuleError as exc:
        return _rule_error(patient, goal, exc, decline_form=form)
    flash(_("You said no to this goal. Your care team can see why."), "success")
    return _after_change(patient, goal)


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/check-ins", methods=["POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def goal_check_in(patient, goal_id: int):
    goal = _goal_or_404(patient, goal_id)
    form = CheckInForm()
    if not form.validate_on_submit():
        return _render_detail(patient, goal, 422, check_in_form=form)
    try:
        goals.add_check_in(
            goal, value=form.value.number, note=form.note.data, achievement=form.achievement_value
        )
    except GoalRuleError as exc:
        return _rule_error(patient, goal, exc, check_in_form=form)
    flash(_("Check-in saved."), "success")
    return _after_change(patient, goal)


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/status", methods=["POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def goal_status(patient, goal_id: int):
    goal = _goal_or_404(patient, goal_id)
    form = StatusForm()
    if not form.validate_on_submit():
        if form.achievement.errors:
            flash(_("Please choose if you reached the goal or not."), "error")
        else:
            flash(_("Please choose what to do with this goal."), "error")
        return _render_detail(patient, goal, 422, status_form=form)
    target = GoalLifecycle(form.status.data)
    try:
        goals.set_status(
            goal,
            target,
            today=local_today(patient.timezone),
            achievement=form.achievement_value,
            reason=form.reason.data,
        )
    except GoalRuleError as exc:
        return _rule_error(patient, goal, exc, status_form=form)
    flash(_("Saved: %(status)s.", status=LIFECYCLE_LABELS[goal.lifecycle_status]), "success")
    return _after_change(patient, goal)
