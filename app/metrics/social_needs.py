"""Social needs screening and referral (Oregon's CCO incentive measure): of the patients enrolled
with a care team, how many answered the social needs questions in the period, how many had a
need, how many of those got a referral sent for it, and how many referrals closed the loop
(enrolled or declined). docs/metrics.md#social_needs defines it.

Patient counts, cohort style: the screenings authored in the period, followed to today through
their `screening_referrals` rows and the plan items those point at. Four aggregate queries
whatever the size of the CCO beyond the period's screenings.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.careplan.items.models import PlanItem, ReferralStatus
from app.extensions import db
from app.metrics.measures import (
    WHOLE,
    Breakdown,
    DrillRow,
    Figure,
    Result,
    Scope,
    periods_table,
    register,
    share,
    share_figure,
    spans,
)
from app.screening.labels import NEED_LABELS
from app.screening.models import ScreeningReferral, ScreeningResponse
from app.screening.questions import Need
from app.team.models import CareTeamAssignment

#: The referral steps that close the loop.
CLOSED_LOOP = (ReferralStatus.ENROLLED, ReferralStatus.DECLINED)


def _periods(scope: Scope) -> sa.Subquery:
    return periods_table(spans(scope))


def _enrolled(scope: Scope) -> sa.Subquery:
    """Each patient in scope with a care team, and when they first had one."""
    return (
        sa.select(
            CareTeamAssignment.patient_id.label("pid"),
            sa.func.min(CareTeamAssignment.added_at).label("since"),
        )
        .where(*scope.patient_filter(CareTeamAssignment.patient_id))
        .group_by(CareTeamAssignment.patient_id)
        .subquery("enrolled")
    )


def _distinct_if(condition, column) -> sa.ColumnElement[int]:
    return sa.func.count(sa.distinct(sa.case((condition, column), else_=None)))


def _sent() -> sa.ColumnElement[bool]:
    return PlanItem.referral_status.is_not(None)


@register(
    "social_needs",
    _l("Social needs screening and referral"),
    _l(
        "Of the patients with a care team, how many answered the questions about food, housing, "
        "rides, utilities and safety; of those with a need, how many got a referral, and how "
        "many referrals closed the loop."
    ),
    drill=lambda scope, key, visible, limit: drill(scope, key, visible, limit),
)
def social_needs(scope: Scope) -> Result:
    lo, hi = scope.bounds()
    enrolled = _enrolled(scope)
    periods = _periods(scope)
    base = {
        i: int(n)
        for i, n in db.session.execute(
            sa.select(periods.c.i, sa.func.count(enrolled.c.pid))
            .select_from(periods)
            .join(enrolled, enrolled.c.since < periods.c.hi)
            .group_by(periods.c.i)
        ).all()
    }
    R = ScreeningResponse
    screened = {
        i: (int(n), int(pos))
        for i, n, pos in db.session.execute(
            sa.select(
                periods.c.i,
                sa.func.count(sa.distinct(R.patient_id)),
                _distinct_if(R.positive.is_(True), R.patient_id),
            )
            .select_from(R)
            .join(enrolled, enrolled.c.pid == R.patient_id)
            .join(
                periods,
                sa.and_(
                    R.authored_at >= periods.c.lo,
                    R.authored_at < periods.c.hi,
                    enrolled.c.since < periods.c.hi,
                ),
            )
            .where(R.authored_at >= lo, R.authored_at < hi)
            .group_by(periods.c.i)
        ).all()
    }
    L = ScreeningReferral
    needs_rows = db.session.execute(
        sa.select(
            L.need,
            sa.func.count(sa.distinct(L.patient_id)),
            _distinct_if(_sent(), L.patient_id),
            _distinct_if(PlanItem.referral_status.in_(CLOSED_LOOP), L.patient_id),
        )
        .select_from(L)
        .join(R, R.id == L.response_id)
        .join(enrolled, sa.and_(enrolled.c.pid == L.patient_id, enrolled.c.since < hi))
        .outerjoin(PlanItem, PlanItem.id == L.item_id)
        .where(R.authored_at >= lo, R.authored_at < hi)
        .group_by(L.need)
    ).all()
    totals = db.session.execute(
        sa.select(
            _distinct_if(_sent(), L.patient_id),
            _distinct_if(PlanItem.referral_status.in_(CLOSED_LOOP), L.patient_id),
        )
        .select_from(L)
        .join(R, R.id == L.response_id)
        .join(enrolled, sa.and_(enrolled.c.pid == L.patient_id, enrolled.c.since < hi))
        .outerjoin(PlanItem, PlanItem.id == L.item_id)
        .where(R.authored_at >= lo, R.authored_at < hi)
    ).one()
    eligible = base.get(WHOLE, 0)
    screened_n, positive_n = screened.get(WHOLE, (0, 0))
    referred_n, closed_n = int(totals[0]), int(totals[1])
    waiting = max(positive_n - referred_n, 0)
    figures = [
        share_figure("screened", _l("Screened"), screened_n, eligible),
        share_figure("positive", _l("Had a need"), positive_n, screened_n),
        share_figure("referred", _l("Referred"), referred_n, positive_n),
        share_figure("closed_loop", _l("Loop closed"), closed_n, referred_n),
        Figure("not_referred", _l("Need found, no referral sent yet"), waiting, drill=True),
    ]
    trend = []
    for index in range(len(scope.buckets())):
        count = screened.get(index, (0, 0))[0]
        trend.append(share(count, base.get(index, 0)))
    by_need = {
        need: (int(found), int(sent), int(closed)) for need, found, sent, closed in needs_rows
    }
    rows = []
    for need in Need:
        found, sent, closed = by_need.get(need.value, (0, 0, 0))
        rows.append(
            (
                str(NEED_LABELS[need]),
                [
                    Figure("positive", _l("Had a need"), found),
                    Figure("referred", _l("Referred"), sent),
                    Figure("closed_loop", _l("Loop closed"), closed),
                ],
            )
        )
    return Result(figures, trend, [Breakdown(_("By need"), rows)])


def drill(scope: Scope, key: str, visible: sa.Select, limit: int) -> list[DrillRow]:
    """Needs found in the period with no referral sent yet, newest first: the patient, when,
    which need (safety reads as a neutral "other social need"), and the suggested referral."""
    if key != "not_referred":
        return []
    lo, hi = scope.bounds()
    L, R = ScreeningReferral, ScreeningResponse
    rows = db.session.execute(
        sa.select(L.patient_id, R.authored_at, L.need, L.item_id)
        .join(R, R.id == L.response_id)
        .outerjoin(PlanItem, PlanItem.id == L.item_id)
        .where(
            R.authored_at >= lo,
            R.authored_at < hi,
            L.patient_id.in_(visible),
            L.patient_id.in_(sa.select(CareTeamAssignment.patient_id)),  # enrolled, as counted
            *scope.patient_filter(L.patient_id),
            sa.or_(L.item_id.is_(None), PlanItem.referral_status.is_(None)),
        )
        .order_by(R.authored_at.desc(), L.id.desc())
        .limit(limit)
    ).all()
    return [
        DrillRow(
            patient_id=pid,
            when=when,
            detail=str(_l("Other help") if need == Need.SAFETY else NEED_LABELS[Need(need)]),
            item_id=item_id,
        )
        for pid, when, need, item_id in rows
    ]
