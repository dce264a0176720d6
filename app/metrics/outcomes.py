"""Outcome measures: goals in the patient's own words, shared decisions, reminders, appointment
no-shows with and without a reminder, and duplicate tests / medicine conflicts with the cost the
cancelled duplicates avoided. docs/metrics.md defines each (#goals, #decisions, #reminders,
#no_shows, #flags).

Every figure is an aggregate query over the period's rows, limited by `Scope.patient_filter`;
the trend is the same query grouped by `Scope.bucket_of` (or, for a figure that is a state at a
moment or overlaps the buckets, joined with a small table of the buckets' bounds).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.careplan.decisions.models import Decision, DecisionEntry, DecisionEntryKind, DecisionStatus
from app.careplan.goals.models import Goal, GoalAchievement, GoalCheckIn
from app.careplan.items.models import (
    Attendance,
    FlagKind,
    FlagResolution,
    FlagStatus,
    ItemKind,
    PlanFlag,
    PlanItem,
)
from app.careplan.models import ChangeKind, ChangeSubject, PlanChange
from app.core.privacy import PATIENT_SIDE
from app.extensions import db
from app.metrics.measures import (
    WHOLE,
    DrillRow,
    Figure,
    Kind,
    Result,
    Scope,
    periods_table,
    register,
    share,
    share_figure,
    spans,
)
from app.reminders.recipients import CAPPED_PURPOSES
from app.texting.models import InboundSms, OutboundSms, PhoneOptOut

#: The texts that are reminders (the planner's purposes: appointments, medicines, tasks,
#: goal check-ins); notices, codes and invitations are not.
REMINDER_PURPOSES = tuple(sorted(CAPPED_PURPOSES))
APPOINTMENT_PURPOSE = "appointment"
#: Delivery statuses (texting.status): handed to the text service, then its outcome.
DELIVERED = ("delivered", "read")
NOT_DELIVERED = ("undelivered", "failed")
SKIPPED = "skipped"
#: Who writes a goal "in their own words".
OWN_WORDS = tuple(sorted(c.value for c in PATIENT_SIDE))
#: Medicine conflicts (the other kind of flag is a duplicate test).
MEDICINE_FLAGS = (FlagKind.DUPLICATE_MEDICATION, FlagKind.SAME_INGREDIENT)
#: A flag the team settled itself (GONE: it went away when an item closed or changed).
SETTLED = (FlagResolution.KEEP_BOTH, FlagResolution.CANCELLED_ONE)

#: The index of the whole period in `_periods` (the buckets are 0..n-1).


def _periods(scope: Scope) -> sa.Subquery:
    return periods_table(spans(scope))


def _trend(scope: Scope, by_bucket: dict[int, float | int | None]) -> list:
    return [by_bucket.get(index) for index in range(len(scope.buckets()))]


def _in(column, lo, hi) -> sa.ColumnElement[bool]:
    return sa.and_(column >= lo, column < hi)


def _count_if(condition) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


# ------------------------------------------------------------------ goals


@register(
    "goals",
    _l("Goals in the patient's own words"),
    _l(
        "Of the patients with a care plan, how many have a goal they or their caregiver wrote; "
        "and how many goals were reached."
    ),
)
def goals(scope: Scope) -> Result:
    lo, hi = scope.bounds()
    planned = sa.union_all(
        sa.select(PlanItem.patient_id.label("pid"), PlanItem.created_at.label("at")).where(
            PlanItem.created_at < hi, *scope.patient_filter(PlanItem.patient_id)
        ),
        sa.select(Goal.patient_id, Goal.created_at).where(
            Goal.created_at < hi, *scope.patient_filter(Goal.patient_id)
        ),
    ).subquery("planned")
    first_plan = (
        sa.select(planned.c.pid, sa.func.min(planned.c.at).label("first"))
        .group_by(planned.c.pid)
        .subquery("first_plan")
    )
    first_own = (
        sa.select(Goal.patient_id.label("pid"), sa.func.min(Goal.created_at).label("first"))
        .where(
            Goal.expressed_by_capacity.in_(OWN_WORDS),
            Goal.created_at < hi,
            *scope.patient_filter(Goal.patient_id),
        )
        .group_by(Goal.patient_id)
        .subquery("first_own")
    )
    periods = _periods(scope)
    rows = db.session.execute(
        sa.select(
            periods.c.i,
            sa.func.count(first_plan.c.pid),
            _count_if(first_own.c.first < periods.c.hi),
        )
        .select_from(first_plan)
        .join(periods, first_plan.c.first < periods.c.hi)
        .outerjoin(first_own, first_own.c.pid == first_plan.c.pid)
        .group_by(periods.c.i)
    ).all()
    at_end = {i: (int(own), int(with_plan)) for i, with_plan, own in rows}
    own, with_plan = at_end.get(WHOLE, (0, 0))

    reached = sa.union(
        # a check-in that says "achieved" (the goal may go on)
        sa.select(GoalCheckIn.goal_id.label("goal_id")).where(
            GoalCheckIn.achievement_status == GoalAchievement.ACHIEVED,
            _in(GoalCheckIn.recorded_at, lo, hi),
        ),
        # finished as achieved
        sa.select(PlanChange.subject_id).where(
            PlanChange.subject == ChangeSubject.GOAL,
            PlanChange.change == ChangeKind.COMPLETED,
            _in(PlanChange.occurred_at, lo, hi),
        ),
    ).subquery("reached")
    achieved, set_in_period = db.session.execute(
        sa.select(
            sa.select(sa.func.count(sa.distinct(Goal.id)))
            .join(reached, reached.c.goal_id == Goal.id)
            .where(
                Goal.achievement_status == GoalAchievement.ACHIEVED,
                *scope.patient_filter(Goal.patient_id),
            )
            .scalar_subquery(),
            sa.select(sa.func.count(Goal.id))
            .where(
                Goal.expressed_by_capacity.in_(OWN_WORDS),
                _in(Goal.created_at, lo, hi),
                *scope.patient_filter(Goal.patient_id),
            )
            .scalar_subquery(),
        )
    ).one()
    return Result(
        figures=[
            share_figure(
                "own_words", _l("Patients with a goal in their own words"), own, with_plan
            ),
            Figure("achieved", _l("Goals reached in the period"), achieved),
            Figure("set", _l("Goals the patient side set in the period"), set_in_period),
        ],
        trend=_trend(scope, {i: share(o, w) for i, (o, w) in at_end.items()}),
    )


# ------------------------------------------------------------------ shared decisions


@register(
    "decisions",
    _l("Shared decisions made"),
    _l("Of the shared decisions open at some time in the period, how many were decided in it."),
)
def decisions(scope: Scope) -> Result:
    _lo, hi = scope.bounds()
    withdrawn_at = (
        sa.select(sa.func.min(DecisionEntry.created_at))
        .where(
            DecisionEntry.decision_id == Decision.id,
            DecisionEntry.kind == DecisionEntryKind.WITHDRAWN,
        )
        .scalar_subquery()
    )
    closed_at = sa.case(
        (Decision.status == DecisionStatus.DECIDED, Decision.decided_at),
        (Decision.status == DecisionStatus.WITHDRAWN, withdrawn_at),
        else_=sa.null(),
    )
    rows = (
        sa.select(
            Decision.created_at.label("opened"),
            closed_at.label("closed"),
            Decision.status.label("status"),
            Decision.decided_at.label("decided"),
        )
        .where(Decision.created_at < hi, *scope.patient_filter(Decision.patient_id))
        .subquery("d")
    )
    periods = _periods(scope)
    found = db.session.execute(
        sa.select(
            periods.c.i,
            sa.func.count(),
            _count_if(
                sa.and_(
                    rows.c.status == DecisionStatus.DECIDED,
                    _in(rows.c.decided, periods.c.lo, periods.c.hi),
                )
            ),
            _count_if(
                sa.and_(
                    rows.c.status == DecisionStatus.WITHDRAWN,
                    _in(rows.c.closed, periods.c.lo, periods.c.hi),
                )
            ),
        )
        .select_from(rows)
        .join(
            periods,
            sa.and_(
                rows.c.opened < periods.c.hi,
                sa.or_(rows.c.closed.is_(None), rows.c.closed >= periods.c.lo),
            ),
        )
        .group_by(periods.c.i)
    ).all()
    by_period = {i: (int(decided), int(opened), int(gone)) for i, opened, decided, gone in found}
    decided, opened, withdrawn = by_period.get(WHOLE, (0, 0, 0))
    return Result(
        figures=[
            share_figure(
                "decided_share", _l("Decided, of those open in the period"), decided, opened
            ),
            Figure("decided", _l("Decisions made"), decided),
            Figure("open", _l("Decisions open in the period"), opened),
            Figure("withdrawn", _l("Decisions withdrawn"), withdrawn),
        ],
        trend=_trend(scope, {i: share(d, o) for i, (d, o, _w) in by_period.items()}),
    )


# ------------------------------------------------------------------ reminders


def _text_moment():
    """When a text counts: when it went to the text service, else when it was due."""
    return sa.func.coalesce(OutboundSms.sent_at, OutboundSms.send_after)


def _went_out():
    """Handed to the text service (a refusal at once has no sent_at but was sent)."""
    return sa.or_(OutboundSms.sent_at.is_not(None), OutboundSms.status.in_(NOT_DELIVERED))


def _reminder_in(scope: Scope, lo, hi) -> list:
    return [
        OutboundSms.purpose.in_(REMINDER_PURPOSES),
        _in(_text_moment(), lo, hi),
        *scope.patient_filter(OutboundSms.patient_id),
    ]


@register(
    "reminders",
    _l("Reminder texts"),
    _l(
        "Reminder texts sent, delivered and not delivered; appointments confirmed; and how many "
        "of the patients texted asked for no more texts."
    ),
)
def reminders(scope: Scope) -> Result:
    lo, hi = scope.bounds()
    bucket = scope.bucket_of(_text_moment()).label("bucket")
    rows = db.session.execute(
        sa.select(
            bucket,
            _count_if(_went_out()),
            _count_if(OutboundSms.status.in_(DELIVERED)),
            _count_if(OutboundSms.status.in_(NOT_DELIVERED)),
            _count_if(OutboundSms.status == SKIPPED),
        )
        .where(*_reminder_in(scope, lo, hi))
        .group_by(bucket)
    ).all()
    sent = sum(int(r[1]) for r in rows)
    delivered = sum(int(r[2]) for r in rows)
    failed = sum(int(r[3]) for r in rows)
    skipped = sum(int(r[4]) for r in rows)

    # Who was texted in the period (at which numbers), and who of them said STOP in it.
    texted = (
        sa.select(OutboundSms.patient_id.label("pid"), OutboundSms.to_number.label("phone"))
        .where(*_reminder_in(scope, lo, hi), _went_out(), OutboundSms.patient_id.is_not(None))
        .distinct()
        .subquery("texted")
    )
    stopped = sa.or_(
        sa.exists().where(
            InboundSms.patient_id == texted.c.pid,
            InboundSms.handled_as == "opt_out",
            _in(InboundSms.received_at, lo, hi),
        ),
        sa.exists().where(
            PhoneOptOut.phone == texted.c.phone,
            PhoneOptOut.opted_out.is_(True),
            _in(PhoneOptOut.changed_at, lo, hi),
        ),
    )
    reminder_before_confirm = sa.exists().where(
        OutboundSms.plan_item_id == PlanItem.id,
        OutboundSms.purpose == APPOINTMENT_PURPOSE,
        OutboundSms.sent_at.is_not(None),
        OutboundSms.sent_at <= PlanItem.patient_confirmed_at,
    )
    patients, opted_out, confirmed, by_text = db.session.execute(
        sa.select(
            sa.select(sa.func.count(sa.distinct(texted.c.pid))).scalar_subquery(),
            sa.select(sa.func.count(sa.distinct(texted.c.pid))).where(stopped).scalar_subquery(),
            sa.select(sa.func.count(PlanItem.id))
            .where(
                PlanItem.kind == ItemKind.APPOINTMENT,
                _in(PlanItem.patient_confirmed_at, lo, hi),
                reminder_before_confirm,
                *scope.patient_filter(PlanItem.patient_id),
            )
            .scalar_subquery(),
            sa.select(sa.func.count(InboundSms.id))
            .where(
                InboundSms.handled_as == "confirm",
                _in(InboundSms.received_at, lo, hi),
                *scope.patient_filter(InboundSms.patient_id),
            )
            .scalar_subquery(),
        )
    ).one()
    return Result(
        figures=[
            share_figure("delivered_share", _l("Delivered, of reminders sent"), delivered, sent),
            Figure("sent", _l("Reminders sent"), sent),
            Figure("delivered", _l("Delivered"), delivered),
            Figure("failed", _l("Not delivered"), failed),
            Figure("skipped", _l("Not sent (limits or settings)"), skipped),
            Figure("confirmed", _l("Appointments confirmed after a reminder"), confirmed),
            Figure("confirmed_by_text", _l("Confirmed by texting C"), by_text),
            share_figure(
                "opt_out", _l("Patients texted who asked for no more texts"), opted_out, patients
            ),
        ],
        trend=_trend(scope, {int(r[0]): share(int(r[2]), int(r[1])) for r in rows}),
    )


# ------------------------------------------------------------------ appointment no-shows


def reminded_before_start() -> sa.ColumnElement[bool]:
    """An appointment reminder for this item went to the text service before it started and
    was not reported undelivered."""
    return sa.exists().where(
        OutboundSms.plan_item_id == PlanItem.id,
        OutboundSms.purpose == APPOINTMENT_PURPOSE,
        OutboundSms.sent_at.is_not(None),
        OutboundSms.sent_at < PlanItem.starts_at,
        OutboundSms.status.not_in(NOT_DELIVERED),
    )


def _recorded_in(scope: Scope) -> list:
    lo, hi = scope.bounds()
    return [
        PlanItem.kind == ItemKind.APPOINTMENT,
        PlanItem.attendance.is_not(None),
        _in(PlanItem.starts_at, lo, hi),
        *scope.patient_filter(PlanItem.patient_id),
    ]


#: Which no-shows each figure's drill-down lists (True: reminded, False: not, None: all).
NO_SHOW_DRILLS = {
    "no_show_rate": None,
    "no_shows": None,
    "reminded_rate": True,
    "not_reminded_rate": False,
}


def no_show_rows(
    scope: Scope, figure_key: str, visible_patient_ids: sa.Select, limit: int
) -> list[DrillRow]:
    """The no-show appointments behind a figure, newest first, of the patients the viewer may
    see (the dashboard checks the policy and audits each row)."""
    if figure_key not in NO_SHOW_DRILLS:
        return []
    conditions = [
        *_recorded_in(scope),
        PlanItem.attendance == Attendance.NO_SHOW,
        PlanItem.patient_id.in_(visible_patient_ids),
    ]
    wanted = NO_SHOW_DRILLS[figure_key]
    if wanted is not None:
        conditions.append(reminded_before_start() if wanted else ~reminded_before_start())
    found = db.session.execute(
        sa.select(PlanItem.id, PlanItem.patient_id, PlanItem.starts_at)
        .where(*conditions)
        .order_by(PlanItem.starts_at.desc(), PlanItem.id.desc())
        .limit(limit)
    ).all()
    detail = _("Did not come")
    return [DrillRow(pid, starts, detail, item_id=item_id) for item_id, pid, starts in found]


@register(
    "no_shows",
    _l("Missed appointments, reminded or not"),
    _l(
        "Of the appointments in the period whose attendance the team recorded, how many the "
        "patient missed, for those with a reminder text before and those without."
    ),
    drill=no_show_rows,
)
def no_shows(scope: Scope) -> Result:
    inner = (
        sa.select(
            scope.bucket_of(PlanItem.starts_at).label("bucket"),
            sa.case((reminded_before_start(), 1), else_=0).label("reminded"),
            sa.case((PlanItem.attendance == Attendance.NO_SHOW, 1), else_=0).label("missed"),
        )
        .where(*_recorded_in(scope))
        .subquery("recorded")
    )
    rows = db.session.execute(
        sa.select(
            inner.c.bucket, inner.c.reminded, sa.func.count(), sa.func.sum(inner.c.missed)
        ).group_by(inner.c.bucket, inner.c.reminded)
    ).all()
    totals = {(1, "n"): 0, (1, "m"): 0, (0, "n"): 0, (0, "m"): 0}
    per_bucket: dict[int, list[int]] = {}
    for bucket, reminded, count, missed in rows:
        totals[(int(reminded), "n")] += int(count)
        totals[(int(reminded), "m")] += int(missed or 0)
        cell = per_bucket.setdefault(int(bucket), [0, 0])
        cell[0] += int(missed or 0)
        cell[1] += int(count)
    r_n, r_m = totals[(1, "n")], totals[(1, "m")]
    u_n, u_m = totals[(0, "n")], totals[(0, "m")]
    return Result(
        figures=[
            Figure(
                "no_show_rate",
                _l("Missed, of appointments recorded"),
                share(r_m + u_m, r_n + u_n),
                Kind.SHARE,
                r_m + u_m,
                r_n + u_n,
                drill=True,
            ),
            Figure(
                "reminded_rate",
                _l("Missed, with a reminder text"),
                share(r_m, r_n),
                Kind.SHARE,
                r_m,
                r_n,
                drill=True,
            ),
            Figure(
                "not_reminded_rate",
                _l("Missed, without a reminder text"),
                share(u_m, u_n),
                Kind.SHARE,
                u_m,
                u_n,
                drill=True,
            ),
            Figure("no_shows", _l("Appointments missed"), r_m + u_m, drill=True),
            Figure("recorded", _l("Appointments with attendance recorded"), r_n + u_n),
        ],
        trend=_trend(scope, {b: share(m, n) for b, (m, n) in per_bucket.items()}),
    )


# ------------------------------------------------------------------ duplicate tests, conflicts


def price_of_test(code_system: str | None, code: str | None) -> float:
    """What one test costs (config TEST_PRICES by "SYSTEM:CODE", then by the code alone, else
    TEST_PRICE_DEFAULT_USD), in US dollars."""
    prices = current_app.config["TEST_PRICES"]
    system = (code_system or "").strip().upper()
    clean = (code or "").strip().upper()
    for key in (f"{system}:{clean}", clean):
        if key in prices:
            return float(prices[key])
    return float(current_app.config["TEST_PRICE_DEFAULT_USD"])


@register(
    "flags",
    _l("Duplicate tests and medicine conflicts"),
    _l(
        "Possible duplicate tests and medicine conflicts found and settled by the team, and "
        "what the duplicate tests it cancelled would have cost."
    ),
)
def flags(scope: Scope) -> Result:
    lo, hi = scope.bounds()
    is_test = PlanFlag.kind == FlagKind.DUPLICATE_TEST
    raised_tests, raised_medicines = db.session.execute(
        sa.select(_count_if(is_test), _count_if(~is_test)).where(
            _in(PlanFlag.created_at, lo, hi), *scope.patient_filter(PlanFlag.patient_id)
        )
    ).one()
    bucket = scope.bucket_of(PlanFlag.resolved_at).label("bucket")
    settled = db.session.execute(
        sa.select(
            bucket,
            PlanFlag.kind,
            PlanFlag.resolution,
            PlanItem.code_system,
            PlanItem.code,
            sa.func.count(),
        )
        .join(PlanItem, PlanItem.id == PlanFlag.item_a_id)  # a duplicate pair has one code
        .where(
            PlanFlag.status == FlagStatus.RESOLVED,
            PlanFlag.resolution.in_(SETTLED),
            _in(PlanFlag.resolved_at, lo, hi),
            *scope.patient_filter(PlanFlag.patient_id),
        )
        .group_by(bucket, PlanFlag.kind, PlanFlag.resolution, PlanItem.code_system, PlanItem.code)
    ).all()
    flat = float(current_app.config["MEDICATION_CONFLICT_SAVING_USD"])
    saved: dict[int, float] = {}
    tests_settled = medicines_settled = tests_cancelled = 0
    for index, kind, resolution, system, code, count in settled:
        amount = 0.0
        if kind is FlagKind.DUPLICATE_TEST:
            tests_settled += count
            if resolution is FlagResolution.CANCELLED_ONE:
                tests_cancelled += count
                amount = price_of_test(system, code) * count
        else:
            medicines_settled += count
            if resolution is FlagResolution.CANCELLED_ONE:
                amount = flat * count
        saved[int(index)] = saved.get(int(index), 0.0) + amount
    total = round(sum(saved.values()), 2) if settled else None
    return Result(
        figures=[
            Figure("cost_avoided", _l("Cost avoided (estimate)"), total, Kind.MONEY),
            Figure("tests_flagged", _l("Possible duplicate tests found"), int(raised_tests)),
            Figure("tests_settled", _l("Duplicate tests settled"), tests_settled),
            Figure("tests_cancelled", _l("Duplicate tests cancelled"), tests_cancelled),
            Figure(
                "medicines_flagged", _l("Possible medicine conflicts found"), int(raised_medicines)
            ),
            Figure("medicines_settled", _l("Medicine conflicts settled"), medicines_settled),
        ],
        trend=_trend(scope, {i: round(v, 2) for i, v in saved.items()}),
    )
