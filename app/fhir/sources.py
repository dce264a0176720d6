"""Where an imported record came from: one row per FHIR resource (or CarePlan activity) taken in.

Why a table and not columns on each model: provenance is the same question for patients,
organizations, members, plan items, goals and caregiver records, and one indexed table answers
it for all of them without touching six domains' models. The unique key (source system,
resource type, FHIR id) is what makes a re-import update instead of duplicating; the digest of
what we took makes an unchanged resource cost one lookup; `taken` keeps the values the import
last wrote, so a team edit since then is told apart from a change at the source.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import utcnow
from app.extensions import db
from app.team.models import Organization


class FhirSource(db.Model):
    __tablename__ = "fhir_sources"
    __table_args__ = (
        sa.UniqueConstraint(
            "source_system", "resource_type", "fhir_id", name="uq_fhir_sources_resource"
        ),
        sa.Index("ix_fhir_sources_entity", "entity", "entity_id"),
        sa.Index("ix_fhir_sources_parent", "source_system", "parent_fhir_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Bundle.meta.source, else the sending organization's identifier (or name): whose ids.
    source_system: Mapped[str] = mapped_column(sa.String(200))
    #: The FHIR type; "CarePlan.activity" for an activity given inline in a CarePlan.
    resource_type: Mapped[str] = mapped_column(sa.String(40))
    #: The resource's id at the source ("<CarePlan id>#<n>" for an inline activity).
    fhir_id: Mapped[str] = mapped_column(sa.String(200))
    #: What it became here: patient, organization, member, plan_item, goal, care_plan,
    #: care_team, related_person, consent, message, thread.
    entity: Mapped[str] = mapped_column(sa.String(24))
    #: The row it became (NULL for records kept only here: care plans, related persons, consents).
    entity_id: Mapped[int | None] = mapped_column()
    patient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    #: The organization whose record it is ("From Salem Family Clinic's record").
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )
    #: For an activity or a resource a CarePlan lists: that CarePlan's id (to end what it drops).
    parent_fhir_id: Mapped[str | None] = mapped_column(sa.String(200))
    version_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: meta.lastUpdated at the source, when it says.
    last_updated: Mapped[datetime | None] = mapped_column()
    #: sha256 of the resource as we read it: the same digest on a re-import changes nothing.
    content_digest: Mapped[str] = mapped_column(sa.String(64))
    #: The values the import last wrote on the row (a team edit since then differs from them).
    taken: Mapped[dict | None] = mapped_column(sa.JSON)
    #: What the source now says about fields the team had changed: {field: value} (or NULL).
    source_says: Mapped[dict | None] = mapped_column(sa.JSON)
    #: For records kept only here (a RelatedPerson, a Consent): what the patient confirms.
    summary: Mapped[dict | None] = mapped_column(sa.JSON)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the import last changed the row (first import included).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the source stopped listing it (its CarePlan came again without it).
    ended_at: Mapped[datetime | None] = mapped_column()

    organization: Mapped[Organization | None] = relationship(lazy="raise")

    @property
    def updated_on(self) -> datetime:
        return self.last_updated or self.updated_at
