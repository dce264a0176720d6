"""Goal pages: the list, one goal with its check-ins and trend chart, and the forms to write,
change, accept, decline, check in on and change the status of a goal.

Access goes through `patient_route` only: VIEW_GOALS to see goals, EDIT_GOALS to change them
(which implies seeing them, so a form sent back with an error shows nothing new).
Rules that depend on who is acting (the care team proposes; only the patient side answers a
proposal) live in `goals.rules`; a refusal re-shows the goal page with the reason (409).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import format_date, format_percent
from flask_babel import gettext as _
from flask_login import current_user

from app.careplan.goals import bp, chart, numbers, queries, rules, services
from app.careplan.goals.forms import CheckInForm, DeclineForm, GoalForm, StatusForm
from app.careplan.goals.labels import ACHIEVEMENT_LABELS, LIFECYCLE_LABELS
from app.careplan.goals.models import Goal, GoalCheckIn, GoalLifecycle
from app.careplan.labels import CAPACITY_LABELS
from app.careplan.translations import services as translations
from app.core import idempotency
from app.core.access import Permission, can, patient_route
from app.core.errors import on_rule_error
from app.core.forms import EmptyForm
from app.core.privacy import SENSITIVITY_LABELS, Capacity, current_actor, hidden

LABELS = {
    "lifecycle": LIFECYCLE_LABELS,
    "achievement": ACHIEVEMENT_LABELS,
    "capacity": CAPACITY_LABELS,
    "sensitivity": SENSITIVITY_LABELS,
}


@dataclass(frozen=True)
class Progress:
    """Where the goal's number stands, for the bar at the top of the goal page."""

    #: 0 to 100: the share of the target (higher is better), or of the way from the first
    #: number to the target (lower is better). 100 only once the target is reached.
    percent: int
    percent_text: str
    latest: str
    target: str
    #: Where it started (the oldest number of the check-ins loaded), when lower is better.
    start: str | None
    reached: bool


def progress(goal: Goal, check_ins: list[GoalCheckIn]) -> Progress | None:
    """How far the latest number has come toward the target; None without a target, a
    direction or any number. `check_ins` are newest first."""
    values = [c.value for c in check_ins if c.value is not None]
    target = goal.target_value
    if target is None or goal.higher_is_better is None or not values:
        return None
    latest, first = values[0], values[-1]
    if goal.higher_is_better:
        reached = latest >= target
        share = latest / target if target > 0 else 0.0
    else:
        reached = latest <= target
        share = (first - latest) / (first - target) if first > target else 0.0
    percent = 100 if reached else max(0, min(99, round(share * 100)))
    return Progress(
        percent=percent,
        percent_text=format_percent(percent / 100),
        latest=numbers.format_amount(latest, goal.target_unit),
        target=numbers.format_amount(target, goal.target_unit),
        start=None if goal.higher_is_better else numbers.format_amount(first, goal.target_unit),
        reached=reached,
    )


def _goal_or_404(patient, goal_id: int) -> Goal:
    found = queries.goal_for(patient.id, goal_id, hidden())
    if found is None:
        abort(404)
    return found


def _patient_side() -> bool:
    return current_actor().patient_side


def _detail_url(patient, goal: Goal) -> str:
    return url_for("careplan.goals.detail", patient_id=patient.id, goal_id=goal.id)


def _after_change(patient, goal: Goal):
    """Back to the goal (whoever may change goals may see them)."""
    return redirect(_detail_url(patient, goal))


def _render(template: str, status: int = 200, **context):
    return render_template(
        template,
        labels=LABELS,
        number=numbers.format_number,
        amount=numbers.format_amount,
        day=format_date,
        **context,
    ), status


def _render_detail(patient, goal: Goal, status: int = 200, **forms):
    """The goal page. Forms given (with their errors) replace the blank ones."""
    check_ins = queries.recent_check_ins(goal.id)
    can_edit = can(current_user, Permission.EDIT_GOALS, patient)
    steps = rules.next_steps(goal, current_actor().capacity) if can_edit else []
    check_in_form = _given(forms, "check_in_form", CheckInForm)
    check_in_form.value.description = (
        _("Optional. In %(unit)s.", unit=goal.target_unit) if goal.target_unit else _("Optional.")
    )
    return _render(
        "goals/detail.html",
        status,
        patient=patient,
        goal=goal,
        check_ins=check_ins[: queries.CHECK_IN_LIST],
        more_check_ins=len(check_ins) > queries.CHECK_IN_LIST,
        chart=chart.trend_chart(goal, check_ins),
        progress=progress(goal, check_ins),
        can_edit=can_edit and goal.lifecycle_status not in rules.FINAL,
        can_check_in=can_edit and goal.lifecycle_status in rules.CHECK_IN_STATUSES,
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


def _refusals_on_detail(patient, goal: Goal, **forms) -> None:
    """A rule the service refuses is shown on the goal page, the user's input kept."""
    on_rule_error(page=lambda: _render_detail(patient, goal, **forms))


# ------------------------------------------------------------------ reading


@bp.route("/patients/<int:patient_id>/goals", endpoint="list")
@patient_route(Permission.VIEW_GOALS, "careplan.goal")
def goal_list(patient):
    return _render(
        "goals/list.html",
        patient=patient,
        listing=queries.goal_list(patient.id, hidden()),
        can_add=can(current_user, Permission.EDIT_GOALS, patient),
        patient_side=_patient_side(),
    )


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>")
@patient_route(Permission.VIEW_GOALS, "careplan.goal")
def detail(patient, goal_id: int):
    return _render_detail(patient, _goal_or_404(patient, goal_id))


# ------------------------------------------------------------------ writing


@bp.route("/patients/<int:patient_id>/goals/new", methods=["GET", "POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def new(patient):
    today = patient.today()
    form = GoalForm(
        today=today,
        with_sensitivity=current_actor().capacity is not Capacity.CAREGIVER,
        # The team picks the language it writes in; the patient side writes in its own.
        written_in=None if _patient_side() else translations.default_language(patient),
    )
    if form.validate_on_submit():
        if (again := idempotency.replay(form, already=_("That was already saved."))) is not None:
            return again
        goal = services.create_goal(patient.id, form.to_input(), today=today)
        idempotency.remember(form, _detail_url(patient, goal))
        if goal.lifecycle_status is GoalLifecycle.PROPOSED:
            flash(_("Goal suggested. The patient will be asked to say yes or no."), "success")
        else:
            flash(_("Goal added."), "success")
        return _after_change(patient, goal)
    return _render(
        "goals/form.html",
        422 if form.is_submitted() else 200,
        patient=patient,
        form=form,
        goal=None,
        accepting=False,
        patient_side=_patient_side(),
    )


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def edit(patient, goal_id: int):
    """Change a goal. For a proposed goal, the patient side changes it and accepts it."""
    goal = _goal_or_404(patient, goal_id)
    if goal.lifecycle_status in rules.FINAL:
        flash(
            _("This goal is closed, so it can't be changed. You can add a new goal instead."),
            "error",
        )
        return redirect(_detail_url(patient, goal))
    today = patient.today()
    accepting = goal.lifecycle_status is GoalLifecycle.PROPOSED and _patient_side()
    form = GoalForm(
        today=today,
        goal=goal,
        with_sensitivity=current_actor().capacity is not Capacity.CAREGIVER,
    )
    if form.validate_on_submit():
        _refusals_on_detail(patient, goal)
        if accepting:
            services.accept_goal(goal, today=today, data=form.to_input())
            flash(_("You changed the goal and said yes to it."), "success")
        else:
            changed = services.edit_goal(goal, form.to_input())
            flash(_("Saved.") if changed else _("Nothing was changed."), "success")
        return _after_change(patient, goal)
    return _render(
        "goals/form.html",
        422 if form.is_submitted() else 200,
        patient=patient,
        form=form,
        goal=goal,
        accepting=accepting,
        patient_side=_patient_side(),
    )


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/accept", methods=["POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def accept(patient, goal_id: int):
    goal = _goal_or_404(patient, goal_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _refusals_on_detail(patient, goal)
    services.accept_goal(goal, today=patient.today())
    flash(_("You said yes to this goal."), "success")
    return _after_change(patient, goal)


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/decline", methods=["POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def decline(patient, goal_id: int):
    goal = _goal_or_404(patient, goal_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _render_detail(patient, goal, 422, decline_form=form)
    _refusals_on_detail(patient, goal, decline_form=form)
    services.decline_goal(goal, form.reason.data)
    flash(_("You said no to this goal. Your care team can see why."), "success")
    return _after_change(patient, goal)


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/check-ins", methods=["POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def check_in(patient, goal_id: int):
    goal = _goal_or_404(patient, goal_id)
    form = CheckInForm()
    if not form.validate_on_submit():
        return _render_detail(patient, goal, 422, check_in_form=form)
    _refusals_on_detail(patient, goal, check_in_form=form)
    if (again := idempotency.replay(form, already=_("That was already saved."))) is not None:
        return again
    services.add_check_in(
        goal, value=form.value.number, note=form.note.data, achievement=form.achievement_value
    )
    idempotency.remember(form, _detail_url(patient, goal))
    flash(_("Check-in saved."), "success")
    return _after_change(patient, goal)


@bp.route("/patients/<int:patient_id>/goals/<int:goal_id>/status", methods=["POST"])
@patient_route(Permission.EDIT_GOALS, "careplan.goal")
def status(patient, goal_id: int):
    goal = _goal_or_404(patient, goal_id)
    form = StatusForm()
    if not form.validate_on_submit():
        if form.achievement.errors:
            flash(_("Please choose if you reached the goal or not."), "error")
        else:
            flash(_("Please choose what to do with this goal."), "error")
        return _render_detail(patient, goal, 422, status_form=form)
    _refusals_on_detail(patient, goal, status_form=form)
    services.set_status(
        goal,
        GoalLifecycle(form.status.data),
        today=patient.today(),
        achievement=form.achievement_value,
        reason=form.reason.data,
    )
    flash(_("Saved: %(status)s.", status=LIFECYCLE_LABELS[goal.lifecycle_status]), "success")
    return _after_change(patient, goal)
