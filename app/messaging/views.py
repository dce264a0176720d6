"""Patients write to their whole care team; the team answers from a shared inbox."""

from __future__ import annotations

import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import Role
from app.caregivers.rules import is_adolescent
from app.careplan.items import queries as plan_queries
from app.careplan.items.models import ItemKind, ReferralNeed
from app.core import audit, idempotency
from app.core.access import Permission, can, no_patient_data, patient_route, role_required
from app.core.errors import on_rule_error
from app.core.forms import EmptyForm
from app.core.pagination import COUNT_CAP, cursor_args, page_arg, page_count
from app.core.privacy import Capacity, Sensitivity, current_actor, hidden
from app.core.urls import MAX_ID, id_arg
from app.messaging import attachments, bp, queries, services
from app.messaging.forms import AssignForm, NewThreadForm, NoteForm, ReplyForm, TakeOverForm
from app.messaging.labels import TOPIC_LABELS, VIEW_LABELS, language_name
from app.messaging.models import Thread, ThreadStatus, Topic
from app.patients.forms import care_language_choices
from app.team import queries as team_queries

#: "Ask about this": the topic a plan item's question goes under, so that it reaches the
#: people who answer that kind of question (a medicine: pharmacy, in 24 h, not the 48 h
#: care-plan queue). A referral for a social need goes to the social services queue.
ITEM_TOPICS = {
    ItemKind.MEDICATION: Topic.MEDICATION,
    ItemKind.APPOINTMENT: Topic.APPOINTMENT,
}


def topic_for_item(item) -> Topic:
    if item.kind is ItemKind.REFERRAL:
        social = item.referral_need not in (None, ReferralNeed.CLINICAL)
        return Topic.SOCIAL_NEEDS if social else Topic.CARE_PLAN
    return ITEM_TOPICS.get(item.kind, Topic.CARE_PLAN)


def _thread_or_404(patient, thread_id: int) -> Thread:
    thread = queries.thread_for(patient.id, thread_id, hidden())
    if thread is None:
        abort(404)
    return thread


def _team_side() -> bool:
    return current_actor().capacity is Capacity.CARE_TEAM


@bp.route("/patients/<int:patient_id>/messages")
@patient_route(Permission.VIEW_MESSAGES, "messaging.threads")
def threads(patient):
    page = page_arg()
    rows, total = queries.patient_threads(patient.id, hidden(), page)
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
        total_unread=queries.unread_total(patient.id, hidden(), current_user.id),
        unread_cap=queries.UNREAD_CAP,
        page=page,
        pages=page_count(total, queries.PER_PAGE),
    )


@bp.route("/patients/<int:patient_id>/messages/new", methods=["GET", "POST"])
@patient_route(Permission.SEND_MESSAGES, "messaging.thread")
def new_thread(patient):
    allow_private = current_actor().capacity is Capacity.PATIENT and is_adolescent(patient)
    form = NewThreadForm(allow_private=allow_private)
    item_id = id_arg("item")
    plan_item = None
    if item_id is not None:
        plan_item = plan_queries.item(patient.id, item_id, hidden())
        if plan_item is None:
            abort(404)
    if request.method == "GET" and plan_item is not None:
        form.topic.data = topic_for_item(plan_item).value
        form.subject.data = _("Question about: %(title)s", title=plan_item.title)[:160]
        form.item.data = str(plan_item.id)
    if form.validate_on_submit():
        if (again := idempotency.replay(form)) is not None:
            return again  # a double-click on Send: the thread the first click started
        thread = services.start_thread(
            patient_id=patient.id,
            topic=Topic(form.topic.data),
            subject=form.subject_or_derived(),
            body=form.body.data,
            author_id=current_user.id,
            capacity=current_actor().capacity.value,
            plan_item=plan_item,
            private=allow_private and form.private.data,
        )
        attachments.attach_to_first(thread, form)
        url = url_for("messaging.thread", patient_id=patient.id, thread_id=thread.id)
        idempotency.remember(form, url)
        flash(_("Your message was sent to your care team."), "success")
        return redirect(url)
    status = 422 if form.is_submitted() else 200
    hours = {Topic(k): v for k, v in current_app.config["MESSAGE_RESPONSE_HOURS"].items()}
    return render_template(
        "messaging/new_thread.html",
        patient=patient,
        form=form,
        plan_item=plan_item,
        team=team_queries.care_team(patient.id, hidden()),
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
            if (again := idempotency.replay(form)) is not None:
                return again
            message = services.add_message(
                current,
                body=form.body.data,
                author_id=current_user.id,
                capacity=current_actor().capacity.value,
            )
            attachments.attach(message, form)
            url = _thread_url(patient, current) + "#latest"
            idempotency.remember(form, url)
            if _team_side():
                flash(_("Sent. The patient gets a notice that a message is waiting."), "success")
            return redirect(url)
    return _render_thread(
        patient, current, form, may_reply, status=422 if form.is_submitted() else 200
    )


def _render_thread(
    patient, current: Thread, form, may_reply: bool, status: int = 200, note_form=None
):
    team_side = _team_side()
    before = id_arg("before")
    messages, earlier = queries.thread_messages(
        current.id, include_internal=team_side, before=before
    )
    services.mark_read(current.id, current_user.id)
    # The team's names and roles: the message authors' roles ("Nurse") come from it, so
    # a member the viewer may not know about (a hidden category) is never named by role.
    team = team_queries.care_team(patient.id, hidden())
    context = {}
    if team_side:
        context = {
            "team": team,
            "assign_form": AssignForm(),
            "take_over_form": TakeOverForm(formdata=None, holder=current.assignee_id),
            "note_form": note_form or NoteForm(),
            "action_form": EmptyForm(),
            "overdue": services.is_overdue(current),
            "me": team_queries.member_for_user(current_user.id),
        }
    else:
        context["expect"] = _expectation(current)
    language = language_name(patient.language)
    if team_side and may_reply:
        # The reply box says which language the patient reads, and is marked as that
        # language (the browser's spelling check, screen readers).
        form.body.description = _reply_language_hint(language, patient.interpreter_needed)
        form.body.render_kw = {
            "lang": patient.language,
            "placeholder": _("Your message in %(language)s", language=language),
        }
    pane = _pane()
    return render_template(
        # The desk's right pane (?pane=1): the same conversation without the page around it,
        # through the same view, policy and audit as the page itself.
        "messaging/_conversation.html" if pane else "messaging/thread.html",
        patient=patient,
        thread=current,
        messages=messages,
        earlier=earlier,
        paged_back=before is not None,
        form=form,
        may_reply=may_reply,
        topics=TOPIC_LABELS,
        team_side=team_side,
        confidential=Sensitivity.CONFIDENTIAL,
        roles={a.member.user_id: a.member for a in team},
        care_languages=dict(care_language_choices()),
        pane=pane,
        **context,
    ), status


def _expectation(current: Thread) -> dict | None:
    """What the patient side is told while it waits: the topic's usual answer time, or an
    apology once the answer is late. Nothing once the team has answered (or it is closed)."""
    if current.awaiting_since is None or current.status is not ThreadStatus.OPEN:
        return None
    return {"late": services.is_overdue(current), "hours": _hours(current.topic)}


def _hours(topic: Topic) -> int:
    return int(current_app.config["MESSAGE_RESPONSE_HOURS"][topic.value])


def _reply_language_hint(language: str, interpreter: bool) -> str:
    if interpreter:
        return _("Write in %(language)s · wants an interpreter", language=language)
    return _("Write in %(language)s", language=language)


def _pane() -> bool:
    """`?pane=1`: the conversation alone, for the team inbox's right pane (static/js/desk.js)."""
    return request.args.get("pane") == "1"


def _thread_url(patient, thread: Thread) -> str:
    return url_for("messaging.thread", patient_id=patient.id, thread_id=thread.id)


def _back(patient, thread: Thread):
    return redirect(_thread_url(patient, thread))


def _refusals_link_back(patient, thread: Thread) -> None:
    """A triage action the rules refuse changes nothing (409) and links back to the thread."""
    on_rule_error(back=_thread_url(patient, thread))


def _my_member_id() -> int:
    member = team_queries.member_for_user(current_user.id)
    if member is None:
        abort(404)
    return member.id


@bp.route("/patients/<int:patient_id>/messages/<int:thread_id>/claim", methods=["POST"])
@patient_route(Permission.TRIAGE_MESSAGES, "messaging.thread")
def claim(patient, thread_id: int):
    """ "Take it": only a thread nobody has; of two people at once, one gets it and the other
    is told who did (409)."""
    current = _thread_or_404(patient, thread_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _refusals_link_back(patient, current)
    if services.take(current, _my_member_id()):
        flash(_("You took this conversation."), "success")
    else:
        flash(_("This conversation is already yours."), "info")
    return _back(patient, current)


@bp.route("/patients/<int:patient_id>/messages/<int:thread_id>/take-over", methods=["POST"])
@patient_route(Permission.TRIAGE_MESSAGES, "messaging.thread")
def take_over(patient, thread_id: int):
    """ "Take over from <name>": the explicit way to take a thread a colleague has."""
    current = _thread_or_404(patient, thread_id)
    form = TakeOverForm()
    if not form.validate_on_submit():
        abort(400)
    _refusals_link_back(patient, current)
    name = services.member_name(form.holder.data)
    services.take_over(current, _my_member_id(), holder_id=form.holder.data)
    flash(_("You took over this conversation from %(name)s.", name=name), "success")
    return _back(patient, current)


@bp.route("/patients/<int:patient_id>/messages/<int:thread_id>/assign", methods=["POST"])
@patient_route(Permission.TRIAGE_MESSAGES, "messaging.thread")
def assign(patient, thread_id: int):
    current = _thread_or_404(patient, thread_id)
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400)
    _refusals_link_back(patient, current)
    services.assign(current, form.member.data)
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
    _refusals_link_back(patient, current)
    if request.form.get("reopen"):
        services.reopen(current)
        flash(_("Opened again. The team can pick it up."), "success")
    else:
        services.resolve(current, current_user.id)
        flash(
            _("Marked resolved. If the patient or a helper writes again, it opens again."),
            "success",
        )
    return _back(patient, current)


@bp.route("/team/inbox")
@role_required(Role.CARE_TEAM)
@no_patient_data("the member's inbox across their own patients; each shown thread is audited")
def inbox():
    member = team_queries.member_for_user(current_user.id)
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
    patient_id = id_arg("patient")
    typed = (request.args.get("q") or "").strip()[:60]
    if "\x00" in typed:
        abort(400)
    opened = _opened_conversation()  # before anything is read or recorded
    after, before = cursor_args()
    filters = {"topic": topic_value, "patient_id": patient_id}
    if typed and patient_id is None:
        filters["patient_ids"] = queries.search_panel(member, typed)
    rows, page, total = queries.inbox(member, view, after=after, before=before, **filters)
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
        count_cap=COUNT_CAP,
        view=view,
        views=VIEW_LABELS,
        topics=TOPIC_LABELS,
        topic=topic,
        patient_id=patient_id,
        typed=typed,
        page=page,
        unread=unread,
        is_overdue=services.is_overdue,
        status_open=ThreadStatus.OPEN,
        opened=opened,
    )


OPEN_ARG = re.compile(r"([0-9]{1,10})-([0-9]{1,10})")


def _opened_conversation() -> dict | None:
    """`?open=<patient id>-<thread id>`: the conversation the desk's right pane shows (the
    address desk.js writes, so that Back and a reload show the same). Only addresses are made
    here: the pane loads the conversation from its own page, through `patient_route` (404 when
    it is not the viewer's). Anything else is a 404, like a bad id in the path."""
    raw = request.args.get("open")
    if raw in (None, ""):
        return None
    found = OPEN_ARG.fullmatch(raw)
    ids = (int(found[1]), int(found[2])) if found else (0, 0)
    if not all(1 <= i <= MAX_ID for i in ids):
        abort(404)
    return {
        "key": raw,
        "page": url_for("messaging.thread", patient_id=ids[0], thread_id=ids[1]),
        "pane": url_for("messaging.thread", patient_id=ids[0], thread_id=ids[1], pane=1),
    }


@bp.app_context_processor
def inbox_badge():
    """The count in the care team's navigation: conversations waiting for them."""

    def count() -> int:
        if not current_user.is_authenticated or current_user.role is not Role.CARE_TEAM:
            return 0
        member = team_queries.member_for_user(current_user.id)
        return queries.needs_me_count(member) if member else 0

    return {"inbox_badge": count, "badge_cap": queries.BADGE_CAP}


@bp.app_template_global("language_name")
def _language_name(code: str) -> str:
    return language_name(code)


@bp.app_template_global()
def care_language_own_name(code: str) -> str | None:
    """The language's name for itself, from the care_languages mapping ("Español")."""
    return dict(care_language_choices()).get(code)


@bp.app_template_global()
def language_cue(patient) -> bool:
    """An inbox row shows the patient's language when it is not the reader's, or when the
    patient wants an interpreter (a row for every English reader in English would be noise)."""
    reader = get_locale()
    return patient.interpreter_needed or patient.language != (reader.language if reader else "en")
