"""Plan pages: Today, My plan, item detail, What changed; the team's item forms and flags."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.careplan import bp, queries, services
from app.careplan.changes import hidden_categories
from app.careplan.forms import CancelOneForm, KeepBothForm, PlanItemForm, TickForm
from app.careplan.labels import (
    AREA_LABELS,
    FLAG_PATIENT_TEXT,
    FLAG_TEAM_TEXT,
    KIND_LABELS,
    NEED_LABELS,
    OWNER_LABELS,
    REFERRAL_STATUS_LABELS,
    SCHEDULE_LABELS,
    SENSITIVITY_LABELS,
    STATUS_LABELS,
    WEEKDAY_LABELS,
)
from app.careplan.models import (
    CLOSED_STATUSES,
    Area,
    FlagStatus,
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanFlag,
    PlanItem,
    ReferralNeed,
    ReferralStatus,
    Schedule,
    Sensitivity,
)
from app.careplan.services import PlanRuleError
from app.core.access import Permission, can, patient_route
from app.core.forms import EmptyForm
from app.core.pagination import page_arg, page_count
from app.extensions import db
from app.patients import queries as patient_queries
from app.team.models import Discipline, Organization

LABELS = {
    "kinds": KIND_LABELS,
    "statuses": STATUS_LABELS,
    "areas": AREA_LABELS,
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
    found = queries.item(patient.id, item_id, hidden_categories())
    if found is None:
        abort(404)
    return found


def _rule_error(patient, exc: Exception, back: str):
    """A change the plan's rules refuse: say why, change nothing (409)."""
    return render("careplan/rule_error.html", 409, patient=patient, message=str(exc), back=back)


def tickable(plan_item: PlanItem) -> bool:
    """Patients and caregivers tick off the tasks that are theirs to do."""
    return plan_item.kind is ItemKind.TASK and plan_item.owner_kind in (
        OwnerKind.PATIENT,
        OwnerKind.CAREGIVER,
    )


@bp.route("/patients/<int:patient_id>/today")
@patient_route(Permission.VIEW_PLAN, "careplan.today")
def today(patient):
    view = queries.today_view(patient, hidden_categories())
    flags = queries.flags_by_item(queries.open_flags(patient.id, hidden_categories()))
    return render(
        "careplan/today.html",
        patient=patient,
        view=view,
        flags=flags,
        tickable=tickable,
        tick_form=EmptyForm(),
        can_tick=can(current_user, Permission.COMPLETE_TASKS, patient),
    )


@bp.route("/patients/<int:patient_id>/plan")
@patient_route(Permission.VIEW_PLAN, "careplan.plan")
def plan(patient):
    show_closed = request.args.get("show") == "all"
    plan_items = queries.items(patient.id, hidden_categories(), include_closed=show_closed)
    flags = queries.flags_by_item(queries.open_flags(patient.id, hidden_categories()))
    return render(
        "careplan/plan.html",
        patient=patient,
        groups=queries.group_by_area(plan_items),
        flags=flags,
        show_closed=show_closed,
        can_edit=can(current_user, Permission.EDIT_PLAN, patient),
    )


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>")
@patient_route(Permission.VIEW_PLAN, "careplan.item")
def item_detail(patient, item_id: int):
    plan_item = _item_or_404(patient, item_id)
    flags = [
        f
        for f in queries.open_flags(patient.id, hidden_categories())
        if plan_item.id in (f.item_a_id, f.item_b_id)
    ]
    return render(
        "careplan/item.html",
        patient=patient,
        item=plan_item,
        flags=flags,
        zone=ZoneInfo(patient.timezone),
        tickable=tickable(plan_item),
        today=services.local_today(patient.timezone),
        action_form=EmptyForm(),
        can_edit=can(current_user, Permission.EDIT_PLAN, patient),
        can_ask=can(current_user, Permission.SEND_MESSAGES, patient),
        referral_next=sorted(
            services.REFERRAL_NEXT.get(plan_item.referral_status, ()),
            key=list(ReferralStatus).index,
        )
        if plan_item.referral_status
        else [],
    )


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/done", methods=["POST"])
@patient_route(Permission.COMPLETE_TASKS, "careplan.item")
def tick(patient, item_id: int):
    plan_item = _item_or_404(patient, item_id)
    form = TickForm()
    if not form.validate_on_submit() or not tickable(plan_item):
        abort(400)
    day = _day_in_week(patient, form.day.data)
    try:
        if request.form.get("undo"):
            services.untick_task(plan_item, day)
        else:
            services.tick_task(plan_item, day, current_user.id)
    except PlanRuleError as exc:
        flash(str(exc), "error")
    return redirect(url_for("careplan.today", patient_id=patient.id) + f"#item-{plan_item.id}")


def _day_in_week(patient, raw: str) -> date:
    """Ticks are for today or the coming six days, in the patient's calendar."""
    try:
        day = date.fromisoformat(raw)
    except (TypeError, ValueError):
        abort(400)
    today_ = services.local_today(patient.timezone)
    if not 0 <= (day - today_).days <= 6:
        abort(400)
    return day


@bp.route("/patients/<int:patient_id>/changes")
@patient_route(Permission.VIEW_PLAN, "careplan.changes")
def changes(patient):
    page = page_arg()
    visit = queries.last_visit(current_user.id, patient.id)
    since = visit.seen_at if visit else None
    rows, total = queries.recent_changes(patient.id, hidden_categories(), page)
    if page == 1:
        queries.mark_seen(current_user.id, patient.id)
    return render(
        "careplan/changes.html",
        patient=patient,
        rows=rows,
        since=since,
        page=page,
        pages=page_count(total, queries.CHANGES_PER_PAGE),
    )


# ------------------------------------------------------------------ care team: items


def _form_context(patient):
    organizations = db.session.scalars(sa.select(Organization).order_by(Organization.name)).all()
    return {
        "organizations": organizations,
        "team": patient_queries.care_team(patient.id),
        "caregivers": patient_queries.current_caregivers(patient.id),
    }


def _apply(form: PlanItemForm, plan_item: PlanItem, patient) -> None:
    kind = form.kind
    plan_item.kind = kind
    plan_item.title = form.title.data.strip()
    plan_item.details = (form.details.data or "").strip() or None
    plan_item.why_it_matters = (form.why_it_matters.data or "").strip() or None
    plan_item.area = Area(form.area.data)
    plan_item.status = ItemStatus(form.status.data)
    plan_item.discipline = Discipline(form.discipline.data)
    plan_item.source_organization_id = form.source_organization.data
    plan_item.sensitivity = Sensitivity(form.sensitivity.data) if form.sensitivity.data else None
    owner = form.owner.data
    plan_item.owner_member_id = plan_item.owner_organization_id = None
    plan_item.owner_caregiver_id = None
    if owner == "patient":
        plan_item.owner_kind = OwnerKind.PATIENT
    else:
        prefix, _sep, raw_id = owner.partition(":")
        plan_item.owner_kind = {
            "member": OwnerKind.TEAM_MEMBER,
            "caregiver": OwnerKind.CAREGIVER,
            "org": OwnerKind.ORGANIZATION,
        }[prefix]
        setattr(
            plan_item,
            {
                "member": "owner_member_id",
                "caregiver": "owner_caregiver_id",
                "org": "owner_organization_id",
            }[prefix],
            int(raw_id),
        )
    text = lambda f: (f.data or "").strip() or None  # noqa: E731
    if kind is ItemKind.MEDICATION:
        plan_item.medication_name = text(form.medication_name)
        plan_item.dose = text(form.dose)
        plan_item.ingredients = [p for p in (form.ingredients.data or "").split(",") if p.strip()]
        plan_item.prescriber_member_id = int(form.prescriber.data) if form.prescriber.data else None
        plan_item.prescriber_name = (
            None if plan_item.prescriber_member_id else text(form.prescriber_name)
        )
    elif kind is ItemKind.APPOINTMENT:
        local = form.starts_at.data
        plan_item.starts_at = local.replace(tzinfo=ZoneInfo(patient.timezone)) if local else None
        plan_item.location = text(form.location)
        plan_item.with_whom = text(form.with_whom)
        plan_item.preparation = text(form.preparation)
        plan_item.interpreter_booked = bool(form.interpreter_booked.data)
    elif kind is ItemKind.REFERRAL:
        plan_item.referred_to = text(form.referred_to)
        plan_item.referral_need = ReferralNeed(form.referral_need.data)
        if form.referral_status.data:
            plan_item.referral_status = ReferralStatus(form.referral_status.data)
    elif kind is ItemKind.TASK:
        plan_item.schedule = Schedule(form.schedule.data)
        plan_item.weekday = (
            int(form.weekday.data) if plan_item.schedule is Schedule.WEEKLY else None
        )
        plan_item.due_date = form.due_date.data if plan_item.schedule is Schedule.ONCE else None
    elif kind is ItemKind.TEST:
        plan_item.code = text(form.code)
        plan_item.code_system = text(form.code_system)
        plan_item.ordering_member_id = (
            int(form.ordering_member.data) if form.ordering_member.data else None
        )
        plan_item.ordering_provider_name = (
            None if plan_item.ordering_member_id else text(form.ordering_provider_name)
        )
        plan_item.ordered_on = form.ordered_on.data
        plan_item.due_date = form.due_date.data
    elif kind is ItemKind.EDUCATION:
        plan_item.resource_url = text(form.resource_url)


def _form_defaults(plan_item: PlanItem, patient) -> dict:
    data = {
        "title": plan_item.title,
        "details": plan_item.details,
        "why_it_matters": plan_item.why_it_matters,
        "area": plan_item.area.value,
        "status": plan_item.status.value,
        "discipline": plan_item.discipline.value,
        "source_organization": plan_item.source_organization_id,
        "sensitivity": plan_item.sensitivity.value if plan_item.sensitivity else "",
        "medication_name": plan_item.medication_name,
        "dose": plan_item.dose,
        "ingredients": ", ".join(plan_item.ingredients or []),
        "prescriber": str(plan_item.prescriber_member_id or ""),
        "prescriber_name": plan_item.prescriber_name,
        "starts_at": plan_item.starts_at.astimezone(ZoneInfo(patient.timezone)).replace(tzinfo=None)
        if plan_item.starts_at
        else None,
        "location": plan_item.location,
        "with_whom": plan_item.with_whom,
        "preparation": plan_item.preparation,
        "interpreter_booked": bool(plan_item.interpreter_booked),
        "referred_to": plan_item.referred_to,
        "referral_need": plan_item.referral_need.value if plan_item.referral_need else "",
        "referral_status": plan_item.referral_status.value if plan_item.referral_status else "",
        "schedule": plan_item.schedule.value if plan_item.schedule else "",
        "weekday": "" if plan_item.weekday is None else str(plan_item.weekday),
        "due_date": plan_item.due_date,
        "code": plan_item.code,
        "code_system": plan_item.code_system or "",
        "ordering_member": str(plan_item.ordering_member_id or ""),
        "ordering_provider_name": plan_item.ordering_provider_name,
        "ordered_on": plan_item.ordered_on,
        "resource_url": plan_item.resource_url,
    }
    owner = {
        OwnerKind.PATIENT: "patient",
        OwnerKind.TEAM_MEMBER: f"member:{plan_item.owner_member_id}",
        OwnerKind.CAREGIVER: f"caregiver:{plan_item.owner_caregiver_id}",
        OwnerKind.ORGANIZATION: f"org:{plan_item.owner_organization_id}",
    }[plan_item.owner_kind]
    data["owner"] = owner
    return data


@bp.route("/patients/<int:patient_id>/plan/new")
@patient_route(Permission.EDIT_PLAN, "careplan.item")
def choose_kind(patient):
    return render("careplan/choose_kind.html", patient=patient, kinds=list(ItemKind))


@bp.route("/patients/<int:patient_id>/plan/new/<kind>", methods=["GET", "POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.item")
def new_item(patient, kind: str):
    try:
        item_kind = ItemKind(kind)
    except ValueError:
        abort(404)
    defaults = {"status": ItemStatus.ACTIVE.value}
    if request.method == "GET":
        defaults.update(_default_owner_and_org(patient))
    form = PlanItemForm(
        item_kind, **_form_context(patient), data=defaults if request.method == "GET" else None
    )
    if form.validate_on_submit():
        plan_item = PlanItem()
        _apply(form, plan_item, patient)
        services.add_item(patient.id, plan_item, current_user.id)
        flash(_("Added to the plan."), "success")
        return redirect(
            url_for("careplan.item_detail", patient_id=patient.id, item_id=plan_item.id)
        )
    return render(
        "careplan/item_form.html",
        422 if form.is_submitted() else 200,
        patient=patient,
        form=form,
        kind=item_kind,
        plan_item=None,
    )


def _default_owner_and_org(patient) -> dict:
    from app.team.models import CareTeamMember

    member = db.session.scalar(
        sa.select(CareTeamMember).where(CareTeamMember.user_id == current_user.id)
    )
    if member is None:
        return {}
    return {
        "source_organization": member.organization_id,
        "owner": f"member:{member.id}",
        "discipline": member.discipline.value,
    }


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/edit", methods=["GET", "POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.item")
def edit_item(patient, item_id: int):
    plan_item = _item_or_404(patient, item_id)
    if plan_item.status in CLOSED_STATUSES:
        flash(_("This item is closed. Add a new item instead."), "error")
        return redirect(url_for("careplan.item_detail", patient_id=patient.id, item_id=item_id))
    form = PlanItemForm(
        plan_item.kind,
        **_form_context(patient),
        data=_form_defaults(plan_item, patient) if request.method == "GET" else None,
    )
    if form.validate_on_submit():
        before = services.snapshot(plan_item)
        _apply(form, plan_item, patient)
        changed = services.save_item(plan_item, before)
        flash(_("Saved.") if changed else _("Nothing was changed."), "success")
        return redirect(url_for("careplan.item_detail", patient_id=patient.id, item_id=item_id))
    return render(
        "careplan/item_form.html",
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
        services.set_status(plan_item, new_status)
        flash(_("Saved."), "success")
    except ValueError:
        abort(404)
    except PlanRuleError as exc:
        return _rule_error(
            patient, exc, url_for("careplan.item_detail", patient_id=patient.id, item_id=item_id)
        )
    return redirect(url_for("careplan.item_detail", patient_id=patient.id, item_id=item_id))


@bp.route("/patients/<int:patient_id>/plan/items/<int:item_id>/referral/<step>", methods=["POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.item")
def referral_step(patient, item_id: int, step: str):
    plan_item = _item_or_404(patient, item_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.advance_referral(plan_item, ReferralStatus(step))
    except ValueError:
        abort(404)
    except PlanRuleError as exc:
        return _rule_error(
            patient, exc, url_for("careplan.item_detail", patient_id=patient.id, item_id=item_id)
        )
    flash(_("Saved."), "success")
    return redirect(url_for("careplan.item_detail", patient_id=patient.id, item_id=item_id))


# ------------------------------------------------------------------ care team: flags


def _flag_or_404(patient, flag_id: int) -> PlanFlag:
    """An open flag of this patient whose items the viewer may see; a settled one is a 409."""
    for flag in queries.open_flags(patient.id, hidden_categories()):
        if flag.id == flag_id:
            return flag
    settled = db.session.scalar(
        sa.select(PlanFlag.id).where(
            PlanFlag.id == flag_id,
            PlanFlag.patient_id == patient.id,
            PlanFlag.status == FlagStatus.RESOLVED,
        )
    )
    if settled is not None:
        abort(409)
    abort(404)


@bp.route("/patients/<int:patient_id>/flags/<int:flag_id>", methods=["GET"])
@patient_route(Permission.EDIT_PLAN, "careplan.flag")
def flag_detail(patient, flag_id: int):
    flag = _flag_or_404(patient, flag_id)
    return render(
        "careplan/flag.html",
        patient=patient,
        flag=flag,
        keep_form=KeepBothForm(),
        cancel_form=CancelOneForm(),
    )


@bp.route("/patients/<int:patient_id>/flags/<int:flag_id>/keep-both", methods=["POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.flag")
def flag_keep_both(patient, flag_id: int):
    flag = _flag_or_404(patient, flag_id)
    form = KeepBothForm()
    if form.validate_on_submit():
        try:
            services.resolve_keep_both(flag, form.reason.data, current_user.id)
        except PlanRuleError as exc:
            return _rule_error(patient, exc, url_for("patients.summary", patient_id=patient.id))
        flash(_("Both stay in the plan. The reason is saved."), "success")
        return redirect(url_for("patients.summary", patient_id=patient.id))
    return render(
        "careplan/flag.html",
        422,
        patient=patient,
        flag=flag,
        keep_form=form,
        cancel_form=CancelOneForm(),
    )


@bp.route("/patients/<int:patient_id>/flags/<int:flag_id>/cancel-one", methods=["POST"])
@patient_route(Permission.EDIT_PLAN, "careplan.flag")
def flag_cancel_one(patient, flag_id: int):
    flag = _flag_or_404(patient, flag_id)
    form = CancelOneForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        target_id = int(form.item_id.data)
    except ValueError:
        abort(400)
    target = (
        flag.item_a
        if target_id == flag.item_a_id
        else (flag.item_b if target_id == flag.item_b_id else None)
    )
    if target is None:
        abort(400)
    try:
        services.resolve_cancel_one(flag, target, current_user.id)
    except PlanRuleError as exc:
        return _rule_error(patient, exc, url_for("patients.summary", patient_id=patient.id))
    flash(_("Cancelled: %(title)s", title=target.title), "success")
    return redirect(url_for("patients.summary", patient_id=patient.id))
