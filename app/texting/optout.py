"""Opted-out phone numbers: STOP stops every text to the number at once."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.texting.models import PhoneOptOut


def set_opt_out(phone: str, opted_out: bool, reason: str) -> None:
    row = db.session.scalar(sa.select(PhoneOptOut).where(PhoneOptOut.phone == phone))
    if row is None:
        db.session.add(PhoneOptOut(phone=phone, opted_out=opted_out, reason=reason[:16]))
    else:
        row.opted_out, row.reason = opted_out, reason[:16]
    db.session.flush()


def is_opted_out(phone: str) -> bool:
    return bool(
        db.session.scalar(sa.select(PhoneOptOut.opted_out).where(PhoneOptOut.phone == phone))
    )
