"""Showing care content in the reader's language.

Templates call `content(thing)` for any item, goal or decision they show and read its fields
from the result: the translation into the reader's interface language where the team made one,
else the original (with `lang`/`dir` on its element when that is not the page's language). The
translations are read once per page and patient, and only when something on the page is written
in another language than the reader's: an English page of English content costs no query.
Nothing here decides access: a translation is only ever looked up for a thing the page already
shows, which the page loaded through the policy and its hidden categories.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, g
from flask_babel import get_locale
from markupsafe import Markup

from app.careplan.translations import services
from app.careplan.translations.models import ContentTranslation, Entity
from app.extensions import db

RTL = frozenset({"ar"})


def reader_language() -> str:
    locale = get_locale()
    return str(locale) if locale is not None else "en"


def lang_attrs(language: str) -> Markup:
    """` lang="es" dir="ltr"` for text in `language` inside a page in another language."""
    direction = "rtl" if language in RTL else "ltr"
    return Markup(' lang="{}" dir="{}"').format(language, direction)


def _translations(patient_id: int, language: str) -> dict[tuple[str, int], ContentTranslation]:
    """Every translation of the patient's content into `language`, once per request."""
    cache = g.setdefault("_content_translations", {})
    key = (patient_id, language)
    if key not in cache:
        rows = db.session.scalars(
            sa.select(ContentTranslation).where(
                ContentTranslation.patient_id == patient_id,
                ContentTranslation.language == language,
            )
        )
        cache[key] = {(row.entity.value, row.entity_id): row for row in rows}
    return cache[key]


class Shown:
    """A thing as the reader sees it. Attribute reads give the translated text of the
    translatable fields, and the thing's own value for anything else."""

    def __init__(self, thing, entity: Entity, row: ContentTranslation | None, reader: str):
        self.thing = thing
        self.entity = entity
        self.row = row
        self.reader = reader
        #: The language the thing was written in.
        self.original_language = thing.content_language
        self.translated = row is not None
        #: The language the shown text is in.
        self.language = reader if row is not None else self.original_language

    def __getattr__(self, name: str):
        thing = self.__dict__["thing"]
        row = self.__dict__["row"]
        if row is not None and name in services.FIELDS[self.entity] and row.fields.get(name):
            return row.fields[name]
        return getattr(thing, name)

    def text(self, key: str) -> str | None:
        if self.row is not None and self.row.fields.get(key):
            return self.row.fields[key]
        return None

    @property
    def attrs(self) -> Markup:
        """`lang`/`dir` for the element holding the shown text, when it differs from the page."""
        if self.language == self.reader:
            return Markup("")
        return lang_attrs(self.language)

    @property
    def original_attrs(self) -> Markup:
        return lang_attrs(self.original_language)

    def stale(self, *names: str) -> bool:
        """The original of any of `names` (all translated fields when none) changed since."""
        row = self.row
        if row is None:
            return False
        for name in names or tuple(row.fields):
            if name not in row.fields:
                continue
            value = self._original(name)
            if value is None or services.digest(value) != row.field_digests.get(name):
                return True
        return False

    def _original(self, key: str) -> str | None:
        if key.startswith("option."):
            _, option_id, part = key.split(".", 2)
            for option in self.thing.options:
                if str(option.id) == option_id:
                    return getattr(option, part)
            return None
        return getattr(self.thing, key)

    def option(self, option) -> ShownOption:
        return ShownOption(self, option)


class ShownOption:
    """One option of a shown decision, in the same language as its decision."""

    def __init__(self, decision: Shown, option):
        self.decision = decision
        self.option = option

    def __getattr__(self, name: str):
        parent = self.__dict__["decision"]
        option = self.__dict__["option"]
        if name in services.OPTION_PARTS:
            text = parent.text(f"option.{option.id}.{name}")
            if text:
                return text
        return getattr(option, name)


class Passthrough:
    """Anything else, shown as it is."""

    translated = False
    attrs = Markup("")

    def __init__(self, thing):
        self.thing = thing

    def __getattr__(self, name: str):
        return getattr(self.__dict__["thing"], name)

    def stale(self, *names: str) -> bool:
        return False


def content(thing, entity: str | None = None) -> Shown | Passthrough:
    """`thing` (an item, goal or decision) as the reader of this page sees it. A plain row of
    a few columns says which `entity` it is and carries `patient_id` and `content_language`."""
    reader = reader_language()
    try:
        kind = Entity(entity) if entity else services.entity_of(thing)
    except (TypeError, ValueError):  # not care content: shown as it is
        return Passthrough(thing)
    if not hasattr(thing, "content_language"):
        return Passthrough(thing)
    entity = kind
    row = None
    if thing.content_language != reader:
        row = _translations(thing.patient_id, reader).get((entity.value, thing.id))
    return Shown(thing, entity, row, reader)


def register(app: Flask) -> None:
    app.jinja_env.globals.update(content=content, lang_attrs=lang_attrs)


def text_in(thing, field: str, language: str) -> str | None:
    """One field of `thing` for a reader of `language` outside a page (a detailed text): the
    team's translation when there is one, else the original. A query only when the languages
    differ."""
    original = getattr(thing, field)
    if thing.content_language == language:
        return original
    row = db.session.scalar(
        sa.select(ContentTranslation).where(
            ContentTranslation.entity == services.entity_of(thing),
            ContentTranslation.entity_id == thing.id,
            ContentTranslation.language == language,
        )
    )
    return (row.fields.get(field) if row is not None else None) or original
