"""The patient's app: Home (what is due today, the next appointment, messages, what waits for
the patient), the tab bar every patient-side page carries, and "More".

Home is for the patient and for a caregiver acting for them; the care team keeps the summary
as its start page. Every card asks the policy (`can`) whether the viewer may see its area, and
every query filters the categories hidden from the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import g, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.auth.models import Role
from app.caregivers.notices import notice_of_team_grants
from app.careplan import changes
from app.careplan.decisions.models import Decision, DecisionStatus
from app.careplan.goals import queries as goal_queries
from app.careplan.goals.models import GoalLifecycle
from app.careplan.items import queries as plan_queries
from app.careplan.items.models import (
    CLOSED_STATUSES,
    ItemKind,
    ItemStatus,
    OwnerKind,
    PlanItem,
    Schedule,
    TaskCompletion,
)
from app.core.access import Permission, can, patient_route
from app.core.db import utcnow
from app.core.privacy import Capacity, current_actor, visible
from app.extensions import db
from app.messaging import queries as message_queries
from app.patients import bp
from app.patients import queries as patient_queries

#: A goal wants a check-in when its last one is older than this (or it has none).
CHECK_IN_EVERY = timedelta(days=7)
SELF_OWNERS = (OwnerKind.PATIENT, OwnerKind.CAREGIVER)


# ------------------------------------------------------------------ the tab bar


@dataclass(frozen=True)
class Tab:
    key: str
    href: str
    label: str
    icon: str
    badge: int = 0
    #: Spoken after the label ("3 due today", "5 unread").
    badge_label: str = ""

    @property
    def badge_text(self) -> str:
        return _capped_text(self.badge, message_queries.UNREAD_CAP)


def due_today_statement(patient_id: int, hidden: frozenset[str], today: date) -> sa.Select:
    """Open self-care tasks of the patient's (or their caregiver's) due today and not yet
    ticked off, in the patient's calendar."""
    ticked = sa.exists().where(
        TaskCompletion.item_id == PlanItem.id, TaskCompletion.for_date == today
    )
    due = sa.or_(
        PlanItem.schedule == Schedule.DAILY,
        sa.and_(PlanItem.schedule == Schedule.WEEKLY, PlanItem.weekday == today.weekday()),
        PlanItem.due_date == today,
    )
    return sa.select(PlanItem.id).where(
        PlanItem.patient_id == patient_id,
        # Medicines carry no schedule yet (some are "when needed"): Home lists them to mark
        # taken, but they are never counted as due.
        PlanItem.kind == ItemKind.TASK,
        PlanItem.owner_kind.in_(SELF_OWNERS),
        PlanItem.status.not_in([*CLOSED_STATUSES, ItemStatus.ON_HOLD]),
        visible(PlanItem.sensitivity, hidden),
        due,
        ~ticked,
    )


def _capped(statement: sa.Select, cap: int) -> sa.ScalarSelect:
    limited = statement.limit(cap + 1).subquery()
    return sa.select(sa.func.count()).select_from(limited).scalar_subquery()


def badges(patient) -> dict[str, int]:
    """The tab bar's counts for this viewer and patient, in one query (once per request)."""
    cached = g.get("_cc_tab_badges")
    if cached is not None and cached[0] == patient.id:
        return cached[1]
    actor = current_actor()
    if actor.patient is None or actor.patient.id != patient.id:
        # A page outside the record (the patient's account page): the tabs without counts, so
        # nothing of the record is read where no audit row says it was.
        return {"due": 0, "unread": 0}
    user = current_user._get_current_object()
    columns = {}
    if can(user, Permission.VIEW_PLAN, patient):
        columns["due"] = _capped(
            due_today_statement(patient.id, actor.hidden, patient.today()),
            message_queries.UNREAD_CAP,
        )
    if can(user, Permission.VIEW_MESSAGES, patient):
        columns["unread"] = _capped(
            message_queries.unread_statement(patient.id, actor.hidden, user.id),
            message_queries.UNREAD_CAP,
        )
    found = {"due": 0, "unread": 0}
    if columns:
        row = db.session.execute(sa.select(*(c.label(k) for k, c in columns.items()))).one()
        found.update(row._asdict())
    g._cc_tab_badges = (patient.id, found)
    return found


HOME_ENDPOINTS = {"patients.home_page", "careplan.items.today"}


def _active_tab(endpoint: str | None) -> str:
    endpoint = endpoint or ""
    if endpoint in HOME_ENDPOINTS:
        return "home"
    if endpoint.startswith("careplan.items."):
        return "plan"
    if endpoint.startswith("messaging."):
        return "messages"
    if endpoint.startswith("careplan.goals."):
        return "goals"
    return "more"


#: The tabs in order: key, endpoint, label, icon, the permission that opens it (None: always),
#: the badge it carries (a key of `badges`) and how that badge is spoken.
TABS = (
    ("home", "patients.home_page", _l("Home"), "house", None, "due", "%(num)s due today"),
    ("plan", "careplan.items.plan", _l("Plan"), "clipboard-list", Permission.VIEW_PLAN, None, ""),
    (
        "messages",
        "messaging.threads",
        _l("Messages"),
        "message-circle",
        Permission.VIEW_MESSAGES,
        "unread",
        "%(num)s unread",
    ),
    ("goals", "careplan.goals.list", _l("Goals"), "target", Permission.VIEW_GOALS, None, ""),
    ("more", "patients.more", _l("More"), "ellipsis", None, None, ""),
)
#: For the catalog: the spoken badges above, passed to gettext at render time.
_SPOKEN = (_l("%(num)s due today"), _l("%(num)s unread"))


def app_tabs(patient) -> list[Tab]:
    """Home, Plan, Messages, Goals, More: the ones this viewer may open for this patient."""
    user = current_user._get_current_object()
    counts = badges(patient)
    tabs = []
    for key, endpoint, label, icon, permission, badge, spoken in TABS:
        if permission is not None and not can(user, permission, patient):
            continue
        count = counts[badge] if badge else 0
        said = gettext(spoken, num=_capped_text(count, message_queries.UNREAD_CAP)) if badge else ""
        tabs.append(
            Tab(key, url_for(endpoint, patient_id=patient.id), str(label), icon, count, said)
        )
    return tabs


def _capped_text(count: int, cap: int) -> str:
    return f"{cap}+" if count > cap else str(count)


def tab_bar_patient():
    """The patient whose tabs this page shows, or None (staff, admins, no record in view).

    Patient-side viewers only: the patient reading their own record (also on their account
    pages) and a caregiver acting for someone."""
    if not current_user.is_authenticated:
        return None
    actor = current_actor()
    if actor.patient is not None:
        return actor.patient if actor.capacity in (Capacity.PATIENT, Capacity.CAREGIVER) else None
    if current_user.role is Role.PATIENT:
        if "_cc_own_patient" not in g:
            g._cc_own_patient = patient_queries.patient_for_user(current_user.id)
        return g._cc_own_patient
    return None


def register_globals(app) -> None:
    app.jinja_env.globals.update(
        app_tabs=app_tabs,
        tab_bar_patient=tab_bar_patient,
        active_tab=lambda: _active_tab(request.endpoint),
    )


# ------------------------------------------------------------------ Home


def next_appointment(patient_id: int, hidden: frozenset[str], now: datetime) -> PlanItem | None:
    """The patient's next appointment the viewer may see (one query, with the organization
    whose phone "Call" falls back to)."""
    return db.session.scalars(
        sa.select(PlanItem)
        .options(joinedload(PlanItem.source_organization))
        .where(
            PlanItem.patient_id == patient_id,
            PlanItem.kind == ItemKind.APPOINTMENT,
            PlanItem.starts_at >= now,
            PlanItem.status.not_in(list(CLOSED_STATUSES)),
            visible(PlanItem.sensitivity, hidden),
        )
        .order_by(PlanItem.starts_at, PlanItem.id)
        .limit(1)
    ).first()


def decisions_waiting(patient_id: int, hidden: frozenset[str], limit: int = 3) -> list[Decision]:
    """Open decisions the patient has not had their say on yet (one query)."""
    return list(
        db.session.scalars(
            sa.select(Decision)
            .where(
                Decision.patient_id == patient_id,
                Decision.status == DecisionStatus.OPEN,
                Decision.preferred_option_id.is_(None),
                visible(Decision.sensitivity, hidden),
            )
            .order_by(Decision.updated_at.desc(), Decision.id.desc())
            .limit(limit)
        )
    )


def goals_waiting(patient_id: int, hidden: frozenset[str], now: datetime) -> dict[str, list]:
    """Goals proposed to the patient (to accept or not) and active goals due a check-in."""
    goals = goal_queries.summary_goals(patient_id, hidden)
    proposed = [goal for goal in goals if goal.lifecycle_status is GoalLifecycle.PROPOSED]
    active = [goal for goal in goals if goal.lifecycle_status is GoalLifecycle.ACTIVE]
    latest = goal_queries.latest_check_ins([goal.id for goal in active]) if active else {}
    due = [
        goal
        for goal in active
        if goal.id not in latest or now - latest[goal.id].recorded_at >= CHECK_IN_EVERY
    ]
    return {"proposed": proposed[:3], "check_in": due[:3]}


@bp.route("/patients/<int:patient_id>/home")
@patient_route(Permission.VIEW_SUMMARY, "patient.home")
def home_page(patient):
    actor = current_actor()
    hidden = actor.hidden
    user = current_user._get_current_object()
    now = utcnow()
    if actor.capacity is Capacity.PATIENT:
        notice_of_team_grants(patient)  # "Your care team gave Ana access...", once
    context: dict = {"patient": patient, "today": patient.today(now)}
    if can(user, Permission.VIEW_PLAN, patient):
        view = plan_queries.today_view(patient, hidden, now)
        entries = view["due"][view["today"]]
        context.update(
            next_appointment=next_appointment(patient.id, hidden, now),
            due_today=[
                (item, done)
                for item, done in entries
                if item.kind is ItemKind.TASK and item.owner_kind in SELF_OWNERS
            ],
            # Today's doses of the medicines the patient side takes, one row per dose.
            medicines=[dose for dose in view["doses"] if dose.item.owner_kind in SELF_OWNERS],
            other_today=[
                item
                for item, _done in entries
                if item.kind is not ItemKind.TASK and item.kind is not ItemKind.APPOINTMENT
            ],
            changed=changes.count_new(patient.id, hidden, _last_seen(user.id, patient.id)),
            can_tick=can(user, Permission.COMPLETE_TASKS, patient),
        )
    if can(user, Permission.VIEW_MESSAGES, patient):
        context["unread"] = badges(patient)["unread"]
    if can(user, Permission.VIEW_DECISIONS, patient):
        context["decisions"] = decisions_waiting(patient.id, hidden)
    if can(user, Permission.VIEW_GOALS, patient):
        context["goals"] = goals_waiting(patient.id, hidden, now)
    if actor.capacity is Capacity.CAREGIVER and "due_today" in context:
        # The caregiver's own jobs for this person (plan items the team gave to them).
        context["my_tasks"] = plan_queries.caregiver_tasks(
            patient, user.id, hidden, context["today"]
        )
    context["unread_cap"] = message_queries.UNREAD_CAP
    return render_template("patients/home.html", **context)


def _last_seen(user_id: int, patient_id: int) -> datetime | None:
    visit = changes.last_visit(user_id, patient_id)
    return visit.seen_at if visit else None


# ------------------------------------------------------------------ More


@bp.route("/patients/<int:patient_id>/more")
@patient_route(Permission.VIEW_SUMMARY, "patient.more")
def more(patient):
    user = current_user._get_current_object()
    actor = current_actor()
    links = []

    def add(permission, endpoint, label, icon, **kw):
        if permission is None or can(user, permission, patient):
            links.append((url_for(endpoint, patient_id=patient.id, **kw), label, icon))

    self_view = actor.capacity is Capacity.PATIENT
    add(Permission.VIEW_DECISIONS, "careplan.decisions.list", _l("Decisions"), "scale")
    add(Permission.VIEW_PLAN, "careplan.changes", _l("What changed"), "history")
    add(Permission.VIEW_PLAN, "careplan.items.today", _l("This week"), "calendar")
    add(Permission.VIEW_SUMMARY, "patients.preferences", _l("Preferences"), "settings")
    add(Permission.TEXT_SETTINGS, "reminders.settings", _l("Text reminders"), "bell")
    add(
        Permission.VIEW_CAREGIVERS,
        "caregivers.helpers",
        _l("People who help me") if self_view else _l("People who help"),
        "users",
    )
    add(
        Permission.VIEW_SCREENING,
        "screening.answers",
        _l("A few questions about your needs"),
        "clipboard-check",
    )
    add(Permission.VIEW_TEXTS, "reminders.texts", _l("Texts we sent"), "message-square-text")
    add(Permission.VIEW_AUDIT_LOG, "patients.access_log", _l("Who has seen my record"), "eye")
    add(
        Permission.VIEW_SUMMARY,
        "patients.summary",
        _l("My details") if self_view else _l("Details"),
        "user",
    )
    return render_template("patients/more.html", patient=patient, links=links)
