"""The declarative base, column types and mixins every model uses."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: Set by `set_clock` to run time-driven rules (expiry, birthdays, reminders) at a chosen
#: instant, e.g. from a test; None means the real clock.
_clock_override: datetime | None = None


def utcnow() -> datetime:
    """Now, in UTC. Every piece of code that asks "what time is it" asks this."""
    return _clock_override if _clock_override is not None else datetime.now(UTC)


def set_clock(instant: datetime | None) -> None:
    """Freeze `utcnow()` at `instant` (tz-aware), or back to the real clock with None."""
    global _clock_override
    if instant is not None and instant.tzinfo is None:
        raise ValueError("set_clock needs a timezone-aware datetime")
    _clock_override = instant


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so values are stored as naive UTC
    and made aware again on the way out. Naive values are refused on the way in: they are the
    classic source of off-by-hours bugs in reminders.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def enum_column(enum_cls, length: int = 32) -> sa.Enum:
    """Store enums by value as plain strings with a CHECK, portable and readable in SQL."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        create_constraint=True,
        name=enum_cls.__name__.lower(),
    )


def insert(session, model):
    """An INSERT for `model` in the dialect of the session's database, so that
    `.on_conflict_do_nothing()` and `.on_conflict_do_update()` work on SQLite and PostgreSQL
    alike: an insert that survives the race instead of a check-then-insert that does not."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(model)
