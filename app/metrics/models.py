"""The nightly rollup of the dashboard (app/metrics/rollup.py): each measure's answer for the
common scopes of the default period, computed by `flask metrics rollup` after midnight, so the
dashboard reads eleven rows instead of aggregating a CCO's year of rows while someone waits."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import utcnow
from app.extensions import db


class MetricRollup(db.Model):
    """One measure's Result for one scope and language, as the job computed it."""

    __tablename__ = "metric_rollups"
    __table_args__ = (
        # The dashboard's one lookup: every measure of a scope in the viewer's language.
        sa.UniqueConstraint(
            "first_day", "last_day", "scope_key", "locale", "measure", name="uq_metric_rollups_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The measure's registry key (measures.REGISTRY).
    measure: Mapped[str] = mapped_column(sa.String(40))
    #: The period: the CCO's local days, both included.
    first_day: Mapped[date] = mapped_column(sa.Date)
    last_day: Mapped[date] = mapped_column(sa.Date)
    #: "<organization id or ->:<member id or ->" (NULLs would not be unique).
    scope_key: Mapped[str] = mapped_column(sa.String(40))
    #: The language its words were written in (labels are words, not keys).
    locale: Mapped[str] = mapped_column(sa.String(8))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The Result as JSON (rollup.dump / rollup.load).
    result: Mapped[dict] = mapped_column(sa.JSON)
