"""Reads for the administration pages."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.core.audit import DENIED, AuditEvent
from app.extensions import db


def denied_page(*, before: int | None, per_page: int, actor_id: int | None = None):
    """Refused attempts, newest first, `per_page` at a time from below `before` (an audit row
    id): keyset paging on (action, id), so the page costs the same however long the trail.
    Returns (rows of (event, name, email), the id to continue below, or None at the end)."""
    conditions = [AuditEvent.action == DENIED]
    if before is not None:
        conditions.append(AuditEvent.id < before)
    if actor_id is not None:
        conditions.append(AuditEvent.actor_id == actor_id)
    rows = db.session.execute(
        sa.select(AuditEvent, User.full_name, User.email)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(*conditions)
        .order_by(AuditEvent.id.desc())
        .limit(per_page + 1)
    ).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (rows[-1][0].id if more else None)
