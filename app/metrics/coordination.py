"""Coordination measures: message response time, portal activation, care plan reviewed,
caregiver engagement and language access (docs/metrics.md says what each counts).

Each measure is a few aggregate queries (figures and breakdowns, then the trend), driven by the
period's rows and filtered by `Scope.patient_filter`; nothing loops over patients in Python.
Percentiles are nearest-rank, computed in SQL with window functions, so SQLite and PostgreSQL
give the same answer.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.auth.models import AccountToken, Role, TokenPurpose, User, UserSession
from app.caregivers.invitations import SMS_PURPOSE, SMS_PURPOSE_PROOF
from app.caregivers.models import CaregiverGrant, GrantKind
from app.careplan.items.models import CLOSED_STATUSES, PlanItem
from app.careplan.models import PlanChange
from app.core.audit import AuditEvent
from app.core.db import UTCDateTime, utcnow
from app.extensions import db
from app.messaging.labels import TOPIC_LABELS
from app.messaging.models import ResponseTime, Thread, ThreadStatus, Topic
from app.metrics.measures import (
    Breakdown,
    DrillRow,
    Figure,
    Kind,
    Result,
    Scope,
    bucket_spans,
    periods_table,
    register,
    share,
    share_figure,
)
from app.patients.forms import care_language_choices
from app.patients.models import Patient
from app.team.labels import DISCIPLINE_LABELS
from app.team.models import Discipline
from app.texting.models import OutboundSms

#: A patient invited to the portal counts as activated when they sign in within these days.
ACTIVATION_DAYS = 30
#: A care plan counts as reviewed when the care team changed it within these days.
REVIEW_DAYS = 90


# ------------------------------------------------------------------ SQL helpers


class plus_seconds(FunctionElement):
    """`instant + seconds` as a timestamp, the same on SQLite and PostgreSQL (SQLite keeps
    milliseconds: every boundary we compare with is a whole second)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "plus_seconds"


@compiles(plus_seconds)
def _plus_seconds_postgresql(element, compiler, **kw):
    instant, seconds = list(element.clauses)
    return (
        f"({compiler.process(instant, **kw)} + "
        f"make_interval(secs => CAST({compiler.process(seconds, **kw)} AS DOUBLE PRECISION)))"
    )


@compiles(plus_seconds, "sqlite")
def _plus_seconds_sqlite(element, compiler, **kw):
    instant, seconds = list(element.clauses)
    # The stored form (SQLAlchemy's): 'YYYY-MM-DD HH:MM:SS.ffffff', compared as text.
    return (
        f"strftime('%Y-%m-%d %H:%M:%f000', {compiler.process(instant, **kw)}, "
        f"'+' || ({compiler.process(seconds, **kw)}) || ' seconds')"
    )


def _const(value: str) -> sa.ColumnElement[str]:
    """A constant string of our own (an enum value) written into the SQL, for UNIONs."""
    assert "'" not in value
    return sa.literal_column(f"'{value}'", sa.String)


def _periods(rows: list[tuple[int, datetime, datetime]], extra=None) -> sa.Subquery:
    return periods_table(rows, name="b", extra=extra)


def _whole(scope: Scope) -> list[tuple[int, datetime, datetime]]:
    lo, hi = scope.bounds()
    return [(0, lo, hi)]


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _int(value) -> int:
    return int(value or 0)


def language_label(code: str) -> str:
    """A language as the app lists it: in its own name ("Español"), the code when unknown."""
    return dict(care_language_choices()).get(code, code)


# ------------------------------------------------------------------ message response time


def _routing() -> dict[Discipline, list[str]]:
    """Each team (discipline) and the topics routed to it (config MESSAGE_ROUTING)."""
    teams: dict[Discipline, list[str]] = {}
    for topic, disciplines in current_app.config["MESSAGE_ROUTING"].items():
        for discipline in disciplines:
            teams.setdefault(Discipline(discipline), []).append(topic)
    return teams


def _answer_stats(scope: Scope) -> dict[tuple[str, str], dict]:
    """Answers of the period by (dimension, key): all, each topic, each team, each bucket.
    Count, late, and nearest-rank median and 90th percentile of the seconds waited."""
    lo, hi = scope.bounds()
    late = sa.case((ResponseTime.seconds > ResponseTime.target_seconds, 1), else_=0)
    answers = (
        sa.select(
            sa.cast(ResponseTime.topic, sa.String).label("topic"),
            ResponseTime.seconds,
            late.label("late"),
            scope.bucket_of(ResponseTime.answered_at).label("bucket"),
        )
        .where(
            ResponseTime.answered_at >= lo,
            ResponseTime.answered_at < hi,
            *scope.patient_filter(ResponseTime.patient_id),
        )
        .cte("answers")
    )
    c = answers.c
    parts = [
        sa.select(_const("all").label("dim"), _const("").label("key"), c.seconds, c.late),
        sa.select(_const("topic"), c.topic, c.seconds, c.late),
        sa.select(_const("bucket"), sa.cast(c.bucket, sa.String), c.seconds, c.late),
    ]
    for discipline, topics in _routing().items():
        parts.append(
            sa.select(_const("team"), _const(discipline.value), c.seconds, c.late).where(
                c.topic.in_(topics)
            )
        )
    groups = sa.union_all(*parts).subquery("groups")
    g = groups.c
    ranked = sa.select(
        g.dim,
        g.key,
        g.seconds,
        g.late,
        sa.func.row_number().over(partition_by=(g.dim, g.key), order_by=g.seconds).label("rn"),
        sa.func.count().over(partition_by=(g.dim, g.key)).label("n"),
    ).subquery("ranked")
    r = ranked.c
    # Nearest rank: the P-th percentile is the value at rank ceil(P/100 * n), i.e. the first
    # rank with rank * 100 >= P * n (integers only, on both databases).
    query = sa.select(
        r.dim,
        r.key,
        sa.func.count(),
        sa.func.sum(r.late),
        sa.func.min(sa.case((r.rn * 2 >= r.n, r.seconds))),
        sa.func.min(sa.case((r.rn * 10 >= r.n * 9, r.seconds))),
    ).group_by(r.dim, r.key)
    return {
        (dim, key): {"answered": n, "late": _int(late_n), "median": median, "p90": p90}
        for dim, key, n, late_n, median, p90 in db.session.execute(query)
    }


def _waits_past_target(scope: Scope) -> dict[tuple[str, int], int]:
    """Questions whose target passed in the period (bucket) and that were still unanswered at
    its end, by (topic, bucket): answered later (a response-time row answered after the
    bucket of its due time) or not answered at all (the thread still waits; an internal note
    does not answer it)."""
    lo, hi = scope.bounds()
    now = utcnow()
    due = plus_seconds(ResponseTime.waiting_since, ResponseTime.target_seconds)
    due_bucket = scope.bucket_of(due)
    answered_later = sa.select(
        sa.cast(ResponseTime.topic, sa.String).label("topic"), due_bucket.label("bucket")
    ).where(
        ResponseTime.answered_at >= lo,  # answered after a due time in the period: the index
        due >= lo,
        due < hi,
        sa.or_(
            ResponseTime.answered_at >= hi, scope.bucket_of(ResponseTime.answered_at) > due_bucket
        ),
        *scope.patient_filter(ResponseTime.patient_id),
    )
    still_waiting = sa.select(
        sa.cast(Thread.topic, sa.String), scope.bucket_of(Thread.due_at)
    ).where(
        Thread.status == ThreadStatus.OPEN,
        Thread.awaiting_since.is_not(None),
        Thread.due_at >= lo,
        Thread.due_at < hi,
        Thread.due_at < now,
        *scope.patient_filter(Thread.patient_id),
    )
    waits = sa.union_all(answered_later, still_waiting).subquery("waits")
    query = sa.select(waits.c.topic, waits.c.bucket, sa.func.count()).group_by(
        waits.c.topic, waits.c.bucket
    )
    return {(topic, bucket): n for topic, bucket, n in db.session.execute(query)}


def _response_figures(stats: dict | None, waiting: int, *, breakdown: bool = False) -> list:
    stats = stats or {"answered": 0, "late": 0, "median": None, "p90": None}
    answered, late = stats["answered"], stats["late"]
    within = answered - late
    figures = [
        share_figure("within_target", _l("Answered within target"), within, answered + waiting),
        Figure("median_hours", _l("Median time to answer"), _hours(stats["median"]), Kind.HOURS),
        Figure("p90_hours", _l("9 in 10 answered within"), _hours(stats["p90"]), Kind.HOURS),
        Figure("answered", _l("Messages answered"), answered),
    ]
    if not breakdown:
        figures.append(Figure("answered_late", _l("Answered late"), late, drill=True))
    figures.append(Figure("waiting_late", _l("Waiting past target"), waiting))
    return figures


@register(
    "response_time",
    _l("Message response time"),
    _l("How fast the care team answers patients' messages, against each topic's target time."),
    drill=lambda scope, key, visible, limit: _response_drill(scope, key, visible, limit),
)
def response_time(scope: Scope) -> Result:
    stats = _answer_stats(scope)
    waits = _waits_past_target(scope)
    routing = _routing()

    def waiting(topics=None, bucket=None) -> int:
        return sum(
            n
            for (topic, b), n in waits.items()
            if (topics is None or topic in topics) and (bucket is None or b == bucket)
        )

    figures = _response_figures(stats.get(("all", "")), waiting())
    trend = []
    for index in range(len(scope.buckets())):
        bucket = stats.get(("bucket", str(index)), {"answered": 0, "late": 0})
        late_waits = waiting(bucket=index)
        trend.append(share(bucket["answered"] - bucket["late"], bucket["answered"] + late_waits))
    by_topic = []
    for topic in Topic:
        topic_stats, topic_waits = stats.get(("topic", topic.value)), waiting([topic.value])
        if topic_stats or topic_waits:
            figures_row = _response_figures(topic_stats, topic_waits, breakdown=True)
            by_topic.append((str(TOPIC_LABELS[topic]), figures_row))
    by_team = [
        (
            str(DISCIPLINE_LABELS[discipline]),
            _response_figures(
                stats.get(("team", discipline.value)), waiting(topics), breakdown=True
            ),
        )
        for discipline, topics in routing.items()
        if stats.get(("team", discipline.value)) or waiting(topics)
    ]
    return Result(
        figures=figures,
        trend=trend,
        breakdowns=[Breakdown(_("By topic"), by_topic), Breakdown(_("By team"), by_team)],
    )


def _response_drill(scope: Scope, key: str, visible: sa.Select, limit: int) -> list[DrillRow]:
    """The threads answered late in the period, newest answer first."""
    if key != "answered_late":
        return []
    lo, hi = scope.bounds()
    query = (
        sa.select(
            ResponseTime.patient_id,
            ResponseTime.thread_id,
            ResponseTime.topic,
            ResponseTime.answered_at,
            ResponseTime.seconds,
        )
        .where(
            ResponseTime.answered_at >= lo,
            ResponseTime.answered_at < hi,
            ResponseTime.seconds > ResponseTime.target_seconds,
            ResponseTime.patient_id.in_(visible),
            *scope.patient_filter(ResponseTime.patient_id),
        )
        .order_by(ResponseTime.answered_at.desc(), ResponseTime.id.desc())
        .limit(limit)
    )
    rows = []
    for patient_id, thread_id, topic, answered_at, seconds in db.session.execute(query):
        hours = seconds // 3600
        detail = ngettext(
            "%(topic)s: waited %(num)s hour",
            "%(topic)s: waited %(num)s hours",
            hours,
            topic=TOPIC_LABELS[topic],
        )
        rows.append(DrillRow(patient_id, answered_at, detail, thread_id=thread_id))
    return rows


# ------------------------------------------------------------------ portal activation


def _first_invitations(scope: Scope):
    """Patients first invited to the portal in the period: their account's earliest
    invitation link (AccountToken, purpose invitation) was made in it."""
    lo, hi = scope.bounds()
    earlier = sa.orm.aliased(AccountToken)
    return (
        sa.select(
            Patient.id.label("patient_id"),
            Patient.language.label("language"),
            AccountToken.user_id.label("user_id"),
            AccountToken.created_at.label("invited_at"),
        )
        .join(Patient, Patient.user_id == AccountToken.user_id)
        .where(
            AccountToken.purpose == TokenPurpose.INVITATION,
            AccountToken.created_at >= lo,
            AccountToken.created_at < hi,
            ~sa.exists().where(
                earlier.user_id == AccountToken.user_id,
                earlier.purpose == TokenPurpose.INVITATION,
                sa.or_(
                    earlier.created_at < AccountToken.created_at,
                    sa.and_(
                        earlier.created_at == AccountToken.created_at,
                        earlier.id < AccountToken.id,
                    ),
                ),
            ),
            *scope.patient_filter(Patient.id),
        )
        .subquery("invited")
    )


@register(
    "activation",
    _l("Portal activation"),
    _l("Patients invited to the portal who signed in within 30 days of the invitation."),
)
def activation(scope: Scope) -> Result:
    lo, hi = scope.bounds()
    invited = _first_invitations(scope)
    window = ACTIVATION_DAYS * 86400
    signed_in = sa.exists().where(
        UserSession.user_id == invited.c.user_id,
        UserSession.created_at >= invited.c.invited_at,
        UserSession.created_at < plus_seconds(invited.c.invited_at, window),
    )
    still_in_window = invited.c.invited_at > utcnow() - timedelta(days=ACTIVATION_DAYS)
    active = sa.case((signed_in, 1), else_=0)
    waiting = sa.case((sa.and_(~signed_in, still_in_window), 1), else_=0)
    bucket = scope.bucket_of(invited.c.invited_at)
    query = sa.select(
        invited.c.language, bucket, sa.func.count(), sa.func.sum(active), sa.func.sum(waiting)
    ).group_by(invited.c.language, bucket)
    by_language: dict[str, list[int]] = {}
    by_bucket: dict[int, list[int]] = {}
    for language, b, n, n_active, n_waiting in db.session.execute(query):
        for table, key in ((by_language, language), (by_bucket, b)):
            counts = table.setdefault(key, [0, 0, 0])
            counts[0] += n
            counts[1] += _int(n_active)
            counts[2] += _int(n_waiting)
    total = [sum(c[i] for c in by_language.values()) for i in range(3)]
    users = (
        sa.select(sa.func.count(sa.distinct(Patient.id)))
        .join(UserSession, UserSession.user_id == Patient.user_id)
        .where(
            UserSession.created_at < hi,
            UserSession.last_seen_at >= lo,
            *scope.patient_filter(Patient.id),
        )
    )
    used = db.session.scalar(users) or 0

    def figures(counts: list[int]) -> list[Figure]:
        n, n_active, n_waiting = counts
        return [
            share_figure("activated_share", _l("Signed in within 30 days"), n_active, n),
            Figure("invited", _l("Patients invited"), n),
            Figure("activated", _l("Signed in"), n_active),
            Figure(
                "within_30_days", _l("Invited less than 30 days ago, not yet signed in"), n_waiting
            ),
        ]

    rows = sorted(by_language.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return Result(
        figures=[*figures(total), Figure("used_portal", _l("Patients who used the portal"), used)],
        trend=[
            share(by_bucket.get(index, [0, 0])[1], by_bucket.get(index, [0, 0])[0])
            for index in range(len(scope.buckets()))
        ],
        breakdowns=[
            Breakdown(
                _("By language"),
                [(language_label(code), figures(counts)) for code, counts in rows],
            )
        ],
    )


# ------------------------------------------------------------------ care plan reviewed


def _open_plan(end) -> sa.ColumnElement[bool]:
    """The patient has an open plan item added before `end` (today's statuses)."""
    return sa.exists().where(
        PlanItem.patient_id == Patient.id,
        PlanItem.status.not_in(CLOSED_STATUSES),
        PlanItem.created_at < end,
    )


def _team_change(since, end) -> sa.ColumnElement[bool]:
    """A care team member added, changed, stopped or completed something in the plan."""
    return sa.exists().where(
        PlanChange.patient_id == Patient.id,
        PlanChange.capacity == "care_team",
        PlanChange.occurred_at >= since,
        PlanChange.occurred_at < end,
    )


@register(
    "plan_reviewed",
    _l("Care plan reviewed in the last 90 days"),
    _l(
        "Patients with an open care plan whose care team updated the plan in the 90 days before "
        "the end of the period."
    ),
    drill=lambda scope, key, visible, limit: _plan_drill(scope, key, visible, limit),
)
def plan_reviewed(scope: Scope) -> Result:
    # Two aggregates joined by patient, each read through its own index: the care team's plan
    # changes of the buckets' 90-day windows (one row per patient, a reviewed flag per bucket)
    # and, per patient, when their oldest open item was added (one index probe each).
    window = timedelta(days=REVIEW_DAYS)
    ends = [hi for _index, _lo, hi in bucket_spans(scope)]
    change_flags = [
        sa.func.max(
            sa.case(
                (sa.and_(PlanChange.occurred_at >= hi - window, PlanChange.occurred_at < hi), 1),
                else_=0,
            )
        ).label(f"r{index}")
        for index, hi in enumerate(ends)
    ]
    changed = (
        sa.select(PlanChange.patient_id.label("pid"), *change_flags)
        .where(
            PlanChange.capacity == "care_team",
            PlanChange.occurred_at >= ends[0] - window,
            PlanChange.occurred_at < ends[-1],
            *scope.patient_filter(PlanChange.patient_id),
        )
        .group_by(PlanChange.patient_id)
        .subquery("changed")
    )
    first_open = (
        sa.select(
            Patient.id.label("pid"),
            sa.select(sa.func.min(PlanItem.created_at))
            .where(PlanItem.patient_id == Patient.id, PlanItem.status.not_in(CLOSED_STATUSES))
            .scalar_subquery()
            .label("since"),
        )
        .where(*scope.patient_filter(Patient.id))
        # Once per patient: PostgreSQL would otherwise repeat the probe in every column.
        .cte("first_open")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    columns = []
    for index, hi in enumerate(ends):
        has_plan = first_open.c.since < hi
        columns.append(sa.func.sum(sa.case((has_plan, 1), else_=0)))
        columns.append(
            sa.func.sum(sa.case((sa.and_(has_plan, changed.c[f"r{index}"] == 1), 1), else_=0))
        )
    row = db.session.execute(
        sa.select(*columns)
        .select_from(first_open)
        .outerjoin(changed, changed.c.pid == first_open.c.pid)
        .where(first_open.c.since < ends[-1])
    ).one()
    counts = {i: (_int(row[2 * i]), _int(row[2 * i + 1])) for i in range(len(ends))}
    trend = [share(*reversed(counts.get(i, (0, 0)))) for i in range(len(scope.buckets()))]
    n, done = counts.get(len(scope.buckets()) - 1, (0, 0))
    return Result(
        figures=[
            share_figure("reviewed_share", _l("Plans reviewed in 90 days"), done, n),
            Figure("open_plans", _l("Patients with an open care plan"), n),
            Figure("reviewed", _l("Reviewed"), done),
            Figure("not_reviewed", _l("Not reviewed in 90 days"), n - done, drill=True),
        ],
        trend=trend,
    )


def _plan_drill(scope: Scope, key: str, visible: sa.Select, limit: int) -> list[DrillRow]:
    """Patients whose open plan the team has not changed in the 90 days before the period's
    end; the most recently changed first, never-changed last."""
    if key != "not_reviewed":
        return []
    _lo, hi = scope.bounds()
    last_change = (
        sa.select(sa.func.max(PlanChange.occurred_at))
        .where(
            PlanChange.patient_id == Patient.id,
            PlanChange.capacity == "care_team",
            PlanChange.occurred_at < hi,
        )
        .scalar_subquery()
    )
    query = (
        sa.select(Patient.id, last_change.label("last"))
        .where(
            _open_plan(hi),
            ~_team_change(hi - timedelta(days=REVIEW_DAYS), hi),
            Patient.id.in_(visible),
            *scope.patient_filter(Patient.id),
        )
        .order_by(last_change.is_(None), last_change.desc(), Patient.id.desc())
        .limit(limit)
    )
    return [
        DrillRow(
            patient_id,
            last,
            _("Last updated by the care team") if last else _("Never updated by the care team"),
        )
        for patient_id, last in db.session.execute(query)
    ]


# ------------------------------------------------------------------ caregiver engagement


def _adult_born_by(day: date) -> date:
    """The latest birthday of someone who is ADULT_AGE or older on `day` (29 February
    birthdays turn on 1 March, as Patient.age_on counts)."""
    years = current_app.config["ADULT_AGE"]
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return date(day.year - years, 2, 28)


def _caregiver_counts(scope: Scope, rows) -> dict[int, tuple[int, int, int]]:
    """Per period: patients with a caregiver grant in force at some time in it, those whose
    caregiver opened or changed their record as caregiver in it, and how many caregivers did."""
    periods = _periods(
        rows,
        extra=lambda lo, hi: sa.literal(_adult_born_by(lo.astimezone(scope.zone).date()), sa.Date),
    )
    p = periods.c
    # Who opened or changed whose record as caregiver, per period: the period's audit rows in
    # that capacity (an index on the time), joined with the grants rather than probed per grant.
    acted = (
        sa.select(p.b, AuditEvent.patient_id, AuditEvent.actor_id)
        .select_from(periods)
        .join(AuditEvent, sa.and_(AuditEvent.occurred_at >= p.lo, AuditEvent.occurred_at < p.hi))
        .where(
            AuditEvent.capacity == "caregiver",
            AuditEvent.action != "denied",
            AuditEvent.occurred_at >= min(lo for _b, lo, _hi in rows),
            AuditEvent.occurred_at < max(hi for _b, _lo, hi in rows),
            *scope.patient_filter(AuditEvent.patient_id),
        )
        .distinct()
        .subquery("acted")
    )
    engaged = acted.c.b.is_not(None)
    query = (
        sa.select(
            p.b,
            sa.func.count(sa.distinct(CaregiverGrant.patient_id)),
            sa.func.count(sa.distinct(sa.case((engaged, CaregiverGrant.patient_id)))),
            sa.func.count(sa.distinct(sa.case((engaged, CaregiverGrant.caregiver_id)))),
        )
        .select_from(periods)
        .join(CaregiverGrant, sa.true())
        .join(Patient, Patient.id == CaregiverGrant.patient_id)
        .outerjoin(
            acted,
            sa.and_(
                acted.c.b == p.b,
                acted.c.patient_id == CaregiverGrant.patient_id,
                acted.c.actor_id == CaregiverGrant.caregiver_id,
            ),
        )
        .where(
            CaregiverGrant.starts_at < p.hi,
            sa.or_(CaregiverGrant.revoked_at.is_(None), CaregiverGrant.revoked_at > p.lo),
            sa.or_(CaregiverGrant.ends_at.is_(None), CaregiverGrant.ends_at > p.lo),
            # A parent's access ends at the age of majority unless an authority continues.
            sa.or_(
                CaregiverGrant.kind != GrantKind.GUARDIAN,
                CaregiverGrant.continuing_authority.is_not(None),
                Patient.date_of_birth > p.extra,
            ),
            *scope.patient_filter(CaregiverGrant.patient_id),
        )
        .group_by(p.b)
    )
    return {
        b: (n, _int(engaged), _int(people)) for b, n, engaged, people in db.session.execute(query)
    }


@register(
    "caregivers",
    _l("Caregiver engagement"),
    _l("Patients with a caregiver whose caregiver opened or changed their record in the period."),
)
def caregivers(scope: Scope) -> Result:
    n, engaged, people = _caregiver_counts(scope, _whole(scope)).get(0, (0, 0, 0))
    by_bucket = _caregiver_counts(scope, bucket_spans(scope))
    return Result(
        figures=[
            share_figure("engaged_share", _l("Caregiver used the portal"), engaged, n),
            Figure("with_caregiver", _l("Patients with a caregiver"), n),
            Figure("engaged", _l("Patients whose caregiver used the portal"), engaged),
            Figure("active_caregivers", _l("Caregivers who used the portal"), people),
        ],
        trend=[
            share(by_bucket.get(i, (0, 0, 0))[1], by_bucket.get(i, (0, 0, 0))[0])
            for i in range(len(scope.buckets()))
        ],
    )


# ------------------------------------------------------------------ language access


def _contacts(scope: Scope, periods: sa.Subquery, text_bucket) -> sa.Subquery:
    """Per non-English-preferring patient and period: were all their texts in their
    language (served), how many texts and how many in it, did they use the portal, and is
    the portal language saved on their account theirs."""
    lo, hi = scope.bounds()
    text_ok = sa.case((OutboundSms.locale == Patient.language, 1), else_=0)
    texts = sa.select(
        Patient.id.label("patient_id"),
        Patient.language.label("language"),
        text_bucket.label("b"),
        text_ok.label("ok"),
        sa.literal(1).label("text"),
        text_ok.label("text_ok"),
        sa.literal(0).label("app"),
        sa.literal(0).label("app_ok"),
    ).where(
        OutboundSms.patient_id == Patient.id,
        OutboundSms.created_at >= lo,
        OutboundSms.created_at < hi,
        OutboundSms.status != "skipped",
        # Texts to the patient: their own account's, or (no login) nobody's; not the
        # invitations a patient sends to someone who will help them.
        sa.or_(
            OutboundSms.user_id == Patient.user_id,
            sa.and_(OutboundSms.user_id.is_(None), Patient.user_id.is_(None)),
        ),
        OutboundSms.purpose.not_in((SMS_PURPOSE, SMS_PURPOSE_PROOF)),
        Patient.language != "en",
        *scope.patient_filter(Patient.id),
    )
    app_ok = sa.case((User.locale == Patient.language, 1), else_=0)
    p = periods.c
    app = (
        sa.select(
            Patient.id,
            Patient.language,
            p.b,
            app_ok,
            sa.literal(0),
            sa.literal(0),
            sa.literal(1),
            app_ok,
        )
        .select_from(periods)
        .join(UserSession, sa.and_(UserSession.created_at < p.hi, UserSession.last_seen_at >= p.lo))
        .join(User, User.id == UserSession.user_id)
        .join(Patient, Patient.user_id == User.id)
        .where(
            User.role == Role.PATIENT, Patient.language != "en", *scope.patient_filter(Patient.id)
        )
    )
    both = sa.union_all(texts, app).subquery("contacts")
    c = both.c
    return (
        sa.select(
            c.patient_id,
            c.language,
            c.b,
            sa.func.min(c.ok).label("served"),
            sa.func.sum(c.text).label("texts"),
            sa.func.sum(c.text_ok).label("texts_ok"),
            sa.func.max(c.app).label("app"),
            sa.func.max(c.app_ok).label("app_ok"),
        )
        .group_by(c.patient_id, c.language, c.b)
        .subquery("per_patient")
    )


@register(
    "language_access",
    _l("Language access"),
    _l(
        "Patients who prefer a language other than English and got their texts and used the "
        "portal in it."
    ),
)
def language_access(scope: Scope) -> Result:
    per = _contacts(scope, _periods(_whole(scope)), sa.literal(0))
    query = sa.select(
        per.c.language,
        sa.func.count(),
        sa.func.sum(per.c.served),
        sa.func.sum(per.c.texts),
        sa.func.sum(per.c.texts_ok),
        sa.func.sum(per.c.app),
        sa.func.sum(per.c.app_ok),
    ).group_by(per.c.language)
    by_language = {
        language: [_int(v) for v in values] for language, *values in db.session.execute(query)
    }
    by_bucket = _contacts(
        scope, _periods(bucket_spans(scope)), scope.bucket_of(OutboundSms.created_at)
    )
    trend_rows = {
        b: (n, _int(served))
        for b, n, served in db.session.execute(
            sa.select(by_bucket.c.b, sa.func.count(), sa.func.sum(by_bucket.c.served)).group_by(
                by_bucket.c.b
            )
        )
    }

    def figures(counts: list[int]) -> list[Figure]:
        n, served, texts, texts_ok, app, app_ok = counts
        return [
            share_figure("served_share", _l("Texts and portal in their language"), served, n),
            Figure("reached", _l("Patients reached"), n),
            share_figure("texts_share", _l("Texts in their language"), texts_ok, texts),
            share_figure("portal_share", _l("Portal set to their language"), app_ok, app),
        ]

    total = [sum(c[i] for c in by_language.values()) for i in range(6)]
    rows = sorted(by_language.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return Result(
        figures=figures(total),
        trend=[
            share(trend_rows.get(i, (0, 0))[1], trend_rows.get(i, (0, 0))[0])
            for i in range(len(scope.buckets()))
        ],
        breakdowns=[
            Breakdown(_("By language"), [(language_label(code), figures(c)) for code, c in rows])
        ],
    )
