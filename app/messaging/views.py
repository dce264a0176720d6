"""The patient's message threads with their care team (the core the messaging work extends)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.careplan import queries as plan_queries
from app.careplan.changes import hidden_categories, visible
from app.core.access import Permission, can, patient_route
from app.extensions import db
from app.messaging import bp, services
from app.messaging.forms import NewThreadForm, ReplyForm
from app.messaging.labels import TOPIC_LABELS
from app.messaging.models import Message, Thread, Topic


def _thread_or_404(patient, thread_id: int) -> Thread:
    thread = db.session.scalars(
        sa.select(Thread)
        .where(
            Thread.id == thread_id,
            Thread.patient_id == patient.id,
            visible(Thread.sensitivity, hidden_categories()),
        )
        .options(joinedload(Thread.plan_item))
    ).first()
    if thread is None:
        abort(404)
    return thread


@bp.route("/patients/<int:patient_id>/messages")
@patient_route(Permission.VIEW_MESSAGES, "messaging.threads")
def threads(patient):
    rows = db.session.scalars(
        sa.select(Thread)
        .where(Thread.patient_id == patient.id, visible(Thread.sensitivity, hidden_categories()))
        .order_by(Thread.last_message_at.desc(), Thread.id.desc())
        .limit(50)
    ).all()
    return render_template(
        "messaging/threads.html", patient=patient, threads=rows, topics=TOPIC_LABELS
    )


@bp.route("/patients/<int:patient_id>/messages/new", methods=["GET", "POST"])
@patient_route(Permission.SEND_MESSAGES, "messaging.thread")
def new_thread(patient):
    form = NewThreadForm()
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
        )
        flash(_("Your message was sent to your care team."), "success")
        return redirect(url_for("messaging.thread", patient_id=patient.id, thread_id=thread.id))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "messaging/new_thread.html", patient=patient, form=form, plan_item=plan_item
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
            return redirect(
                url_for("messaging.thread", patient_id=patient.id, thread_id=current.id) + "#latest"
            )
    messages = db.session.scalars(
        sa.select(Message)
        .where(Message.thread_id == current.id)
        .options(joinedload(Message.author))
        .order_by(Message.created_at, Message.id)
    ).all()
    status = 422 if form.is_submitted() and form.errors else 200
    return render_template(
        "messaging/thread.html",
        patient=patient,
        thread=current,
        messages=messages,
        form=form,
        may_reply=may_reply,
        topics=TOPIC_LABELS,
    ), status
