"""Writing translations, and the language new content is written in.

A translation is saved whole (every field of the form at once) with an upsert on (entity,
entity_id, language): a double submit or two tabs leave one row. Each save goes to "What
changed" ("Translated into Spanish") and the audit trail through `changes.record`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.careplan import changes
from app.careplan.decisions.models import Decision
from app.careplan.goals.models import Goal
from app.careplan.items.models import PlanItem
from app.careplan.models import ChangeKind, ChangeSubject
from app.careplan.translations.models import ContentTranslation, Entity
from app.core import audit
from app.core.db import insert, utcnow
from app.core.errors import RuleError
from app.core.i18n import recipient_locale
from app.core.privacy import Capacity, current_actor
from app.extensions import db

#: The fields people write, per kind of thing (places, medicine names and doses stay as
#: written). A decision's options are keyed "option.<id>.<part>".
FIELDS = {
    Entity.PLAN_ITEM: ("title", "why_it_matters", "details", "preparation"),
    Entity.GOAL: ("description", "why_it_matters", "target_text"),
    Entity.DECISION: ("question", "background"),
}
OPTION_PARTS = ("title", "benefits", "risks", "day_to_day")
#: The field that must be translated for a translation to exist at all.
MAIN_FIELD = {Entity.PLAN_ITEM: "title", Entity.GOAL: "description", Entity.DECISION: "question"}
#: Longest translated text per field (a translation may run longer than its original).
SHORT_MAX = 400
TEXT_MAX = 4000
SHORT_FIELDS = frozenset({"title", "description", "target_text", "question"})

SUBJECTS = {
    Entity.PLAN_ITEM: ChangeSubject.ITEM,
    Entity.GOAL: ChangeSubject.GOAL,
    Entity.DECISION: ChangeSubject.DECISION,
}
MODELS = {Entity.PLAN_ITEM: PlanItem, Entity.GOAL: Goal, Entity.DECISION: Decision}


def entity_of(thing) -> Entity:
    if isinstance(thing, PlanItem):
        return Entity.PLAN_ITEM
    if isinstance(thing, Goal):
        return Entity.GOAL
    if isinstance(thing, Decision):
        return Entity.DECISION
    raise TypeError(type(thing).__name__)


def limit_of(field: str) -> int:
    return SHORT_MAX if field.rsplit(".", 1)[-1] in SHORT_FIELDS else TEXT_MAX


def originals(entity: Entity, thing) -> dict[str, str]:
    """The thing's translatable fields that have text, in order (a decision's options need
    `thing.options` loaded)."""
    found = {name: getattr(thing, name) for name in FIELDS[entity]}
    if entity is Entity.DECISION:
        for option in thing.options:
            for part in OPTION_PARTS:
                found[f"option.{option.id}.{part}"] = getattr(option, part)
    return {name: text for name, text in found.items() if text and text.strip()}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def whole_digest(field_digests: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(field_digests, sort_keys=True).encode()).hexdigest()


def is_stale(row: ContentTranslation, current: dict[str, str]) -> bool:
    """Out of date: an original field changed (or appeared, or went) since the translation."""
    return row.source_digest != whole_digest({k: digest(v) for k, v in current.items()})


# ------------------------------------------------------------------ languages


def patient_language(patient) -> str:
    """The language the patient reads (their account's, else the one the team recorded)."""
    return recipient_locale(patient)


def default_language(patient, capacity: Capacity | str | None = None) -> str:
    """New content is written in the patient's language when the team writes it; the patient
    and caregivers write in the language they use the portal in."""
    capacity = Capacity(capacity) if capacity else current_actor().capacity
    if capacity in (Capacity.PATIENT, Capacity.CAREGIVER) and has_request_context():
        locale = get_locale()
        if locale is not None and str(locale) in current_app.config["LANGUAGES"]:
            return str(locale)
    return patient_language(patient)


def default_language_for(patient_id: int, capacity: Capacity | str | None = None) -> str:
    """`default_language` for a patient known by id (the services that create content)."""
    from app.patients.models import Patient

    patient = db.session.get(Patient, patient_id)
    if patient is None:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return default_language(patient, capacity)


def reader_languages(patient, grants, content_language: str, sensitivity=None) -> list[str]:
    """The languages worth translating this content into: the patient's, then each current
    caregiver's who may see it (sensitive content is the patient's own: only theirs), without
    the content's own language, in a stable order."""
    return reader_languages_for(
        patient_language(patient),
        [grant.caregiver.locale for grant in grants],
        content_language,
        sensitivity,
    )


def reader_languages_for(
    patient_lang: str, caregiver_langs, content_language: str, sensitivity=None
) -> list[str]:
    wanted = [patient_lang]
    if sensitivity is None:
        wanted += list(caregiver_langs)
    shipped = current_app.config["LANGUAGES"]
    seen: list[str] = []
    for code in wanted:
        if code in shipped and code != content_language and code not in seen:
            seen.append(code)
    return seen


# ------------------------------------------------------------------ writing


@dataclass
class TranslationInput:
    language: str
    #: {field: text} as typed; blank fields show the original.
    texts: dict[str, str]


def clean(entity: Entity, thing, data: TranslationInput) -> dict[str, str]:
    """The texts to keep: only fields the original has, stripped, within limits, the main
    field required. Bad input is a RuleError (422), nothing written."""
    if data.language not in current_app.config["LANGUAGES"]:
        raise RuleError(_l("We cannot show content in that language yet."), status=422)
    source = originals(entity, thing)
    kept: dict[str, str] = {}
    for name, raw in data.texts.items():
        if name not in source:
            continue
        text = (raw or "").replace("\r\n", "\n").strip()
        if "\x00" in text:
            raise RuleError(
                _l("The text has characters we cannot save. Please type it again."), status=422
            )
        if len(text) > limit_of(name):
            raise RuleError(
                _l("Please make it shorter: at most %(max)d characters.", max=limit_of(name)),
                status=422,
            )
        if text:
            kept[name] = text
    if MAIN_FIELD[entity] not in kept:
        raise RuleError(
            _l("Please translate the first part. The rest can stay as it is."), status=422
        )
    return kept


def save(patient, thing, data: TranslationInput) -> ContentTranslation:
    """Add or replace the translation of `thing` into `data.language`."""
    entity = entity_of(thing)
    if data.language == thing.content_language:
        raise RuleError(_l("This is already written in that language."), status=422)
    texts = clean(entity, thing, data)
    source = originals(entity, thing)
    digests = {name: digest(text) for name, text in source.items()}
    existing = find(entity, thing.id, data.language)
    if existing is not None and existing.fields == texts and existing.field_digests == digests:
        return existing  # the same translation again (a double submit): nothing changes
    actor = current_actor()
    now = utcnow()
    values = {
        "fields": texts,
        "field_digests": digests,
        "source_digest": whole_digest(digests),
        "translated_by_id": actor.user_id,
        "translated_at": now,
        "updated_at": now,
    }
    statement = insert(db.session, ContentTranslation).values(
        patient_id=patient.id,
        entity=entity.value,
        entity_id=thing.id,
        language=data.language,
        **values,
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["entity", "entity_id", "language"], set_=values
        )
    )
    _record(patient, entity, thing, f"translated:{data.language}")
    row = find(entity, thing.id, data.language)
    assert row is not None
    return row


def delete(patient, thing, language: str) -> bool:
    """Remove the translation into `language`, if any. Returns whether one was removed."""
    entity = entity_of(thing)
    removed = db.session.execute(
        sa.delete(ContentTranslation).where(
            ContentTranslation.entity == entity,
            ContentTranslation.entity_id == thing.id,
            ContentTranslation.language == language,
            ContentTranslation.patient_id == patient.id,
        )
    ).rowcount
    if removed:
        audit.record(
            action="delete",
            resource=changes.AUDIT_RESOURCES[SUBJECTS[entity]],
            resource_id=thing.id,
            patient_id=patient.id,
        )
    return bool(removed)


def find(entity: Entity, entity_id: int, language: str) -> ContentTranslation | None:
    return db.session.scalar(
        sa.select(ContentTranslation)
        .where(
            ContentTranslation.entity == entity,
            ContentTranslation.entity_id == entity_id,
            ContentTranslation.language == language,
        )
        .execution_options(populate_existing=True)
    )


def _record(patient, entity: Entity, thing, event: str) -> None:
    changes.record(
        patient_id=patient.id,
        subject=SUBJECTS[entity],
        subject_id=thing.id,
        change=ChangeKind.CHANGED,
        title=getattr(thing, MAIN_FIELD[entity]),
        fields=[event],
    )
