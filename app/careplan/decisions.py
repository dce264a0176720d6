"""Shared decisions: the team opens a decision with options; the patient (or a caregiver with
the "decisions" scope) says what matters, asks questions and records a preferred option; the
team answers, records the final decision or withdraws it.

Services add and flush; the request commits. Every rule is checked before anything is written,
so a refused action leaves nothing behind. Entries are never edited: the history is the record
of who said what, when.

Queries load everything a page shows up front (no lazy loads) and keep out the sensitive
categories hidden from the viewer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from app.careplan import changes
from app.careplan.models import (
    ChangeKind,
    ChangeSubject,
    Decision,
    DecisionEntry,
    DecisionEntryKind,
    DecisionOption,
    DecisionStatus,
    Sensitivity,
)
from app.core import audit
from app.core.db import utcnow
from app.extensions import db
from app.team.models import CareTeamMember

#: Who may add which kind of entry, by capacity.
PATIENT_SIDE = frozenset({"patient", "caregiver"})
TEAM_SIDE = frozenset({"care_team"})

MIN_OPTIONS = 2
MAX_OPTIONS = 4
QUESTION_MAX = 300
OPTION_TITLE_MAX = 160
TEXT_MAX = 2000


class DecisionRuleError(Exception):
    """An action the decision's rules do not allow; the message is shown to the user."""


@dataclass(frozen=True)
class OptionInput:
    title: str
    benefits: str
    risks: str
    day_to_day: str


# ------------------------------------------------------------------ rules


def _capacity(value) -> str:
    return getattr(value, "value", value) or ""


def _require_side(capacity: str, allowed: frozenset[str]) -> None:
    if capacity not in allowed:
        if allowed is TEAM_SIDE:
            raise DecisionRuleError(_("Only the care team can do this."))
        raise DecisionRuleError(_("Only the patient or their caregiver can do this."))


def require_open(decision: Decision) -> None:
    """Only an open decision takes new entries; decided and withdrawn are final."""
    if decision.status is DecisionStatus.DECIDED:
        raise DecisionRuleError(
            _("This decision has already been made. Nothing more can be added.")
        )
    if decision.status is DecisionStatus.WITHDRAWN:
        raise DecisionRuleError(_("This decision was withdrawn. Nothing more can be added."))


def _clean(text: str | None, *, required: bool, limit: int = TEXT_MAX) -> str | None:
    cleaned = (text or "").strip()
    if not cleaned:
        if required:
            raise DecisionRuleError(_("Please write something first."))
        return None
    if len(cleaned) > limit:
        raise DecisionRuleError(
            _("Please make it shorter: at most %(limit)s characters.", limit=limit)
        )
    return cleaned


def _option_of(decision: Decision, option_id: int | None) -> DecisionOption:
    option = db.session.get(DecisionOption, option_id) if option_id is not None else None
    if option is None or option.decision_id != decision.id:
        raise DecisionRuleError(_("That choice is not one of the options for this decision."))
    return option


def _add_entry(
    decision: Decision,
    kind: DecisionEntryKind,
    *,
    author_id: int | None,
    capacity: str,
    text: str | None = None,
    option_id: int | None = None,
    at: datetime | None = None,
) -> DecisionEntry:
    entry = DecisionEntry(
        decision_id=decision.id,
        kind=kind,
        text=text,
        option_id=option_id,
        author_id=author_id,
        capacity=capacity,
        created_at=at or utcnow(),
    )
    db.session.add(entry)
    decision.updated_at = entry.created_at
    return entry


def _record_change(
    decision: Decision, change: ChangeKind, *, author_id: int | None, capacity: str, fields=None
) -> None:
    changes.record(
        patient_id=decision.patient_id,
        subject=ChangeSubject.DECISION,
        subject_id=decision.id,
        change=change,
        title=decision.question,
        sensitivity=decision.sensitivity,
        fields=fields,
        actor_id=author_id,
        capacity=capacity,
    )


# ------------------------------------------------------------------ services


def _part(raw: OptionInput | Mapping, name: str) -> str:
    value = raw.get(name) if isinstance(raw, Mapping) else getattr(raw, name)
    return (value or "").strip()


def open_decision(
    patient_id: int,
    *,
    question: str,
    options: Iterable[OptionInput | Mapping],
    author_id: int | None,
    capacity="care_team",
    background: str | None = None,
    sensitivity: Sensitivity | None = None,
) -> Decision:
    """Open a decision with 2 to 4 complete options (title, benefits, risks, day to day)."""
    capacity = _capacity(capacity)
    _require_side(capacity, TEAM_SIDE)
    question = _clean(question, required=True, limit=QUESTION_MAX)
    background = _clean(background, required=False)
    cleaned: list[OptionInput] = []
    for raw in options:
        parts = {name: _part(raw, name) for name in ("title", "benefits", "risks", "day_to_day")}
        if not any(parts.values()):
            continue  # an empty block is simply not an option
        if not all(parts.values()):
            raise DecisionRuleError(
                _("Every option needs a name, benefits, risks and what it means day to day.")
            )
        _clean(parts["title"], required=True, limit=OPTION_TITLE_MAX)
        for name in ("benefits", "risks", "day_to_day"):
            _clean(parts[name], required=True)
        cleaned.append(OptionInput(**parts))
    if len(cleaned) < MIN_OPTIONS:
        raise DecisionRuleError(_("A decision needs at least two complete options."))
    if len(cleaned) > MAX_OPTIONS:
        raise DecisionRuleError(
            _("A decision can have at most %(count)s options.", count=MAX_OPTIONS)
        )
    decision = Decision(
        patient_id=patient_id,
        question=question,
        background=background,
        status=DecisionStatus.OPEN,
        opened_by_id=author_id,
        sensitivity=sensitivity,
        options=[
            DecisionOption(
                position=position,
                title=option.title,
                benefits=option.benefits,
                risks=option.risks,
                day_to_day=option.day_to_day,
            )
            for position, option in enumerate(cleaned)
        ],
    )
    db.session.add(decision)
    db.session.flush()
    _add_entry(
        decision,
        DecisionEntryKind.OPENED,
        author_id=author_id,
        capacity=capacity,
        at=decision.created_at,
    )
    db.session.flush()
    _record_change(decision, ChangeKind.ADDED, author_id=author_id, capacity=capacity)
    return decision


def _say(
    decision: Decision, kind: DecisionEntryKind, text: str, *, author_id, capacity
) -> DecisionEntry:
    """What matters or a question: the patient side adds words to the history."""
    capacity = _capacity(capacity)
    _require_side(capacity, PATIENT_SIDE)
    require_open(decision)
    text = _clean(text, required=True)
    entry = _add_entry(decision, kind, author_id=author_id, capacity=capacity, text=text)
    db.session.flush()
    audit.record(
        action="update",
        resource=changes.AUDIT_RESOURCES[ChangeSubject.DECISION],
        resource_id=decision.id,
        patient_id=decision.patient_id,
        actor_id=author_id,
        capacity=capacity,
    )
    return entry


def add_what_matters(decision: Decision, text: str, *, author_id, capacity) -> DecisionEntry:
    return _say(
        decision, DecisionEntryKind.WHAT_MATTERS, text, author_id=author_id, capacity=capacity
    )


def ask_question(decision: Decision, text: str, *, author_id, capacity) -> DecisionEntry:
    return _say(decision, DecisionEntryKind.QUESTION, text, author_id=author_id, capacity=capacity)


def answer_question(decision: Decision, text: str, *, author_id, capacity) -> DecisionEntry:
    capacity = _capacity(capacity)
    _require_side(capacity, TEAM_SIDE)
    require_open(decision)
    text = _clean(text, required=True)
    entry = _add_entry(
        decision, DecisionEntryKind.ANSWER, author_id=author_id, capacity=capacity, text=text
    )
    db.session.flush()
    _record_change(
        decision, ChangeKind.CHANGED, author_id=author_id, capacity=capacity, fields=["answer"]
    )
    return entry


def record_preference(
    decision: Decision, option_id: int | None, note: str | None = None, *, author_id, capacity
) -> DecisionEntry:
    """The patient's preferred option. A new preference replaces the old one; both stay in
    the history."""
    capacity = _capacity(capacity)
    _require_side(capacity, PATIENT_SIDE)
    require_open(decision)
    option = _option_of(decision, option_id)
    note = _clean(note, required=False)
    decision.preferred_option_id = option.id
    entry = _add_entry(
        decision,
        DecisionEntryKind.PREFERENCE,
        author_id=author_id,
        capacity=capacity,
        text=note,
        option_id=option.id,
    )
    db.session.flush()
    _record_change(
        decision,
        ChangeKind.CHANGED,
        author_id=author_id,
        capacity=capacity,
        fields=["preferred_option"],
    )
    return entry


def record_final(
    decision: Decision, option_id: int | None, note: str | None = None, *, author_id, capacity
) -> DecisionEntry:
    """The team records what was decided together. A decided decision is final."""
    capacity = _capacity(capacity)
    _require_side(capacity, TEAM_SIDE)
    require_open(decision)
    option = _option_of(decision, option_id)
    note = _clean(note, required=False)
    now = utcnow()
    decision.status = DecisionStatus.DECIDED
    decision.final_option_id = option.id
    decision.decided_by_id = author_id
    decision.decided_at = now
    entry = _add_entry(
        decision,
        DecisionEntryKind.FINAL,
        author_id=author_id,
        capacity=capacity,
        text=note,
        option_id=option.id,
        at=now,
    )
    db.session.flush()
    _record_change(decision, ChangeKind.COMPLETED, author_id=author_id, capacity=capacity)
    return entry


def withdraw(decision: Decision, reason: str, *, author_id, capacity) -> DecisionEntry:
    """The team takes the decision back (for example, it is no longer needed), saying why."""
    capacity = _capacity(capacity)
    _require_side(capacity, TEAM_SIDE)
    require_open(decision)
    reason = _clean(reason, required=True)
    decision.status = DecisionStatus.WITHDRAWN
    entry = _add_entry(
        decision, DecisionEntryKind.WITHDRAWN, author_id=author_id, capacity=capacity, text=reason
    )
    db.session.flush()
    _record_change(decision, ChangeKind.STOPPED, author_id=author_id, capacity=capacity)
    return entry


# ------------------------------------------------------------------ queries

_OPEN_FIRST = sa.case((Decision.status == DecisionStatus.OPEN, 0), else_=1)


def list_decisions(patient_id: int, hidden: frozenset[str]) -> list[Decision]:
    """All the patient's decisions the viewer may see: open ones first, newest activity first.

    Two queries whatever the number of decisions and options.
    """
    return list(
        db.session.scalars(
            sa.select(Decision)
            .where(Decision.patient_id == patient_id, changes.visible(Decision.sensitivity, hidden))
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
            changes.visible(Decision.sensitivity, hidden),
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


def team_titles(user_ids: Iterable[int]) -> dict[int, str]:
    """Job titles of care team users, to show next to their names (one query)."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(CareTeamMember.user_id, CareTeamMember.title).where(
                CareTeamMember.user_id.in_(ids)
            )
        ).all()
    )


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
    visible = [Decision.patient_id == patient_id, changes.visible(Decision.sensitivity, hidden)]
    open_ids = (
        sa.select(Decision.id)
        .where(*visible, Decision.status == DecisionStatus.OPEN)
        .order_by(Decision.updated_at.desc(), Decision.id.desc())
        .limit(open_limit)
    )
    decided_ids = (
        sa.select(Decision.id)
        .where(
            *visible,
            Decision.status == DecisionStatus.DECIDED,
            Decision.decided_at >= utcnow() - timedelta(days=decided_within_days),
        )
        .order_by(Decision.decided_at.desc(), Decision.id.desc())
        .limit(decided_limit)
    )
    ids = sa.union_all(open_ids.subquery().select(), decided_ids.subquery().select()).subquery()
    return list(
        db.session.scalars(
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
            )
        )
    )
