"""Reads of the social needs screening: the last one, whether it is due again, and the
suggested referrals on a team member's worklist, on a patient's summary and on an item page.
Each is one query (two with a capped count), driven by one patient or one member's panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import sqlalchemy as sa

from app.careplan.items.models import CLOSED_STATUSES, ItemKind, PlanItem
from app.core.db import utcnow
from app.core.pagination import capped_count
from app.extensions import db
from app.patients.models import Patient
from app.screening.models import ScreeningReferral, ScreeningResponse
from app.team.models import CareTeamAssignment

#: The worklist shows the newest this many suggestions, and counts up to COUNT_CAP.
WORKLIST_ROWS = 20
COUNT_CAP = 200
#: The summary card lists this many of the patient's open suggestions (views.desk).
SUMMARY_ROWS = 5


def latest(patient_id: int) -> ScreeningResponse | None:
    return db.session.scalars(
        sa.select(ScreeningResponse)
        .where(ScreeningResponse.patient_id == patient_id)
        .order_by(ScreeningResponse.authored_at.desc(), ScreeningResponse.id.desc())
        .limit(1)
    ).first()


def latest_by(patient_id: int, user_id: int) -> ScreeningResponse | None:
    """The newest screening this user answered for this patient (the "thank you" page)."""
    return db.session.scalars(
        sa.select(ScreeningResponse)
        .where(
            ScreeningResponse.patient_id == patient_id,
            ScreeningResponse.answered_by_id == user_id,
        )
        .order_by(ScreeningResponse.authored_at.desc(), ScreeningResponse.id.desc())
        .limit(1)
    ).first()


def offer_after(patient: Patient, now: datetime | None = None) -> datetime:
    """The screening is offered again when the last one is older than this: the same day a
    year before today, in the patient's calendar (29 February: the 28th)."""
    today = patient.today(now)
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:
        year_ago = today.replace(year=today.year - 1, day=28)
    return datetime.combine(year_ago, time(0), tzinfo=patient.zone)


def is_due(patient: Patient, now: datetime | None = None) -> bool:
    """No screening in the last 12 months (one indexed look-up)."""
    recent = db.session.scalar(
        sa.select(ScreeningResponse.id)
        .where(
            ScreeningResponse.patient_id == patient.id,
            ScreeningResponse.authored_at >= offer_after(patient, now or utcnow()),
        )
        .limit(1)
    )
    return recent is None


def _suggested(*conditions) -> list:
    return [
        PlanItem.kind == ItemKind.REFERRAL,
        PlanItem.referral_status.is_(None),
        PlanItem.status.not_in(list(CLOSED_STATUSES)),
        ScreeningReferral.suggested.is_(True),
        *conditions,
    ]


@dataclass(frozen=True)
class Suggestion:
    item: PlanItem
    patient: Patient
    need: str
    found_at: datetime


def worklist(member_id: int) -> tuple[list[Suggestion], int]:
    """The suggested referrals this member owns, of their own patients, newest first (at most
    WORKLIST_ROWS) and how many (capped). Starts from the member's assignments: the cost is
    their panel's, never the CCO's."""
    conditions = _suggested(
        CareTeamAssignment.member_id == member_id,
        PlanItem.owner_member_id == member_id,
    )

    def statement(*columns):
        return (
            sa.select(*columns)
            .select_from(CareTeamAssignment)
            .join(PlanItem, PlanItem.patient_id == CareTeamAssignment.patient_id)
            .join(ScreeningReferral, ScreeningReferral.item_id == PlanItem.id)
            .where(*conditions)
        )

    rows = db.session.execute(
        statement(PlanItem, Patient, ScreeningReferral.need, ScreeningReferral.created_at)
        .join(Patient, Patient.id == PlanItem.patient_id)
        .order_by(ScreeningReferral.created_at.desc(), ScreeningReferral.id.desc())
        .limit(WORKLIST_ROWS)
    ).all()
    total = capped_count(statement(ScreeningReferral.id), COUNT_CAP)
    return [Suggestion(*row) for row in rows], total


def link_for_item(patient_id: int, item_id: int) -> tuple[ScreeningReferral, datetime] | None:
    """The screening need a referral answers (the first that suggested it) and when it was
    found, or None for a referral no screening suggested."""
    row = db.session.execute(
        sa.select(ScreeningReferral, ScreeningResponse.authored_at)
        .join(ScreeningResponse, ScreeningResponse.id == ScreeningReferral.response_id)
        .where(
            ScreeningReferral.patient_id == patient_id,
            ScreeningReferral.item_id == item_id,
        )
        .order_by(ScreeningReferral.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None
