"""The screening pages: the questions (patient, caregiver with the scope, or the team for the
patient), "what happens next", the team's view of the answers, and the community health
worker's first step on a suggested referral (on the item's page: `referral_panel`).

Access goes through `patient_route` only: ANSWER_SCREENING to answer, VIEW_SCREENING to read
the answers (the patient and the team: a caregiver never reads them), EDIT_PLAN to send a
suggestion. The worklist rows (the team inbox, the staff summary) and Home's card come from
the context processors at the end.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import Role, User
from app.careplan.items import queries as item_queries
from app.careplan.items.models import ItemKind, PlanItem
from app.careplan.items.panels import item_panel
from app.core import audit, idempotency
from app.core.access import Permission, can, patient_route
from app.core.errors import on_rule_error
from app.core.forms import EmptyForm
from app.core.privacy import Capacity, current_actor, hidden
from app.extensions import db
from app.screening import bp, queries, services
from app.screening.fhir import answers_of
from app.screening.forms import SendReferralForm, screening_form
from app.screening.labels import ANSWERED_AS_LABELS, NEED_ICONS, NEED_LABELS, REFERRAL_NEEDS
from app.screening.questions import QUESTIONS, SECTIONS, SENSITIVE_NEEDS, Need, questions_for
from app.team import queries as team_queries

#: The screening need a suggested referral answers, from its referral need.
NEED_OF_REFERRAL = {referral: need for need, referral in REFERRAL_NEEDS.items()}


def _asks_safety() -> bool:
    """The safety questions are asked of the patient, or by the team for them: never of a
    caregiver, who may be the person they are about."""
    return current_actor().capacity in (Capacity.PATIENT, Capacity.CARE_TEAM)


def _visible_needs(needs: list[str]) -> list[Need]:
    found = [Need(n) for n in needs if n in Need.__members__.values()]
    if _asks_safety():
        return found
    return [n for n in found if n not in SENSITIVE_NEEDS]


def _form_page(patient, form, status: int = 200):
    return render_template(
        "screening/questions.html",
        patient=patient,
        form=form,
        sections=SECTIONS,
        team_side=current_actor().capacity is Capacity.CARE_TEAM,
        last=queries.latest(patient.id) if current_actor().capacity is Capacity.CARE_TEAM else None,
    ), status


@bp.route("/patients/<int:patient_id>/screening", methods=["GET", "POST"])
@patient_route(Permission.ANSWER_SCREENING, "screening.response")
def questions(patient):
    form = screening_form(questions_for(_asks_safety()))
    if form.validate_on_submit():
        again = idempotency.replay(form, already=_("Your answers were already saved."))
        if again is not None:
            return again
        services.record_screening(patient, form.to_input())
        if current_actor().capacity is Capacity.CARE_TEAM:
            url = url_for("screening.answers", patient_id=patient.id)
            flash(_("The answers were saved."), "success")
        else:
            url = url_for("screening.done", patient_id=patient.id)
        idempotency.remember(form, url)
        return redirect(url)
    return _form_page(patient, form, 422 if form.is_submitted() else 200)


@bp.route("/patients/<int:patient_id>/screening/done")
@patient_route(Permission.ANSWER_SCREENING, "screening.response")
def done(patient):
    """What happens next, after this person's answers: no scores, no judgement."""
    mine = queries.latest_by(patient.id, current_user.id)
    if mine is None:
        return redirect(url_for("screening.questions", patient_id=patient.id))
    needs = _visible_needs(mine.needs)
    return render_template(
        "screening/done.html",
        patient=patient,
        needs=needs,
        need_labels=NEED_LABELS,
        safety=Need.SAFETY in needs,
    )


@bp.route("/patients/<int:patient_id>/screening/answers")
@patient_route(Permission.VIEW_SCREENING, "screening.response")
def answers(patient):
    """The last screening's answers, in the reader's language (the codes are what was kept)."""
    response = queries.latest(patient.id)
    rows = []
    answered_by = None
    if response is not None:
        given = answers_of(response.response)
        for question in QUESTIONS:
            codes = given.get(question.link_id, [])
            rows.append((question, [question.option(c).text for c in codes if question.option(c)]))
        if response.answered_by_id is not None:
            answered_by = db.session.get(User, response.answered_by_id)
    return render_template(
        "screening/answers.html",
        patient=patient,
        response=response,
        rows=rows,
        answered_by=answered_by,
        answered_as=ANSWERED_AS_LABELS,
        sections=SECTIONS,
        needs=[Need(n) for n in response.needs] if response is not None else [],
        need_labels=NEED_LABELS,
        can_answer=can(current_user, Permission.ANSWER_SCREENING, patient),
        due=response is None or queries.is_due(patient),
    )


# ------------------------------------------------------------------ the CHW's first step


def _suggestion_or_404(patient, item_id: int) -> PlanItem:
    item = item_queries.item(patient.id, item_id, hidden())
    if item is None or item.kind is not ItemKind.REFERRAL:
        abort(404)
    if queries.link_for_item(patient.id, item.id) is None:
        abort(404)
    return item


def _item_url(patient, item: PlanItem) -> str:
    return url_for("careplan.items.detail", patient_id=patient.id, item_id=item.id)


@bp.route("/patients/<int:patient_id>/screening/referrals/<int:item_id>/send", methods=["POST"])
@patient_route(Permission.EDIT_PLAN, "screening.referral", action="update")
def send(patient, item_id: int):
    item = _suggestion_or_404(patient, item_id)
    form = SendReferralForm()
    if not form.validate_on_submit():
        abort(400)
    on_rule_error(back=_item_url(patient, item))
    services.send_referral(item, (form.referred_to.data or "").strip() or None)
    flash(_("Referral sent. Record each step as it happens."), "success")
    return redirect(_item_url(patient, item))


@bp.route(
    "/patients/<int:patient_id>/screening/referrals/<int:item_id>/not-needed", methods=["POST"]
)
@patient_route(Permission.EDIT_PLAN, "screening.referral", action="update")
def not_needed(patient, item_id: int):
    item = _suggestion_or_404(patient, item_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    on_rule_error(back=_item_url(patient, item))
    services.not_needed(item)
    flash(_("The suggestion was closed."), "success")
    return redirect(_item_url(patient, item))


@item_panel
def referral_panel(patient, item: PlanItem) -> dict:
    """On a referral a screening suggested: which need, when it was found, and for the team
    the first step while it is only a suggestion (one query, referrals only)."""
    if item.kind is not ItemKind.REFERRAL:
        return {}
    link = queries.link_for_item(patient.id, item.id)
    if link is None:
        return {}
    row, found_at = link
    need = Need(row.need)
    return {
        "screening_need": need,
        "screening_need_label": NEED_LABELS[need],
        "screening_found_at": found_at,
        "screening_suggested": services.is_suggested(item),
        "screening_send_form": SendReferralForm()
        if services.is_suggested(item) and can(current_user, Permission.EDIT_PLAN, patient)
        else None,
    }


# ------------------------------------------------------------------ Home, summary, inbox


@bp.app_context_processor
def screening_globals():
    def offer(patient) -> bool:
        """Home's card: the viewer may answer, and there was none in the last 12 months."""
        if not can(current_user, Permission.ANSWER_SCREENING, patient):
            return False
        return queries.is_due(patient)

    def desk(patient, areas=()) -> dict:
        """The staff summary's card: the last screening (one query), and the open suggestions
        among the open items the summary already loaded (`plan.areas`: no query)."""
        suggested = [
            (item, NEED_OF_REFERRAL.get(item.referral_need, Need.SAFETY))
            for _area, items in areas
            for item in items
            if services.is_suggested(item)
        ]
        suggested.sort(key=lambda pair: pair[0].id, reverse=True)
        return {"latest": queries.latest(patient.id), "open": suggested[: queries.SUMMARY_ROWS]}

    def inbox() -> tuple[list, int]:
        """The team inbox's "Suggested referrals": this member's own, of their panel."""
        if not current_user.is_authenticated or current_user.role is not Role.CARE_TEAM:
            return [], 0
        member = team_queries.member_for_user(current_user.id)
        if member is None:
            return [], 0
        rows, total = queries.worklist(member.id)
        audit.record_listed(
            "screening.referral",
            [row.patient.id for row in rows],
            actor_id=current_user.id,
            capacity=Capacity.CARE_TEAM.value,
        )
        return rows, total

    return {
        "screening_offer": offer,
        "screening_desk": desk,
        "inbox_suggested_referrals": inbox,
        "screening_need_labels": NEED_LABELS,
        "screening_need_icons": NEED_ICONS,
        "screening_count_cap": queries.COUNT_CAP,
    }
