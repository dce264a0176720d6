"""Opted-out phone numbers: STOP stops every text to the number at once."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.db import insert, utcnow
from app.extensions import db
from app.texting.models import PhoneOptOut


def set_opt_out(phone: str, opted_out: bool, reason: str) -> None:
    """One statement that inserts or updates, so two STOPs from a new number at once (two
    texts, or a text and an unsubscribed error) both succeed and leave one row."""
    stmt = insert(db.session, PhoneOptOut).values(
        phone=phone, opted_out=opted_out, reason=reason[:16], changed_at=utcnow()
    )
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["phone"],
            set_={
                "opted_out": stmt.excluded.opted_out,
                "reason": stmt.excluded.reason,
                "changed_at": stmt.excluded.changed_at,
            },
        )
    )


def is_opted_out(phone: str) -> bool:
    return bool(
        db.session.scalar(sa.select(PhoneOptOut.opted_out).where(PhoneOptOut.phone == phone))
    )
