"""Reads for the translate pages and the staff summary's worklist."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.careplan.decisions.models import Decision
from app.careplan.goals.models import Goal
from app.careplan.items.models import PlanItem
from app.careplan.translations.models import ContentTranslation, Entity
from app.core.privacy import visible
from app.extensions import db


def thing(entity: Entity, patient_id: int, entity_id: int, hidden: frozenset[str]):
    """The patient's item, goal or decision (with its options) the viewer may see, or None."""
    model = {Entity.PLAN_ITEM: PlanItem, Entity.GOAL: Goal, Entity.DECISION: Decision}[entity]
    query = sa.select(model).where(
        model.id == entity_id,
        model.patient_id == patient_id,
        visible(model.sensitivity, hidden),
    )
    if entity is Entity.DECISION:
        query = query.options(selectinload(Decision.options))
    return db.session.scalars(query).first()


def translations_of(entity: Entity, entity_id: int) -> dict[str, ContentTranslation]:
    rows = db.session.scalars(
        sa.select(ContentTranslation).where(
            ContentTranslation.entity == entity, ContentTranslation.entity_id == entity_id
        )
    )
    return {row.language: row for row in rows}
