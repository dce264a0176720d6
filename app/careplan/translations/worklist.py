"""The staff summary's "Not yet in Spanish": open items, goals and open decisions written in
another language than someone who reads the record, with no translation (or an out-of-date one)
in that language. Two queries whatever the size of the plan: the newest candidates (capped) with
their original texts, and the patient's translations in the readers' languages."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from app.auth.models import User
from app.careplan.decisions.models import Decision, DecisionStatus
from app.careplan.goals.models import Goal, GoalLifecycle
from app.careplan.items.models import CLOSED_STATUSES, PlanItem
from app.careplan.translations import services
from app.careplan.translations.models import ContentTranslation, Entity
from app.core.privacy import visible
from app.extensions import db

#: Rows listed per language, and how many candidates are looked at (the count is capped there).
SHOWN = 20
CAP = 100

CLOSED_GOALS = (GoalLifecycle.COMPLETED, GoalLifecycle.CANCELLED, GoalLifecycle.REJECTED)


@dataclass
class Missing:
    entity: Entity
    entity_id: int
    label: str
    content_language: str
    #: A translation exists but its original changed since.
    stale: bool


@dataclass
class LanguageGap:
    language: str
    rows: list[Missing] = field(default_factory=list)
    count: int = 0
    #: More candidates than were looked at: the count reads "100+".
    capped: bool = False


def _needs(language_col, sensitivity_col, patient_language: str, caregiver_languages):
    """SQL: written in a language someone reading this (and allowed to) does not read."""
    conditions = [language_col != patient_language]
    conditions += [
        sa.and_(sensitivity_col.is_(None), language_col != code) for code in caregiver_languages
    ]
    return sa.or_(*conditions)


def _candidates(patient_id, hidden, patient_language, caregiver_languages):
    """The newest things someone may not read, each with the patient's language (`plang`)."""

    def text(col):
        return sa.cast(col, sa.Text)

    none = sa.cast(sa.null(), sa.Text)
    items = sa.select(
        sa.literal(Entity.PLAN_ITEM.value).label("entity"),
        PlanItem.id,
        PlanItem.content_language.label("language"),
        PlanItem.sensitivity.label("sensitivity"),
        PlanItem.updated_at.label("at"),
        text(PlanItem.title).label("f1"),
        text(PlanItem.why_it_matters).label("f2"),
        text(PlanItem.details).label("f3"),
        text(PlanItem.preparation).label("f4"),
    ).where(
        PlanItem.patient_id == patient_id,
        PlanItem.status.not_in(list(CLOSED_STATUSES)),
        visible(PlanItem.sensitivity, hidden),
        _needs(
            PlanItem.content_language, PlanItem.sensitivity, patient_language, caregiver_languages
        ),
    )
    goals = sa.select(
        sa.literal(Entity.GOAL.value),
        Goal.id,
        Goal.content_language,
        Goal.sensitivity,
        Goal.updated_at,
        text(Goal.description),
        text(Goal.why_it_matters),
        text(Goal.target_text),
        none,
    ).where(
        Goal.patient_id == patient_id,
        Goal.lifecycle_status.not_in(CLOSED_GOALS),
        visible(Goal.sensitivity, hidden),
        _needs(Goal.content_language, Goal.sensitivity, patient_language, caregiver_languages),
    )
    decisions = sa.select(
        sa.literal(Entity.DECISION.value),
        Decision.id,
        Decision.content_language,
        Decision.sensitivity,
        Decision.updated_at,
        text(Decision.question),
        text(Decision.background),
        none,
        none,
    ).where(
        Decision.patient_id == patient_id,
        Decision.status == DecisionStatus.OPEN,
        visible(Decision.sensitivity, hidden),
        _needs(
            Decision.content_language, Decision.sensitivity, patient_language, caregiver_languages
        ),
    )
    union = sa.union_all(items, goals, decisions).subquery()
    return db.session.execute(
        sa.select(union, patient_language.label("plang"))
        .order_by(union.c.at.desc(), union.c.id.desc())
        .limit(CAP + 1)
    ).all()


def _stale(row: ContentTranslation, current: dict[str, str]) -> bool:
    """Out of date in a field the worklist can see (a decision's options never change once it
    is open; its question and background are checked)."""
    for name in set(current) | {k for k in row.field_digests if not k.startswith("option.")}:
        text = current.get(name)
        if text is None or services.digest(text) != row.field_digests.get(name):
            return True
    return False


def _patient_language_sql(patient):
    """The patient's language (`services.patient_language`) as SQL: their account's language,
    else the language of care the team recorded, else the default. Read inside the worklist's
    query rather than by loading the patient's account: one query for the whole card."""
    shipped = list(current_app.config["LANGUAGES"])
    fallback = (
        patient.language
        if patient.language in shipped
        else current_app.config["BABEL_DEFAULT_LOCALE"]
    )
    if patient.user_id is None:
        return sa.literal(fallback)
    account = (
        sa.select(User.locale)
        .where(User.id == patient.user_id, User.locale.in_(shipped))
        .scalar_subquery()
    )
    return sa.func.coalesce(account, fallback)


def gaps(patient, grants, hidden: frozenset[str]) -> list[LanguageGap]:
    """Per language a reader of the record uses: what is not (or no longer) translated."""
    shipped = current_app.config["LANGUAGES"]
    caregiver_languages = sorted(
        {g.caregiver.locale for g in grants if g.caregiver.locale in shipped}
    )
    candidates = _candidates(
        patient.id, hidden, _patient_language_sql(patient), caregiver_languages
    )
    if not candidates:
        return []
    patient_language = candidates[0].plang
    capped = len(candidates) > CAP
    candidates = candidates[:CAP]
    languages = [patient_language] + [c for c in caregiver_languages if c != patient_language]
    translations = {
        (row.entity.value, row.entity_id, row.language): row
        for row in db.session.scalars(
            sa.select(ContentTranslation).where(
                ContentTranslation.patient_id == patient.id,
                ContentTranslation.language.in_(languages),
            )
        )
    }
    result = {code: LanguageGap(language=code, capped=capped) for code in languages}
    for c in candidates:
        entity = Entity(c.entity)
        names = services.FIELDS[entity]
        current = {n: v for n, v in zip(names, (c.f1, c.f2, c.f3, c.f4), strict=False) if v}
        targets = services.reader_languages_for(
            patient_language, caregiver_languages, c.language, c.sensitivity
        )
        for code in targets:
            found = translations.get((entity.value, c.id, code))
            if found is not None and not _stale(found, current):
                continue
            gap = result[code]
            gap.count += 1
            if len(gap.rows) < SHOWN:
                gap.rows.append(Missing(entity, c.id, c.f1, c.language, stale=found is not None))
    return [gap for gap in result.values() if gap.count]
