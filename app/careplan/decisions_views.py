"""Shared decision pages: the list, one decision with its options and history, the team's
"start a decision" form, and the POST-only actions of both sides.

Seeing decisions needs VIEW_PLAN; the patient side's actions need TAKE_PART_IN_DECISIONS and the
team's need MANAGE_DECISIONS. A decision of another patient, or one whose sensitive category is
hidden from the viewer, answers 404 like anything else that is not theirs.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.careplan import bp
from app.careplan import decisions as service
from app.careplan.changes import hidden_categories
from app.careplan.decisions import DecisionRuleError
from app.careplan.decisions_forms import (
    AnswerForm,
    FinalForm,
    OpenDecisionForm,
    PreferenceForm,
    QuestionForm,
    WhatMattersForm,
    WithdrawForm,
)
from app.careplan.models import (
    Decision,
    DecisionEntry,
    DecisionEntryKind,
    DecisionStatus,
    Sensitivity,
)
from app.core.access import Capacity, Permission, can, patient_route

RESOURCE = "careplan.decision"


def _decision_or_404(patient, decision_id: int) -> Decision:
    found = service.get_decision(patient.id, decision_id, hidden_categories())
    if found is None:
        abort(404)
    return found


def _detail_url(patient, decision: Decision, anchor: str = "") -> str:
    url = url_for("careplan.decision_detail", patient_id=patient.id, decision_id=decision.id)
    return url + (f"#{anchor}" if anchor else "")


def who_said(entry: DecisionEntry, patient, titles: dict[int, str]) -> tuple[str, str | None]:
    """The author's name as the history shows it, and a short note about them (or None).

    A caregiver reads as "Ana Carter, for James"; a care team member's job title is the note.
    """
    author = entry.author
    if author is None:
        return _("Someone who no longer has an account"), None
    if entry.capacity == Capacity.CAREGIVER.value:
        return _(
            "%(name)s, for %(patient)s", name=author.full_name, patient=patient.display_name
        ), None
    if entry.capacity == Capacity.CARE_TEAM.value:
        return author.full_name, titles.get(author.id)
    return author.full_name, None


def _render_detail(patient, decision: Decision, status: int = 200, *, rule_error=None, **forms):
    entries = service.history(decision.id)
    titles = service.team_titles(
        e.author_id for e in entries if e.capacity == Capacity.CARE_TEAM.value
    )
    options = decision.options
    is_open = decision.status is DecisionStatus.OPEN
    take_part = is_open and can(current_user, Permission.TAKE_PART_IN_DECISIONS, patient)
    manage = is_open and can(current_user, Permission.MANAGE_DECISIONS, patient)
    last_final = next((e for e in reversed(entries) if e.kind is DecisionEntryKind.FINAL), None)
    last_withdrawn = next(
        (e for e in reversed(entries) if e.kind is DecisionEntryKind.WITHDRAWN), None
    )
    context = {
        "patient": patient,
        "decision": decision,
        "entries": [(e, *who_said(e, patient, titles)) for e in entries],
        "options_by_id": {o.id: o for o in options},
        "preferred": service.option_by_id(decision, decision.preferred_option_id),
        "final": service.option_by_id(decision, decision.final_option_id),
        "final_entry": last_final,
        "withdrawn_entry": last_withdrawn,
        "take_part": take_part,
        "manage": manage,
        "rule_error": rule_error,
        "kinds": DecisionEntryKind,
    }
    if take_part:
        context["what_matters_form"] = forms.get("what_matters_form") or WhatMattersForm(
            formdata=None
        )
        context["question_form"] = forms.get("question_form") or QuestionForm(formdata=None)
        context["preference_form"] = forms.get("preference_form") or PreferenceForm(
            options, formdata=None, data={"preferred_option": decision.preferred_option_id}
        )
    if manage:
        context["answer_form"] = forms.get("answer_form") or AnswerForm(formdata=None)
        context["final_form"] = forms.get("final_form") or FinalForm(
            options, formdata=None, data={"final_option": decision.preferred_option_id}
        )
        context["withdraw_form"] = forms.get("withdraw_form") or WithdrawForm(formdata=None)
    return render_template("careplan/decision.html", **context), status


# ------------------------------------------------------------------ pages


@bp.route("/patients/<int:patient_id>/decisions")
@patient_route(Permission.VIEW_PLAN, RESOURCE)
def decisions(patient):
    rows = service.list_decisions(patient.id, hidden_categories())
    open_rows = [d for d in rows if d.status is DecisionStatus.OPEN]
    waiting = service.waiting_for_answer(d.id for d in open_rows)
    return render_template(
        "careplan/decisions.html",
        patient=patient,
        open_decisions=open_rows,
        closed_decisions=[d for d in rows if d.status is not DecisionStatus.OPEN],
        waiting=waiting,
        option_by_id=service.option_by_id,
        manage=can(current_user, Permission.MANAGE_DECISIONS, patient),
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>")
@patient_route(Permission.VIEW_PLAN, RESOURCE)
def decision_detail(patient, decision_id: int):
    return _render_detail(patient, _decision_or_404(patient, decision_id))


@bp.route("/patients/<int:patient_id>/decisions/new", methods=["GET", "POST"])
@patient_route(Permission.MANAGE_DECISIONS, RESOURCE)
def new_decision(patient):
    form = OpenDecisionForm()
    error = None
    if form.validate_on_submit():
        try:
            decision = service.open_decision(
                patient.id,
                question=form.question.data,
                background=form.background.data,
                sensitivity=Sensitivity(form.sensitivity.data) if form.sensitivity.data else None,
                options=form.option_inputs(),
                author_id=current_user.id,
                capacity=g.capacity,
            )
        except DecisionRuleError as exc:
            error = str(exc)
        else:
            flash(_("The decision is open. The patient can now see it."), "success")
            return redirect(_detail_url(patient, decision))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "careplan/decision_form.html", patient=patient, form=form, rule_error=error
    ), status


# ------------------------------------------------------------------ actions


def _act(
    patient,
    decision_id: int,
    form_cls,
    form_key: str,
    do,
    done: str,
    anchor: str,
    with_options: bool = False,
):
    """Validate one action's form and run its service; re-show the page on a problem.

    Invalid input answers 422, a broken rule 409 (both write nothing); success redirects.
    """
    decision = _decision_or_404(patient, decision_id)
    form = form_cls(decision.options) if with_options else form_cls()
    if not form.validate_on_submit():
        try:  # on a closed decision, say so rather than point at the form
            service.require_open(decision)
        except DecisionRuleError as exc:
            return _render_detail(patient, decision, 409, rule_error=str(exc))
        return _render_detail(patient, decision, 422, **{form_key: form})
    try:
        do(decision, form)
    except DecisionRuleError as exc:
        return _render_detail(patient, decision, 409, rule_error=str(exc))
    flash(done, "success")
    if not can(current_user, Permission.VIEW_PLAN, patient):
        # A caregiver with the "decisions" scope but not "plan" cannot open the page itself.
        return redirect(url_for("patients.summary", patient_id=patient.id))
    return redirect(_detail_url(patient, decision, anchor))


def _by_me():
    return {"author_id": current_user.id, "capacity": g.capacity}


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/what-matters", methods=["POST"])
@patient_route(Permission.TAKE_PART_IN_DECISIONS, RESOURCE)
def decision_what_matters(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        WhatMattersForm,
        "what_matters_form",
        lambda d, f: service.add_what_matters(d, f.what_matters.data, **_by_me()),
        _("Thank you. Your care team can now read what matters to you."),
        "history",
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/questions", methods=["POST"])
@patient_route(Permission.TAKE_PART_IN_DECISIONS, RESOURCE)
def decision_ask(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        QuestionForm,
        "question_form",
        lambda d, f: service.ask_question(d, f.question_text.data, **_by_me()),
        _("Your question was sent to your care team."),
        "history",
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/preference", methods=["POST"])
@patient_route(Permission.TAKE_PART_IN_DECISIONS, RESOURCE)
def decision_prefer(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        PreferenceForm,
        "preference_form",
        lambda d, f: service.record_preference(
            d, f.preferred_option.data, f.preference_note.data, **_by_me()
        ),
        _("Your choice was saved. Your care team will talk it through with you."),
        "options",
        with_options=True,
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/answers", methods=["POST"])
@patient_route(Permission.MANAGE_DECISIONS, RESOURCE)
def decision_answer(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        AnswerForm,
        "answer_form",
        lambda d, f: service.answer_question(d, f.answer.data, **_by_me()),
        _("Your answer was added."),
        "history",
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/final", methods=["POST"])
@patient_route(Permission.MANAGE_DECISIONS, RESOURCE)
def decision_decide(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        FinalForm,
        "final_form",
        lambda d, f: service.record_final(d, f.final_option.data, f.final_note.data, **_by_me()),
        _("The decision was recorded."),
        "outcome",
        with_options=True,
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/withdraw", methods=["POST"])
@patient_route(Permission.MANAGE_DECISIONS, RESOURCE)
def decision_withdraw(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        WithdrawForm,
        "withdraw_form",
        lambda d, f: service.withdraw(d, f.withdraw_reason.data, **_by_me()),
        _("The decision was withdrawn."),
        "outcome",
    )
