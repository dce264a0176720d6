"""Shared decisions: the team opens a decision with options; the patient (or a caregiver with
the "decisions" scope) says what matters, asks questions and records a preferred option; the
team answers, records the final decision or withdraws it.

Services add and flush; the request commits. Every rule is checked before anything is written,
so a refused action (`RuleError`) leaves nothing behind. Entries are never edited: the history
is the record of who said what, when.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from app.careplan import changes
from app.careplan.decisions.models import (
    Decision,
    DecisionEntry,
    DecisionEntryKind,
    DecisionOption,
    DecisionStatus,
)
from app.careplan.models import ChangeKind, ChangeSubject
from app.careplan.translations import services as translations
from app.core import audit
from app.core.db import utcnow
from app.core.errors import RuleError
from app.core.privacy import Capacity, Sensitivity, current_actor
from app.extensions import db

#: Who may add which kind of entry, by capacity.
PATIENT_SIDE = frozenset({"patient", "caregiver"})
TEAM_SIDE = frozenset({"care_team"})

MIN_OPTIONS = 2
MAX_OPTIONS = 4
QUESTION_MAX = 300
OPTION_TITLE_MAX = 160
TEXT_MAX = 2000


@dataclass(frozen=True)
class OptionInput:
    title: str
    benefits: str
    risks: str
    day_to_day: str


@dataclass
class DecisionInput:
    """What the "start a decision" form gives the service (checked again there)."""

    question: str
    options: list[OptionInput | Mapping] = field(default_factory=list)
    background: str | None = None
    sensitivity: Sensitivity | None = None
    #: The language it is written in (None: the patient's, `translations.default_language`).
    content_language: str | None = None


# ------------------------------------------------------------------ rules


def _author(author_id: int | None, capacity) -> tuple[int | None, str]:
    """Who writes: as given, else the current actor."""
    if author_id is None and capacity is None:
        actor = current_actor()
        return actor.user_id, actor.capacity.value
    return author_id, str(getattr(capacity, "value", capacity) or "")


def _require_side(capacity: str, allowed: frozenset[str]) -> None:
    if capacity not in allowed:
        if allowed is TEAM_SIDE:
            raise RuleError(_("Only the care team can do this."))
        raise RuleError(_("Only the patient or their caregiver can do this."))


def require_open(decision: Decision) -> None:
    """Only an open decision takes new entries; decided and withdrawn are final."""
    if decision.status is DecisionStatus.DECIDED:
        raise RuleError(_("This decision has already been made. Nothing more can be added."))
    if decision.status is DecisionStatus.WITHDRAWN:
        raise RuleError(_("This decision was withdrawn. Nothing more can be added."))


def _clean(text: str | None, *, required: bool, limit: int = TEXT_MAX) -> str | None:
    cleaned = (text or "").strip()
    if not cleaned:
        if required:
            raise RuleError(_("Please write something first."))
        return None
    if len(cleaned) > limit:
        raise RuleError(_("Please make it shorter: at most %(limit)s characters.", limit=limit))
    return cleaned


def _option_of(decision: Decision, option_id: int | None) -> DecisionOption:
    option = db.session.get(DecisionOption, option_id) if option_id is not None else None
    if option is None or option.decision_id != decision.id:
        raise RuleError(_("That choice is not one of the options for this decision."))
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
    data: DecisionInput,
    *,
    author_id: int | None = None,
    capacity: Capacity | str | None = None,
) -> Decision:
    """Open a decision with 2 to 4 complete options (title, benefits, risks, day to day),
    by the current actor unless another author (a team member, by default) is given."""
    if author_id is not None and capacity is None:
        capacity = Capacity.CARE_TEAM
    author_id, capacity = _author(author_id, capacity)
    _require_side(capacity, TEAM_SIDE)
    question = _clean(data.question, required=True, limit=QUESTION_MAX)
    background = _clean(data.background, required=False)
    sensitivity = data.sensitivity
    cleaned: list[OptionInput] = []
    for raw in data.options:
        parts = {name: _part(raw, name) for name in ("title", "benefits", "risks", "day_to_day")}
        if not any(parts.values()):
            continue  # an empty block is simply not an option
        if not all(parts.values()):
            raise RuleError(
                _("Every option needs a name, benefits, risks and what it means day to day.")
            )
        _clean(parts["title"], required=True, limit=OPTION_TITLE_MAX)
        for name in ("benefits", "risks", "day_to_day"):
            _clean(parts[name], required=True)
        cleaned.append(OptionInput(**parts))
    if len(cleaned) < MIN_OPTIONS:
        raise RuleError(_("A decision needs at least two complete options."))
    if len(cleaned) > MAX_OPTIONS:
        raise RuleError(_("A decision can have at most %(count)s options.", count=MAX_OPTIONS))
    decision = Decision(
        patient_id=patient_id,
        question=question,
        background=background,
        status=DecisionStatus.OPEN,
        opened_by_id=author_id,
        sensitivity=sensitivity,
        content_language=data.content_language
        or translations.default_language_for(patient_id, capacity),
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
    decision: Decision, kind: DecisionEntryKind, text: str, *, author_id=None, capacity=None
) -> DecisionEntry:
    """What matters or a question: the patient side adds words to the history."""
    author_id, capacity = _author(author_id, capacity)
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


def add_what_matters(
    decision: Decision, text: str, *, author_id=None, capacity=None
) -> DecisionEntry:
    return _say(
        decision, DecisionEntryKind.WHAT_MATTERS, text, author_id=author_id, capacity=capacity
    )


def ask_question(decision: Decision, text: str, *, author_id=None, capacity=None) -> DecisionEntry:
    return _say(decision, DecisionEntryKind.QUESTION, text, author_id=author_id, capacity=capacity)


def answer_question(
    decision: Decision, text: str, *, author_id=None, capacity=None
) -> DecisionEntry:
    author_id, capacity = _author(author_id, capacity)
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
    decision: Decision,
    option_id: int | None,
    note: str | None = None,
    *,
    author_id=None,
    capacity=None,
) -> DecisionEntry:
    """The patient's preferred option. A new preference replaces the old one; both stay in
    the history."""
    author_id, capacity = _author(author_id, capacity)
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
    decision: Decision,
    option_id: int | None,
    note: str | None = None,
    *,
    author_id=None,
    capacity=None,
) -> DecisionEntry:
    """The team records what was decided together. A decided decision is final."""
    author_id, capacity = _author(author_id, capacity)
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


def withdraw(decision: Decision, reason: str, *, author_id=None, capacity=None) -> DecisionEntry:
    """The team takes the decision back (for example, it is no longer needed), saying why."""
    author_id, capacity = _author(author_id, capacity)
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
