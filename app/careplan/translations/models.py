"""A team member's translation of one item, goal or decision (with its options)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import enum_column, utcnow
from app.extensions import db


class Entity(enum.StrEnum):
    PLAN_ITEM = "plan_item"
    GOAL = "goal"
    #: A decision and its options, translated together (one form, one row): the options'
    #: fields are keyed "option.<id>.<part>".
    DECISION = "decision"


class ContentTranslation(db.Model):
    """The translated fields of one thing in one language. Read only through the thing itself
    (its page, its card), so the thing's own sensitivity decides who sees the translation."""

    __tablename__ = "content_translations"
    __table_args__ = (
        sa.UniqueConstraint(
            "entity", "entity_id", "language", name="uq_content_translations_entity_language"
        ),
        sa.Index("ix_content_translations_patient_language", "patient_id", "language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose plan: for the policy, the per-page batch read and cleanup with the patient.
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    entity: Mapped[Entity] = mapped_column(enum_column(Entity, length=16))
    entity_id: Mapped[int] = mapped_column()
    language: Mapped[str] = mapped_column(sa.String(8))
    #: {field: translated text}; a field left out shows in the original.
    fields: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    #: {field: digest of the original text it was translated from}: a field whose original
    #: changed since is out of date.
    field_digests: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    #: Digest of all the original fields when translated (the whole thing's freshness).
    source_digest: Mapped[str] = mapped_column(sa.String(64))
    translated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    translated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
