"""Shared decision pages: the list, one decision with its options and history, the team's
"start a decision" form, and the POST-only actions of both sides.

Seeing decisions needs VIEW_DECISIONS; the patient side's actions need TAKE_PART_IN_DECISIONS and
the team's MANAGE_DECISIONS, both of which imply seeing them (a 422 shows the page again). A
decision of another patient, or one whose sensitive category is hidden from the viewer, answers
404 like anything else that is not theirs.
"""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.careplan.decisions import bp, queries, services
from app.careplan.decisions.forms import (
    AnswerForm,
    FinalForm,
    OpenDecisionForm,
    PreferenceForm,
    QuestionForm,
    WhatMattersForm,
    WithdrawForm,
)
from app.careplan.decisions.models import (
    Decision,
    DecisionEntry,
    DecisionEntryKind,
    DecisionStatus,
)
from app.careplan.translations import services as translations
from app.core.access import Permission, can, patient_route
from app.core.errors import on_rule_error
from app.core.privacy import Capacity, hidden
from app.team.queries import titles as team_titles

RESOURCE = "careplan.decision"

#: An option's text longer than this shows its first sentence in the comparison; the whole
#: text is behind "More about this option".
BRIEF_AFTER = 100
BRIEF_MIN = 25
BRIEF_MAX = 140
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


def brief(text: str | None) -> str | None:
    """The short form of a long option text for the side-by-side comparison (its first
    sentence, or its first words), or None when the text is short enough to show whole."""
    text = (text or "").strip()
    if len(text) <= BRIEF_AFTER:
        return None
    for end in _SENTENCE_END.finditer(text):
        first = text[: end.end()].strip()
        if len(first) > BRIEF_MAX or len(first) == len(text):
            break
        if len(first) >= BRIEF_MIN:  # not "Dr."
            return first
    if len(text) <= BRIEF_MAX:
        return None  # one sentence: shown whole
    cut = text[:BRIEF_MAX].rsplit(None, 1)[0].rstrip(" ,;:")
    return f"{cut}…"


def _decision_or_404(patient, decision_id: int) -> Decision:
    found = queries.get_decision(patient.id, decision_id, hidden())
    if found is None:
        abort(404)
    return found


def _detail_url(patient, decision: Decision, anchor: str = "") -> str:
    url = url_for("careplan.decisions.detail", patient_id=patient.id, decision_id=decision.id)
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


def _render_detail(patient, decision: Decision, status: int = 200, **forms):
    entries = queries.history(decision.id)
    titles = team_titles(e.author_id for e in entries if e.capacity == Capacity.CARE_TEAM.value)
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
        "preferred": queries.option_by_id(decision, decision.preferred_option_id),
        "final": queries.option_by_id(decision, decision.final_option_id),
        "final_entry": last_final,
        "withdrawn_entry": last_withdrawn,
        "take_part": take_part,
        "manage": manage,
        "kinds": DecisionEntryKind,
        "brief": brief,
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
    return render_template("decisions/detail.html", **context), status


# ------------------------------------------------------------------ pages


@bp.route("/patients/<int:patient_id>/decisions", endpoint="list")
@patient_route(Permission.VIEW_DECISIONS, RESOURCE)
def decision_list(patient):
    rows = queries.list_decisions(patient.id, hidden())
    open_rows = [d for d in rows if d.status is DecisionStatus.OPEN]
    waiting = queries.waiting_for_answer(d.id for d in open_rows)
    return render_template(
        "decisions/list.html",
        patient=patient,
        open_decisions=open_rows,
        closed_decisions=[d for d in rows if d.status is not DecisionStatus.OPEN],
        waiting=waiting,
        option_by_id=queries.option_by_id,
        manage=can(current_user, Permission.MANAGE_DECISIONS, patient),
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>")
@patient_route(Permission.VIEW_DECISIONS, RESOURCE)
def detail(patient, decision_id: int):
    return _render_detail(patient, _decision_or_404(patient, decision_id))


@bp.route("/patients/<int:patient_id>/decisions/new", methods=["GET", "POST"])
@patient_route(Permission.MANAGE_DECISIONS, RESOURCE)
def new(patient):
    form = OpenDecisionForm(written_in=translations.default_language(patient))
    if form.validate_on_submit():
        on_rule_error(page=lambda: _new_page(patient, form))
        decision = services.open_decision(patient.id, form.to_input())
        flash(_("The decision is open. The patient can now see it."), "success")
        return redirect(_detail_url(patient, decision))
    return _new_page(patient, form, 422 if form.is_submitted() else 200)


def _new_page(patient, form, status: int = 200):
    return render_template("decisions/form.html", patient=patient, form=form), status


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
    on_rule_error(page=lambda: _render_detail(patient, decision))
    if not form.validate_on_submit():
        services.require_open(decision)  # on a closed decision, say so, not "check the form"
        return _render_detail(patient, decision, 422, **{form_key: form})
    do(decision, form)
    flash(done, "success")
    return redirect(_detail_url(patient, decision, anchor))


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/what-matters", methods=["POST"])
@patient_route(Permission.TAKE_PART_IN_DECISIONS, RESOURCE)
def what_matters(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        WhatMattersForm,
        "what_matters_form",
        lambda d, f: services.add_what_matters(d, f.what_matters.data),
        _("Thank you. Your care team can now read what matters to you."),
        "history",
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/questions", methods=["POST"])
@patient_route(Permission.TAKE_PART_IN_DECISIONS, RESOURCE)
def ask(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        QuestionForm,
        "question_form",
        lambda d, f: services.ask_question(d, f.question_text.data),
        _("Your question was sent to your care team."),
        "history",
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/preference", methods=["POST"])
@patient_route(Permission.TAKE_PART_IN_DECISIONS, RESOURCE)
def prefer(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        PreferenceForm,
        "preference_form",
        lambda d, f: services.record_preference(d, f.preferred_option.data, f.preference_note.data),
        _("Your choice was saved. Your care team will talk it through with you."),
        "options",
        with_options=True,
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/answers", methods=["POST"])
@patient_route(Permission.MANAGE_DECISIONS, RESOURCE)
def answer(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        AnswerForm,
        "answer_form",
        lambda d, f: services.answer_question(d, f.answer.data),
        _("Your answer was added."),
        "history",
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/final", methods=["POST"])
@patient_route(Permission.MANAGE_DECISIONS, RESOURCE)
def decide(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        FinalForm,
        "final_form",
        lambda d, f: services.record_final(d, f.final_option.data, f.final_note.data),
        _("The decision was recorded."),
        "outcome",
        with_options=True,
    )


@bp.route("/patients/<int:patient_id>/decisions/<int:decision_id>/withdraw", methods=["POST"])
@patient_route(Permission.MANAGE_DECISIONS, RESOURCE)
def withdraw(patient, decision_id: int):
    return _act(
        patient,
        decision_id,
        WithdrawForm,
        "withdraw_form",
        lambda d, f: services.withdraw(d, f.withdraw_reason.data),
        _("The decision was withdrawn."),
        "outcome",
    )
