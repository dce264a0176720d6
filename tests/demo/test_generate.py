"""`flask demo generate`: a CCO's worth of rows that behaves like real data, on top of the demo.

What an operator or a benchmark relies on: the proportions the docs promise, an audit trail
that still verifies, rows the services would have left (threads' waiting and due times), and
people who can sign in and see their own record, and only theirs.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape

import sqlalchemy as sa

from app.auth.models import User
from app.careplan.items.models import PlanItem
from app.core.audit import AuditEvent
from app.demo import DEMO_PASSWORD
from app.demo.accounts import DOMAIN
from app.demo.generate import GEN_DOMAIN, HEAVY_AUDIT_ROWS, generate
from app.extensions import db
from app.messaging.models import Message, Thread
from app.patients.models import Patient, PatientPreferences
from app.reminders.models import ReminderSchedule
from app.team.models import CareTeamAssignment, CareTeamMember

GENERATED = Patient.member_number.like("GEN-%")


def quiet(_line: str) -> None:
    pass


def scalar(query):
    return db.session.scalar(query)


def generated_ids() -> list[int]:
    return list(db.session.scalars(sa.select(Patient.id).where(GENERATED)))


def demo_nurse_member() -> int:
    return scalar(
        sa.select(CareTeamMember.id)
        .join(User, User.id == CareTeamMember.user_id)
        .where(User.email == f"nurse@{DOMAIN}")
    )


def test_a_cco_in_the_proportions_promised_with_an_intact_trail(app, runner):
    generate(200, seed=7, echo=quiet)
    ids = generated_ids()
    assert len(ids) == 200

    items = scalar(sa.select(sa.func.count(PlanItem.id)).where(PlanItem.patient_id.in_(ids)))
    assert 17 <= items / 200 <= 23  # ~20 plan items each

    team = scalar(
        sa.select(sa.func.count(CareTeamAssignment.id)).where(
            CareTeamAssignment.patient_id.in_(ids)
        )
    )
    assert 5 <= team / 200 <= 7  # ~6 on each care team
    coordinators = db.session.execute(
        sa.select(CareTeamAssignment.patient_id, sa.func.count())
        .where(CareTeamAssignment.patient_id.in_(ids), CareTeamAssignment.is_coordinator)
        .group_by(CareTeamAssignment.patient_id)
    ).all()
    assert len(coordinators) == 200 and {n for _p, n in coordinators} == {1}
    nurse_on = scalar(
        sa.select(sa.func.count()).where(
            CareTeamAssignment.member_id == demo_nurse_member(),
            CareTeamAssignment.patient_id.in_(ids),
        )
    )
    assert 0.02 <= nurse_on / 200 <= 0.09  # the demo nurse on ~5% of the teams

    reminded = scalar(
        sa.select(sa.func.count(sa.distinct(ReminderSchedule.patient_id))).where(
            ReminderSchedule.patient_id.in_(ids)
        )
    )
    assert 0.05 <= reminded / 200 <= 0.16  # reminders for ~10%

    messages_by_patient = dict(
        db.session.execute(
            sa.select(Thread.patient_id, sa.func.count(Message.id))
            .join(Message, Message.thread_id == Thread.id)
            .where(Thread.patient_id.in_(ids))
            .group_by(Thread.patient_id)
        ).all()
    )
    assert max(messages_by_patient.values()) >= 500  # a heavy user
    longest = scalar(
        sa.select(sa.func.count(Message.id))
        .join(Thread, Thread.id == Message.thread_id)
        .where(Thread.patient_id.in_(ids))
        .group_by(Message.thread_id)
        .order_by(sa.func.count(Message.id).desc())
        .limit(1)
    )
    assert longest >= 300  # and their single long thread
    assert 15 <= sum(messages_by_patient.values()) / 200 <= 40  # ~8 a year over 3 years

    audit_by_patient = sorted(
        n
        for _p, n in db.session.execute(
            sa.select(AuditEvent.patient_id, sa.func.count())
            .where(AuditEvent.patient_id.in_(ids))
            .group_by(AuditEvent.patient_id)
        ).all()
    )
    assert audit_by_patient[-1] == HEAVY_AUDIT_ROWS
    ordinary = audit_by_patient[:-1]
    assert 25 <= sum(ordinary) / len(ordinary) <= 35  # ~30 each

    # What the services would have left: a thread's last message time is its last message's
    # (internal notes aside), and an answer waited for is due one response target later.
    wrong_last = scalar(
        sa.select(sa.func.count(Thread.id)).where(
            Thread.patient_id.in_(ids),
            Thread.last_message_at
            != sa.select(sa.func.max(Message.created_at))
            .where(Message.thread_id == Thread.id, Message.internal.is_(False))
            .scalar_subquery(),
        )
    )
    assert wrong_last == 0
    waiting = db.session.execute(
        sa.select(Thread.topic, Thread.awaiting_since, Thread.due_at, Thread.status).where(
            Thread.patient_id.in_(ids), Thread.awaiting_since.is_not(None)
        )
    ).all()
    assert waiting, "some patients wait for an answer"
    for topic, since, due, status in waiting:
        hours = app.config["MESSAGE_RESPONSE_HOURS"][topic.value]
        assert due - since == timedelta(hours=hours)
        assert status.value == "open"

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output

    # Again: 40 more patients, nothing collides, the chain goes on.
    generate(40, seed=8, echo=quiet)
    assert len(generated_ids()) == 240
    assert scalar(sa.select(sa.func.count(Patient.id)).where(~GENERATED)) == 4  # the demo's
    emails = scalar(
        sa.select(sa.func.count(sa.distinct(User.email))).where(User.email.like(f"%@{GEN_DOMAIN}"))
    )
    assert emails == scalar(
        sa.select(sa.func.count(User.id)).where(User.email.like(f"%@{GEN_DOMAIN}"))
    )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output

    # Display settings: every generated account has them; a patient who asked for larger
    # text reads their own pages in it, and nobody else's screen changed.
    screens = db.session.execute(
        sa.select(
            User.text_size, User.high_contrast, User.reduced_motion, PatientPreferences.large_text
        )
        .outerjoin(Patient, Patient.user_id == User.id)
        .outerjoin(PatientPreferences, PatientPreferences.patient_id == Patient.id)
        .where(User.email.like(f"%@{GEN_DOMAIN}"))
    ).all()
    assert len(screens) == emails
    assert {(size.value, contrast, motion) for size, contrast, motion, _ in screens} == {
        ("standard", False, False),
        ("large", False, False),
    }
    assert all((size.value == "large") == bool(large) for size, _, _, large in screens)


def open_item(patient_id: int) -> PlanItem:
    return db.session.scalars(
        sa.select(PlanItem)
        .where(
            PlanItem.patient_id == patient_id,
            PlanItem.status == "active",
            PlanItem.sensitivity.is_(None),
        )
        .order_by(PlanItem.id)
        .limit(1)
    ).one()


def person(who: str) -> tuple[str, Patient, Patient]:
    """The email of someone who signs in, a patient of theirs, and a patient not theirs."""
    mine, other = db.session.scalars(
        sa.select(Patient).where(GENERATED, Patient.user_id.is_not(None)).order_by(Patient.id)
    ).all()[:2]
    if who == "demo patient":
        mine = db.session.scalar(sa.select(Patient).where(Patient.member_number == "WVCP-100234"))
        return f"maria@{DOMAIN}", mine, other
    if who == "generated patient":
        return db.session.get(User, mine.user_id).email, mine, other
    email = scalar(
        sa.select(User.email)
        .join(CareTeamMember, CareTeamMember.user_id == User.id)
        .join(CareTeamAssignment, CareTeamAssignment.member_id == CareTeamMember.id)
        .where(CareTeamAssignment.patient_id == mine.id, CareTeamAssignment.is_coordinator)
    )
    # A patient whose team they are not on (here, a demo patient) is not theirs to see.
    other = db.session.scalars(
        sa.select(Patient)
        .where(
            ~Patient.id.in_(
                sa.select(CareTeamAssignment.patient_id)
                .join(CareTeamMember, CareTeamMember.id == CareTeamAssignment.member_id)
                .join(User, User.id == CareTeamMember.user_id)
                .where(User.email == email)
            )
        )
        .limit(1)
    ).one()
    return email, mine, other


def test_generated_and_demo_people_sign_in_and_see_only_their_own(app, new_browser):
    generate(60, seed=3, echo=quiet)
    for who in ("demo patient", "generated patient", "generated coordinator"):
        email, mine, other = person(who)
        item, others_item = open_item(mine.id), open_item(other.id)
        mine_id, item_id, title = mine.id, item.id, item.title
        other_id, other_item_id = other.id, others_item.id
        coordinator = scalar(
            sa.select(User.full_name)
            .join(CareTeamMember, CareTeamMember.user_id == User.id)
            .join(CareTeamAssignment, CareTeamAssignment.member_id == CareTeamMember.id)
            .where(CareTeamAssignment.patient_id == mine_id, CareTeamAssignment.is_coordinator)
        )

        browser = new_browser()
        response = browser.login(email, DEMO_PASSWORD)
        assert response.status_code == 302, who
        summary = browser.get(f"/patients/{mine_id}")
        assert summary.status_code == 200, who
        assert escape(coordinator) in summary.get_data(as_text=True), who  # their own team
        page = browser.get(f"/patients/{mine_id}/plan/items/{item_id}")
        assert page.status_code == 200, who
        assert escape(title) in page.get_data(as_text=True), who  # and their own plan
        # Another patient's item: not found, by its own address or through their record.
        assert browser.get(f"/patients/{other_id}/plan/items/{other_item_id}").status_code == 404
        assert browser.get(f"/patients/{mine_id}/plan/items/{other_item_id}").status_code == 404


def test_generate_refuses_production(production_app):
    result = production_app.test_cli_runner().invoke(args=["demo", "generate", "--patients", "5"])
    assert result.exit_code != 0
    assert "never be loaded in production" in result.output
