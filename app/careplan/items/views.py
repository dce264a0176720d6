"""Plan item pages: Today, My plan, one item; the team's item forms and the flags they settle."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.caregivers.queries import grants_in_force
from app.careplan.items import bp, panels, queries, readings, services
from app.careplan.items.forms import (
    CancelOneForm,
    KeepBothForm,
    PlanItemForm,
    TickForm,
    form_data,
)
from app.careplan.items.labels import (
    AREA_ICONS,
    AREA_LABELS,
    FLAG_PATIENT_TEXT,
    FLAG_TEAM_TEXT,
    KIND_LABELS,
    NEED_LABELS,
    OWNER_LABELS,
    REFERRAL_STATUS_LABELS,
    SCHEDULE_LABELS,
    STATUS_LABELS,
)
from app.careplan.items.models import (
    CLOSED_STATUSES,
    FlagResolution,
    FlagStatus,
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanFlag,
    PlanItem,
    ReferralStatus,
)
from app.careplan.items.services import ItemInput
from app.careplan.labels import WEEKDAY_LABELS
from app.careplan.translations import services as translations
from app.core import audit, idempotency
from app.core.access import Permission, can, patient_route
from app.core.errors import on_rule_error
from app.core.forms import EmptyForm
from app.core.privacy import SENSITIVITY_LABELS, hidden, visible
from app.extensions import db
from app.team import queries as team_queries

LABELS = {
    "kinds": KIND_LABELS,
    "statuses": STATUS_LABELS,
    "areas": AREA_LABELS,
    "area_icons": AREA_ICONS,
    "owners": OWNER_LABELS,
    "referral_statuses": REFERRAL_STATUS_LABELS,
    "needs": NEED_LABELS,
    "schedules": SCHEDULE_LABELS,
    "sensitivities": SENSITIVITY_LABELS,
    "weekdays": WEEKDAY_LABELS,
    "flag_patient": FLAG_PATIENT_TEXT,
    "flag_team": FLAG_TEAM_TEXT,
}


def render(template: str, status: int = 200, **context):
    return render_template(template, labels=LABELS, **context), status


def _item_or_404(patient, item_id: int) -> PlanItem:
    found = queries.item(patient.id, item_id, hidden())
    if found is None:
        abort(404)
    return found


def _detail_url(patient, item_id: int) -> str:
    return url_for("careplan.items.detail", patient_id=patient.id, item_id=item_id)


def tickable(plan_item: PlanItem) -> bool:
    """Patients and caregivers tick off the tasks that are theirs to do (medicines are marked
    taken dose by dose: `doses`)."""
    return plan_item.kind is ItemKind.TASK and plan_item.owner_kind in (
        OwnerKind.PATIENT,
        OwnerKind.CAREGIVER,
    )


@bp.route("/patients/<int:patient_id>/today")
@patient_route(Permission.VIEW_PLAN, "careplan.today")
def today(patient):
    view = queries.today_view(patient, hidden())
    flags = queries.flags_by_item(queries.open_flag_notes(patient.id, hidden()))
    return render(
        "items/today.html",
        patient=patient,
        view=view,
        flags=flags,
        tickable=tickable,
        can_tick=can(current_user, Permission.COMPLETE_TASKS, patient),
    )


@bp.route("/patients/<int:patient_id>/plan")
@patient_route(Permission.VIEW_PLAN, "careplan.plan")
def plan(patient):
    show_closed = request.args.get("show") == "all"
    plan_items = queries.items(patient.id, hidden(), include_closed=show_closed)
    flags = queries.flags_by_item(queries.open_flag_notes(patient.id, hidden()))
    return render(
        "items/plan.html",
        patient=patient,
        groups=queries.group_by_area(plan_items),
        flags=flags,
        show_closed=show_closed,
        can_edit=can(current_user, Permission.EDIT_PLAN, patient),
    )


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>")
@patient_route(Permission.VIEW_PLAN, "careplan.item")
def detail(patient, item_id: int):
    plan_item = _item_or_404(patient, item_id)
    flags = [
        f
        for f in queries.open_flag_notes(patient.id, hidden())
        if plan_item.id in (f.item_a_id, f.item_b_id)
    ]
    return render(
        "items/item.html",
        patient=patient,
        item=plan_item,
        flags=flags,
        zone=patient.zone,
        tickable=tickable(plan_item),
        today=patient.today(),
        can_edit=can(current_user, Permission.EDIT_PLAN, patient),
        can_ask=can(current_user, Permission.SEND_MESSAGES, patient),
        referral_next=sorted(
            services.REFERRAL_NEXT.get(plan_item.referral_status, ()),
            key=list(ReferralStatus).index,
        )
        if plan_item.referral_status
        else [],
        **panels.context_for(patient, plan_item),
    )


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/done", methods=["POST"])
@patient_route(Permission.COMPLETE_TASKS, "careplan.item")
def tick(patient, item_id: int):
    plan_item = _item_or_404(patient, item_id)
    form = TickForm()
    if not form.validate_on_submit() or not tickable(plan_item):
        abort(400)
    day = _day_in_week(patient, form.day.data)
    on_rule_error(back=url_for("careplan.items.today", patient_id=patient.id))
    if request.form.get("undo"):
        services.untick_task(plan_item, day)
    else:
        services.tick_task(plan_item, day)
    # Back where the tap came from: Home or the week (a fixed choice, never a posted URL).
    back = "patients.home_page" if request.form.get("back") == "home" else "careplan.items.today"
    return redirect(url_for(back, patient_id=patient.id) + f"#item-{plan_item.id}")


def _day_in_week(patient, raw: str) -> date:
    """Ticks are for today or the coming six days, in the patient's calendar."""
    try:
        day = date.fromisoformat(raw)
    except (TypeError, ValueError):
        abort(400)
    if not 0 <= (day - patient.today()).days <= 6:
        abort(400)
    return day


# ------------------------------------------------------------------ care team: items


def _form_context(patient):
    return {
        "organizations": team_queries.organizations(),
        "team": team_queries.care_team(patient.id, hidden()),
        "caregivers": grants_in_force(patient_id=patient.id),
        "goals": readings.goal_choices(patient.id, hidden()),
    }


#: Kinds of item the patient does themselves: a new one is theirs to do, whoever adds it.
SELF_CARE_KINDS = frozenset({ItemKind.TASK})


def _new_item_defaults(patient, kind: ItemKind) -> dict:
    """A new item comes from the member's organization and discipline. The member does it,
    unless it is self-care: that is the patient's to do (and to tick off on Today)."""
    defaults = {
        "status": ItemStatus.ACTIVE.value,
        "content_language": translations.default_language(patient),
    }
    if kind in SELF_CARE_KINDS:
        defaults["owner"] = "patient"
    if kind is ItemKind.APPOINTMENT and patient.interpreter_needed:
        defaults["interpreter_booked"] = "no"  # they want one: not booked until someone does
    member = team_queries.member_for_user(current_user.id)
    if member is not None:
        defaults.update(
            source_organization=member.organization_id,
            discipline=member.discipline.value,
        )
        defaults.setdefault("owner", f"member:{member.id}")
    return defaults


@bp.route("/patients/<int:patient_id>/plan/new")
@patient_route(Permission.EDIT_PLAN, "careplan.item")
def choose_kind(patient):
    return render("items/choose_kind.html", patient=patient, kinds=list(ItemKind))


@bp.route("/patients/<int:patient_id>/plan/new/<kind>", methods=["GET", "POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.item")
def new(patient, kind: str):
    try:
        item_kind = ItemKind(kind)
    except ValueError:
        abort(404)
    form = PlanItemForm(
        item_kind,
        **_form_context(patient),
        data=_new_item_defaults(patient, item_kind) if request.method == "GET" else None,
    )
    if form.validate_on_submit():
        if (again := idempotency.replay(form, already=_("That was already saved."))) is not None:
            return again
        plan_item = services.add_item(patient.id, form.to_input(patient))
        idempotency.remember(form, _detail_url(patient, plan_item.id))
        flash(_("Added to the plan."), "success")
        return redirect(_detail_url(patient, plan_item.id))
    return render(
        "items/item_form.html",
        422 if form.is_submitted() else 200,
        patient=patient,
        form=form,
        kind=item_kind,
        plan_item=None,
    )


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/edit", methods=["GET", "POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.item")
def edit(patient, item_id: int):
    plan_item = _item_or_404(patient, item_id)
    if plan_item.status in CLOSED_STATUSES:
        flash(_("This item is closed. Add a new item instead."), "error")
        return redirect(_detail_url(patient, item_id))
    form = PlanItemForm(
        plan_item.kind,
        **_form_context(patient),
        data=form_data(ItemInput.from_item(plan_item), patient)
        if request.method == "GET"
        else None,
        once=False,  # changing an item creates nothing
    )
    if form.validate_on_submit():
        on_rule_error(back=_detail_url(patient, item_id))
        changed = services.update_item(plan_item, form.to_input(patient))
        flash(_("Saved.") if changed else _("Nothing was changed."), "success")
        return redirect(_detail_url(patient, item_id))
    return render(
        "items/item_form.html",
        422 if form.is_submitted() else 200,
        patient=patient,
        form=form,
        kind=plan_item.kind,
        plan_item=plan_item,
    )


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/status/<status>", methods=["POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.item")
def change_status(patient, item_id: int, status: str):
    plan_item = _item_or_404(patient, item_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        new_status = ItemStatus(status)
    except ValueError:
        abort(404)
    on_rule_error(back=_detail_url(patient, item_id))
    services.set_status(plan_item, new_status)
    flash(_("Saved."), "success")
    return redirect(_detail_url(patient, item_id))


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/referral/<step>", methods=["POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.item")
def referral_step(patient, item_id: int, step: str):
    plan_item = _item_or_404(patient, item_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        new_step = ReferralStatus(step)
    except ValueError:
        abort(404)
    on_rule_error(back=_detail_url(patient, item_id))
    services.advance_referral(plan_item, new_step)
    flash(_("Saved."), "success")
    return redirect(_detail_url(patient, item_id))


# ------------------------------------------------------------------ care team: flags


def _flag_or_404(patient, flag_id: int) -> PlanFlag:
    """An open flag of this patient whose items the viewer may see; a settled one is a 409."""
    flag = queries.open_flag(patient.id, flag_id, hidden())
    if flag is not None:
        return flag
    if queries.flag_settled(patient.id, flag_id):
        abort(409)
    abort(404)


def _flag_page(patient, flag: PlanFlag, status: int = 200, keep_form=None):
    return render(
        "items/flag.html",
        status,
        patient=patient,
        flag=flag,
        keep_form=keep_form or KeepBothForm(),
    )


@bp.route("/patients/<int:patient_id>/flags/<int:flag_id>", methods=["GET"])
@patient_route(Permission.EDIT_PLAN, "careplan.flag")
def flag_detail(patient, flag_id: int):
    return _flag_page(patient, _flag_or_404(patient, flag_id))


@bp.route("/patients/<int:patient_id>/flags/<int:flag_id>/keep-both", methods=["POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.flag")
def flag_keep_both(patient, flag_id: int):
    flag = _flag_or_404(patient, flag_id)
    form = KeepBothForm()
    if not form.validate_on_submit():
        return _flag_page(patient, flag, 422, keep_form=form)
    on_rule_error(back=url_for("patients.summary", patient_id=patient.id))
    services.resolve_keep_both(flag, form.reason.data)
    flash(_("Both stay in the plan. The reason is saved."), "success")
    return redirect(url_for("patients.summary", patient_id=patient.id))


@bp.route("/patients/<int:patient_id>/flags/<int:flag_id>/cancel-one", methods=["GET", "POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.flag")
def flag_cancel_one(patient, flag_id: int):
    """ "Cancel this one" asks first. GET (and a POST without confirm=1, e.g. from a flag page
    rendered before the question existed) shows what will happen and changes nothing; only a
    POST with confirm=1 cancels. Of two confirmed POSTs (a double tap, two tabs), the second
    waits for the first (`_hold_open`) and, if it asked for the same, lands where the first
    did instead of on an error; if it asked to cancel the other item, it is refused (409)."""
    summary = url_for("patients.summary", patient_id=patient.id)
    flag = queries.open_flag(patient.id, flag_id, hidden())
    if flag is None and not queries.flag_settled(patient.id, flag_id):
        abort(404)  # not this patient's flag, or no such flag
    if request.method == "POST":
        form = CancelOneForm()
        if not form.validate_on_submit():
            abort(400)
        raw = form.item_id.data
    else:
        raw = request.args.get("item_id", "")
        if not raw:  # the question is about one of the two: choose it on the flag's page
            return redirect(
                url_for("careplan.items.flag_detail", patient_id=patient.id, flag_id=flag_id)
            )
    confirmed = request.method == "POST" and request.form.get("confirm") == "1"
    try:
        target_id = int(raw)
    except ValueError:
        abort(400)
    if flag is not None and confirmed and not _hold_open(flag):
        flag = None
    if flag is None:  # settled, before this request or while it waited
        done = _cancelled_for_flag(patient, flag_id, target_id) if confirmed else None
        if done is None:
            abort(409)
        flash(_("Already done: %(title)s is cancelled.", title=done), "success")
        return redirect(summary)
    pair = {flag.item_a_id: flag.item_a, flag.item_b_id: flag.item_b}
    target = pair.get(target_id)
    if target is None:
        abort(400)
    if not confirmed:
        if request.method == "POST":  # a question asked, nothing changed: a view
            audit.record(action="view", resource="careplan.flag", patient_id=patient.id)
        other = next(item for item_id, item in pair.items() if item_id != target_id)
        return render(
            "items/flag_cancel.html",
            patient=patient,
            flag=flag,
            target=target,
            other=other,
            cancel_form=CancelOneForm(),
        )
    on_rule_error(back=summary)
    services.resolve_cancel_one(flag, target)
    flash(
        _("Cancelled: %(title)s. The other one stays in the plan.", title=target.title), "success"
    )
    return redirect(summary)


def _hold_open(flag: PlanFlag) -> bool:
    """Hold the flag for this request if it is still open: a conditional UPDATE waits for any
    other request settling it (the row lock on PostgreSQL, the write lock on SQLite), then
    finds it open or not. Of two confirmed taps at once, one goes on."""
    held = db.session.execute(
        sa.update(PlanFlag)
        .where(PlanFlag.id == flag.id, PlanFlag.status == FlagStatus.OPEN)
        .values(status=FlagStatus.OPEN)
        .execution_options(synchronize_session=False)
    )
    return held.rowcount == 1


def _cancelled_for_flag(patient, flag_id: int, item_id: int) -> str | None:
    """The title of `item_id` if this flag was settled by cancelling it (a repeated confirm),
    else None."""
    return db.session.scalar(
        sa.select(PlanItem.title)
        .join(
            PlanFlag,
            sa.or_(PlanFlag.item_a_id == PlanItem.id, PlanFlag.item_b_id == PlanItem.id),
        )
        .where(
            PlanFlag.id == flag_id,
            PlanFlag.patient_id == patient.id,
            PlanFlag.status == FlagStatus.RESOLVED,
            PlanFlag.resolution == FlagResolution.CANCELLED_ONE,
            PlanItem.id == item_id,
            PlanItem.patient_id == patient.id,
            PlanItem.status == ItemStatus.CANCELLED,
            visible(PlanItem.sensitivity, hidden()),
        )
    )
