"""Reads for the decision pages: everything a page shows is loaded up front (no lazy loads),
and every query keeps out the sensitive categories hidden from the viewer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.careplan.decisions.models import (
    Decision,
    DecisionEntry,
    DecisionEntryKind,
    DecisionOption,
    DecisionStatus,
)
from app.core.db import utcnow
from app.core.privacy import visible
from app.extensions import db

_OPEN_FIRST = sa.case((Decision.status == DecisionStatus.OPEN, 0), else_=1)


def list_decisions(patient_id: int, hidden: frozenset[str]) -> list[Decision]:
    """All the patient's decisions the viewer may see: open ones first, newest activity first.

    Two queries whatever the number of decisions and options.
    """
    return list(
        db.session.scalars(
            sa.select(Decision)
            .where(Decision.patient_id == patient_id, visible(Decision.sensitivity, hidden))
            .options(joinedload(Decision.opened_by), selectinload(Decision.options))
            .order_by(_OPEN_FIRST, Decision.updated_at.desc(), Decision.id.desc())
        )
    )


def get_decision(patient_id: int, decision_id: int, hidden: frozenset[str]) -> Decision | None:
    """One decision of this patient the viewer may see (None otherwise: the caller 404s)."""
    return db.session.scalars(
        sa.select(Decision)
        .where(
            Decision.id == decision_id,
            Decision.patient_id == patient_id,
            visible(Decision.sensitivity, hidden),
        )
        .options(joinedload(Decision.opened_by), selectinload(Decision.options))
    ).first()


def history(decision_id: int) -> list[DecisionEntry]:
    """Every entry, oldest first, with its author."""
    return list(
        db.session.scalars(
            sa.select(DecisionEntry)
            .where(DecisionEntry.decision_id == decision_id)
            .options(joinedload(DecisionEntry.author))
            .order_by(DecisionEntry.created_at, DecisionEntry.id)
        )
    )


def waiting_for_answer(decision_ids: Iterable[int]) -> set[int]:
    """Open decisions whose latest question came after the latest answer (one query)."""
    ids = list(decision_ids)
    if not ids:
        return set()
    last_question = sa.func.max(
        sa.case((DecisionEntry.kind == DecisionEntryKind.QUESTION, DecisionEntry.created_at))
    )
    last_answer = sa.func.max(
        sa.case((DecisionEntry.kind == DecisionEntryKind.ANSWER, DecisionEntry.created_at))
    )
    rows = db.session.execute(
        sa.select(DecisionEntry.decision_id, last_question, last_answer)
        .where(DecisionEntry.decision_id.in_(ids))
        .group_by(DecisionEntry.decision_id)
    )
    return {
        decision_id
        for decision_id, asked, answered in rows
        if asked is not None and (answered is None or answered < asked)
    }


def option_by_id(decision: Decision, option_id: int | None) -> DecisionOption | None:
    """An option of a decision whose options are loaded."""
    if option_id is None:
        return None
    return next((o for o in decision.options if o.id == option_id), None)


def summary_decisions(
    patient_id: int,
    hidden: frozenset[str],
    *,
    open_limit: int = 5,
    decided_limit: int = 3,
    decided_within_days: int = 90,
) -> list[Decision]:
    """For the patient summary page: open decisions first (newest activity first), then
    decisions made in the last `decided_within_days` days (newest first). Withdrawn ones are
    left out. Options are loaded, so the preferred and final option can be shown.

    Two queries whatever the number of decisions.
    """
    query = _summary_statement(hidden, open_limit, decided_limit)
    since = utcnow() - timedelta(days=decided_within_days)
    return list(db.session.scalars(query, {"patient_id": patient_id, "since": since}))


#: The summary's statement per shape (what is hidden, the limits), built once with the patient
#: and the date as bound parameters: building this union costs more Python than running it.
_SUMMARY_STATEMENTS: dict[tuple, sa.Select] = {}


def _summary_statement(hidden: frozenset[str], open_limit: int, decided_limit: int):
    key = (hidden, open_limit, decided_limit)
    found = _SUMMARY_STATEMENTS.get(key)
    if found is not None:
        return found
    mine = [
        Decision.patient_id == sa.bindparam("patient_id"),
        visible(Decision.sensitivity, hidden),
    ]
    open_ids = (
        sa.select(Decision.id)
        .where(*mine, Decision.status == DecisionStatus.OPEN)
        .order_by(Decision.updated_at.desc(), Decision.id.desc())
        .limit(open_limit)
    )
    decided_ids = (
        sa.select(Decision.id)
        .where(
            *mine,
            Decision.status == DecisionStatus.DECIDED,
            Decision.decided_at >= sa.bindparam("since"),
        )
        .order_by(Decision.decided_at.desc(), Decision.id.desc())
        .limit(decided_limit)
    )
    ids = sa.union_all(open_ids.subquery().select(), decided_ids.subquery().select()).subquery()
    return _SUMMARY_STATEMENTS.setdefault(
        key,
        sa.select(Decision)
        .where(Decision.id.in_(sa.select(ids.c.id)))
        .options(selectinload(Decision.options))
        .order_by(
            _OPEN_FIRST,
            sa.case(
                (Decision.status == DecisionStatus.OPEN, Decision.updated_at),
                else_=Decision.decided_at,
            ).desc(),
            Decision.id.desc(),
        ),
    )
