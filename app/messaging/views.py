"""Patients write to their whole care team; the team answers from a shared inbox."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from app.auth.models import Role
from app.caregivers.policy import is_adolescent
from app.careplan import queries as plan_queries
from app.careplan.changes import hidden_categories, visible
from app.careplan.models import Sensitivity
from app.core import audit
from app.core.access import Capacity, Permission, can, no_patient_data, patient_route
from app.core.forms import EmptyForm
from app.core.pagination import page_arg, page_count
from app.extensions import db
from app.messaging import bp, queries, services
from app.messaging.forms import AssignForm, NewThreadForm, NoteForm, ReplyForm
from app.messaging.labels import TOPIC_LABELS, VIEW_LABELS
from app.messaging.models import Message, Thread, ThreadStatus, Topic
from app.messaging.services import MessagingRuleError
from app.patients import queries as patient_queries
from app.team.models import CareTeamMember


def _thread_or_404(patient, thread_id: int) -> Thread:
    thread = db.session.scalars(
        sa.select(Thread)
        .where(
            Thread.id == thread_id,
            Thread.patient_id == patient.id,
            visible(Thread.sensitivity, hidden_categories()),
        )
        .options(
            joinedload(Thread.plan_item),
            joinedload(Thread.assignee).joinedload(CareTeamMember.user),
        )
    ).first()
    if thread is None:
        abort(404)
    return thread


def _team_side() -> bool:
    return g.get("capacity") is Capacity.CARE_TEAM


@bp.route("/patients/<int:patient_id>/messages")
@patient_route(Permission.VIEW_MESSAGES, "messaging.threads")
def threads(patient):
    page = page_arg()
    rows, total = queries.patient_threads(patient.id, hidden_categories(), page)
    unread = queries.unread_counts(
        [t.id for t in rows], current_user.id, include_internal=_team_side()
    )
    return render_template(
        "messaging/threads.html",
        patient=patient,
        threads=rows,
        topics=TOPIC_LABELS,
        unread=unread,
        confidential=Sensitivity.CONFIDENTIAL,
        total_unread=queries.unread_total(patient.id, hidden_categories(), current_user.id),
        page=page,
        pages=page_count(total, queries.PER_PAGE),
    )


@bp.route("/patients/<int:patient_id>/messages/new", methods=["GET", "POST"])
@patient_route(Permission.SEND_MESSAGES, "messaging.thread")
def new_thread(patient):
    allow_private = g.capacity is Capacity.PATIENT and is_adolescent(patient)
    form = NewThreadForm(allow_private=allow_private)
    item_id = request.values.get("item", type=int)
    plan_item = None
    if item_id is not None:
        plan_item = plan_queries.item(patient.id, item_id, hidden_categories())
        if plan_item is None:
            abort(404)
    if request.method == "GET" and plan_item is not None:
        form.topic.data = Topic.CARE_PLAN.value
        form.subject.data = _("Question about: %(title)s", title=plan_item.title)[:160]
        form.item.data = str(plan_item.id)
    if form.validate_on_submit():
        thread = services.start_thread(
            patient_id=patient.id,
            topic=Topic(form.topic.data),
            subject=form.subject.data,
            body=form.body.data,
            author_id=current_user.id,
            capacity=g.capacity.value,
            plan_item=plan_item,
            private=allow_private and form.private.data,
        )
        flash(_("Your message was sent to your care team."), "success")
        return redirect(url_for("messaging.thread", patient_id=patient.id, thread_id=thread.id))
    status = 422 if form.is_submitted() else 200
    hours = {Topic(k): v for k, v in current_app.config["MESSAGE_RESPONSE_HOURS"].items()}
    return render_template(
        "messaging/new_thread.html",
        patient=patient,
        form=form,
        plan_item=plan_item,
        team=patient_queries.care_team(patient.id),
        topics=TOPIC_LABELS,
        hours=hours,
    ), status


@bp.route("/patients/<int:patient_id>/messages/<int:thread_id>", methods=["GET", "POST"])
@patient_route(Permission.VIEW_MESSAGES, "messaging.thread")
def thread(patient, thread_id: int):
    current = _thread_or_404(patient, thread_id)
    form = ReplyForm()
    may_reply = can(current_user, Permission.SEND_MESSAGES, patient)
    if request.method == "POST":
        if not may_reply:
            abort(404)
        if form.validate_on_submit():
            services.add_message(
                current, body=form.body.data, author_id=current_user.id, capacity=g.capacity.value
            )
            if _team_side():
                flash(_("Sent. The patient gets a notice that a message is waiting."), "success")
            return redirect(
                url_for("messaging.thread", patient_id=patient.id, thread_id=current.id) + "#latest"
            )
    return _render_thread(
        patient, current, form, may_reply, status=422 if form.is_submitted() else 200
    )


def _render_thread(
    patient, current: Thread, form, may_reply: bool, status: int = 200, note_form=None
):
    team_side = _team_side()
    conditions = [Message.thread_id == current.id]
    if not team_side:
        conditions.append(Message.internal.is_(False))
    messages = db.session.scalars(
        sa.select(Message)
        .where(*conditions)
        .options(joinedload(Message.author))
        .order_by(Message.created_at, Message.id)
    ).all()
    services.mark_read(current.id, current_user.id)
    context = {}
    if team_side:
        context = {
            "team": patient_queries.care_team(patient.id),
            "assign_form": AssignForm(),
            "note_form": note_form or NoteForm(),
            "action_form": EmptyForm(),
            "overdue": services.is_overdue(current),
            "me": services.member_for_user(current_user.id),
        }
    return render_template(
        "messaging/thread.html",
        patient=patient,
        thread=current,
        messages=messages,
        form=form,
        may_reply=may_reply,
        topics=TOPIC_LABELS,
        team_side=team_side,
        confidential=Sensitivity.CONFIDENTIAL,
        **context,
    ), status


def _back(patient, thread: Thread):
    return redirect(url_for("messaging.thread", patient_id=patient.id, thread_id=thread.id))


def _rule_error(patient, thread, exc):
    flash(str(exc), "error")
    return redirect(url_for("messaging.thread", patient_id=patient.id, thread_id=thread.id)), 303


@bp.route("/patients/<int:patient_id>/messages/<int:thread_id>/claim", methods=["POST"])
@patient_route(Permission.TRIAGE_MESSAGES, "messaging.thread")
def claim(patient, thread_id: int):
    current = _thread_or_404(patient, thread_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    member = services.member_for_user(current_user.id)
    try:
        services.assign(current, member.id, current_user.id)
    except MessagingRuleError as exc:
        return _rule_error(patient, current, exc)
    flash(_("You took this conversation."), "success")
    return _back(patient, current)


@bp.route("/patients/<int:patient_id>/messages/<int:thread_id>/assign", methods=["POST"])
@patient_route(Permission.TRIAGE_MESSAGES, "messaging.thread")
def assign(patient, thread_id: int):
    current = _thread_or_404(patient, thread_id)
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.assign(current, form.member.data, current_user.id)
    except MessagingRuleError as exc:
        return _rule_error(patient, current, exc)
    flash(_("Assigned."), "success")
    return _back(patient, current)


@bp.route("/patients/<int:patient_id>/messages/<int:thread_id>/note", methods=["POST"])
@patient_route(Permission.TRIAGE_MESSAGES, "messaging.thread")
def note(patient, thread_id: int):
    current = _thread_or_404(patient, thread_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _render_thread(patient, current, ReplyForm(), True, 422, note_form=form)
    services.add_message(
        current, body=form.body.data, author_id=current_user.id, capacity="care_team", internal=True
    )
    flash(_("Note saved. Only the care team can see it."), "success")
    return _back(patient, current)


@bp.route("/patients/<int:patient_id>/messages/<int:thread_id>/resolve", methods=["POST"])
@patient_route(Permission.TRIAGE_MESSAGES, "messaging.thread")
def resolve(patient, thread_id: int):
    current = _thread_or_404(patient, thread_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        if request.form.get("reopen"):
            services.reopen(current)
        else:
            services.resolve(current, current_user.id)
    except MessagingRuleError as exc:
        return _rule_error(patient, current, exc)
    return _back(patient, current)


@bp.route("/team/inbox")
@login_required
@no_patient_data("the member's inbox across their own patients; each shown thread is audited")
def inbox():
    if current_user.role is not Role.CARE_TEAM:
        abort(404)
    member = services.member_for_user(current_user.id)
    if member is None:
        abort(404)
    view = request.args.get("view", "unassigned")
    if view not in queries.VIEWS:
        abort(404)
    topic = request.args.get("topic") or None
    try:
        topic_value = Topic(topic) if topic else None
    except ValueError:
        abort(404)
    patient_id = request.args.get("patient", type=int)
    page = page_arg()
    rows, total = queries.inbox(member, view, page, topic=topic_value, patient_id=patient_id)
    for row in rows:  # the inbox shows subjects: record who saw whose
        audit.record(
            action="view",
            resource="messaging.inbox",
            resource_id=row.id,
            patient_id=row.patient_id,
            actor_id=current_user.id,
            capacity="care_team",
        )
    unread = queries.unread_counts([t.id for t in rows], current_user.id, include_internal=True)
    return render_template(
        "messaging/inbox.html",
        threads=rows,
        total=total,
        view=view,
        views=VIEW_LABELS,
        topics=TOPIC_LABELS,
        topic=topic,
        patient_id=patient_id,
        page=page,
        pages=page_count(total, queries.PER_PAGE),
        unread=unread,
        patients=queries.my_patients(member),
        is_overdue=services.is_overdue,
        status_open=ThreadStatus.OPEN,
    )


@bp.app_context_processor
def inbox_badge():
    """The count in the care team's navigation: conversations waiting for them."""

    def count() -> int:
        if not current_user.is_authenticated or current_user.role is not Role.CARE_TEAM:
            return 0
        member = services.member_for_user(current_user.id)
        return queries.needs_me_count(member) if member else 0

    return {"inbox_badge": count}
