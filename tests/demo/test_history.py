"""The demo's twelve weeks of history (app/demo/history.py): after `flask demo seed` the
measures dashboard's default range (the last 12 weeks ending yesterday) has a figure and a
trend for every measure, the nurse's "Answered late" lists her patients' threads, and the past
leaves nothing to do today (no text queued, no thread waiting, no upcoming appointment)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.careplan.items.models import ItemKind, PlanItem
from app.core.db import utcnow
from app.demo import DEMO_PASSWORD, history
from app.extensions import db
from app.messaging.models import ResponseTime, Thread, ThreadRead, ThreadStatus
from app.metrics import measures
from app.metrics.forms import default_period
from app.metrics.measures import Scope
from app.patients.models import Patient
from app.team.models import CareTeamMember
from app.texting.models import OutboundSms


@pytest.fixture
def seeded(app):
    """The demo with its history (the tests' config leaves it out: DEMO_HISTORY)."""
    from app.demo import seed

    app.config["DEMO_HISTORY"] = True
    seed()
    db.session.commit()


@pytest.fixture
def request_ctx(app):
    """The measures' labels are translated: a request's locale (English)."""
    with app.test_request_context():
        yield


def _scope(**kw) -> Scope:
    start, end = default_period()
    return Scope(start, end, **kw)


def _neighbour_ids() -> sa.Select:
    return (
        sa.select(Patient.id)
        .join(User, User.id == Patient.user_id)
        .where(User.email.like(f"%@{history.HISTORY_DOMAIN}"))
    )


def test_every_measure_has_a_value_and_a_trend_on_the_default_range(seeded, request_ctx):
    scope = _scope()
    assert len(scope.buckets()) >= 12
    for measure in measures.all_measures():
        result = measure.compute(scope)
        headline = result.figures[0]
        assert headline.value is not None, measure.key
        points = [value for value in result.trend if value is not None]
        assert len(points) >= 8, (measure.key, result.trend)
    # Not a flat line of 100%: some answers were late, some appointments missed.
    response = measures.REGISTRY["response_time"].compute(scope)
    figures = {f.key: f for f in response.figures}
    assert 0.5 < figures["within_target"].value < 1
    assert figures["answered"].value >= 25 and figures["answered_late"].value >= 5
    assert figures["waiting_late"].value >= 1  # the thread with only an internal note
    no_shows = {f.key: f for f in measures.REGISTRY["no_shows"].compute(scope).figures}
    assert no_shows["no_shows"].value >= 1
    reminders = {f.key: f for f in measures.REGISTRY["reminders"].compute(scope).figures}
    assert reminders["failed"].value >= 1 and reminders["confirmed_by_text"].value >= 1
    assert reminders["opt_out"].numerator == 1
    caregivers = {f.key: f for f in measures.REGISTRY["caregivers"].compute(scope).figures}
    assert caregivers["engaged"].value >= 3  # their visits are in the audit trail
    activation = {f.key: f for f in measures.REGISTRY["activation"].compute(scope).figures}
    assert activation["invited"].value >= 8 and 0 < activation["activated_share"].value < 1
    flags = {f.key: f for f in measures.REGISTRY["flags"].compute(scope).figures}
    assert flags["cost_avoided"].value > 0 and flags["medicines_settled"].value >= 2


def test_the_nurses_answered_late_drill_lists_her_patients_threads(seeded, request_ctx):
    nurse = db.session.scalar(
        sa.select(CareTeamMember)
        .join(User, User.id == CareTeamMember.user_id)
        .where(User.email == "nurse@demo.carecircle.test")
    )
    scope = _scope(member_id=nurse.id)
    measure = measures.REGISTRY["response_time"]
    late = {f.key: f for f in measure.compute(scope).figures}["answered_late"]
    assert late.value >= 3
    visible = scope.patient_filter(Patient.id)
    rows = measure.drill(scope, "answered_late", sa.select(Patient.id).where(*visible), 50)
    assert len(rows) == late.value
    assert all(row.thread_id is not None for row in rows)
    threads = db.session.scalars(
        sa.select(Thread).where(Thread.id.in_([row.thread_id for row in rows]))
    ).all()
    assert {t.patient_id for t in threads} <= set(
        db.session.scalars(sa.select(Patient.id).where(*visible))
    )


def test_the_past_leaves_nothing_to_send_or_do_today(seeded):
    now = utcnow()
    assert db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboundSms)
        .where(OutboundSms.patient_id.in_(_neighbour_ids()))
    )
    # No text of the history is waiting to go: every one has its final status, sent in the past.
    queued = db.session.scalars(
        sa.select(OutboundSms).where(
            OutboundSms.patient_id.in_(_neighbour_ids()),
            sa.or_(
                OutboundSms.status.in_(("queued", "sending", "sent")),
                OutboundSms.sent_at.is_(None),
                OutboundSms.sent_at > now,
            ),
        )
    ).all()
    assert queued == []
    # Every conversation is closed and the patient has read the answer.
    threads = db.session.scalars(
        sa.select(Thread).where(Thread.patient_id.in_(_neighbour_ids()))
    ).all()
    assert len(threads) >= 25
    assert all(t.status is ThreadStatus.RESOLVED and t.awaiting_since is None for t in threads)
    unread = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Thread)
        .join(Patient, Patient.id == Thread.patient_id)
        .outerjoin(
            ThreadRead,
            sa.and_(ThreadRead.thread_id == Thread.id, ThreadRead.user_id == Patient.user_id),
        )
        .where(
            Thread.patient_id.in_(_neighbour_ids()),
            sa.or_(ThreadRead.id.is_(None), ThreadRead.last_read_at < Thread.last_message_at),
        )
    )
    assert unread == 0
    # Each answer is a real ResponseTime row, as the messaging service writes it.
    assert db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ResponseTime)
        .where(ResponseTime.patient_id.in_(_neighbour_ids()))
    ) == len(threads)
    # Past appointments are past, with the attendance recorded.
    upcoming = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(PlanItem)
        .where(
            PlanItem.patient_id.in_(_neighbour_ids()),
            PlanItem.kind == ItemKind.APPOINTMENT,
            sa.or_(PlanItem.starts_at > now, PlanItem.attendance.is_(None)),
        )
    )
    assert upcoming == 0


def test_the_history_is_the_same_every_time_and_seeded_once(seeded, runner):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ResponseTime))
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResponseTime)) == before
    neighbours = db.session.scalar(
        sa.select(sa.func.count()).select_from(_neighbour_ids().subquery())
    )
    assert neighbours == len(history.NEIGHBOURS)


def test_the_nurse_sees_the_dashboard_with_trends(seeded, new_browser):
    browser = new_browser()
    assert browser.login("nurse@demo.carecircle.test", DEMO_PASSWORD).status_code == 302
    page = browser.get("/measures").get_data(as_text=True)
    for measure in measures.all_measures():
        assert f'id="measure-{measure.key}"' in page
    drill = browser.get("/measures/response_time/answered_late")
    assert drill.status_code == 200
    assert "/messages/" in drill.get_data(as_text=True)
