"""Where an imported item or goal came from, for its page: "From Salem Family Clinic's record,
updated Tue 1 Dec", and for the care team what the source now says about fields they changed.

A template global (`record_source`), so the careplan pages include one small template without
importing this domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.core.privacy import Capacity, current_actor
from app.extensions import db
from app.fhir.sources import FhirSource

#: The fields whose source value the team is shown when it differs from their edit.
FIELD_LABELS = {
    "title": _l("Name"),
    "description": _l("Goal"),
    "status": _l("Status"),
    "lifecycle_status": _l("Status"),
    "medication_name": _l("Medicine"),
    "dose": _l("Dose"),
    "starts_at": _l("When"),
    "location": _l("Where"),
    "details": _l("Details"),
    "due_date": _l("Due date"),
    "target_text": _l("Target"),
}


@dataclass(frozen=True)
class RecordSource:
    organization: str | None
    updated: datetime
    #: [(label, value)] of what the source now says, for the care team only (else empty).
    says: list[tuple[str, str]]
    ended: bool


def record_source(entity: str, entity_id: int | None) -> RecordSource | None:
    """The source of an item ("plan_item") or goal ("goal") shown on its page (one query),
    None when it was entered here."""
    if entity_id is None:
        return None
    source = db.session.scalar(
        sa.select(FhirSource)
        .where(FhirSource.entity == entity, FhirSource.entity_id == entity_id)
        .options(joinedload(FhirSource.organization))
        .order_by(FhirSource.updated_at.desc())
        .limit(1)
    )
    if source is None:
        return None
    says = []
    if current_actor().capacity in (Capacity.CARE_TEAM, Capacity.ADMIN):
        for name, value in (source.source_says or {}).items():
            if value not in (None, "", []):
                label = FIELD_LABELS.get(name)
                if label is not None:
                    says.append((str(label), _shown(value)))
    return RecordSource(
        organization=source.organization.name if source.organization else None,
        updated=source.updated_on,
        says=says,
        ended=source.ended_at is not None,
    )


def _shown(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = str(value)
    return text.replace("_", " ") if text.isidentifier() else text


def register(app: Flask) -> None:
    app.add_template_global(record_source, "record_source")
