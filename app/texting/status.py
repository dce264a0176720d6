"""Delivery statuses from Twilio's callbacks: they only move forward, and none is lost.

Twilio calls back once per status, from several machines at once: `sent` and `delivered` can
arrive together, or out of order. Whether a status moves a text on is decided by the database
in one conditional UPDATE (`advance`), so two callbacks cannot both read "accepted" and the
slower one write its older status over the newer one.

Twilio can also call back before the dispatcher has stored the SID it was just given. Such a
callback is kept in `sms_status_early` (`keep_early`) and applied when the SID lands: the
dispatcher calls `apply_early(row)` right after it has committed `row.provider_sid`. The
webhook commits the early row and then looks for the SID again, so whichever of the two comes
second applies it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from app.core.db import insert, utcnow
from app.extensions import db
from app.texting.models import OutboundSms, SmsStatusEarly
from app.texting.optout import set_opt_out

log = logging.getLogger(__name__)

#: Delivery statuses in the order they happen; a callback never moves a text backwards.
#: A status we set ourselves and Twilio never sends (skipped) ranks like queued.
STATUS_RANK = {
    "queued": 0,
    "stored": 0,
    "sending": 1,
    "accepted": 1,
    "scheduled": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
}
#: Twilio error codes that mean the number has unsubscribed.
UNSUBSCRIBED_CODES = {"21610"}
#: An early callback whose SID never landed (not ours, or the send failed) is dropped then.
EARLY_KEPT_FOR = timedelta(days=1)


def rank(status: sa.ColumnElement[str]) -> sa.ColumnElement[int]:
    """The rank of a status column, in SQL."""
    return sa.case(STATUS_RANK, value=status, else_=0)


def is_known(sid: str) -> bool:
    return (
        db.session.scalar(sa.select(OutboundSms.id).where(OutboundSms.provider_sid == sid))
        is not None
    )


def advance(sid: str, status: str, error_code: str | None = None) -> bool:
    """Move the text with this SID to `status` if that is further on than where it is. One
    UPDATE decides it, so concurrent callbacks end at the furthest status whatever their
    order. An unsubscribed error opts the number out. False: unknown SID, or not forward."""
    values: dict[str, str] = {"status": status}
    if error_code:
        values["error_code"] = error_code
    moved = db.session.execute(
        sa.update(OutboundSms)
        .where(OutboundSms.provider_sid == sid, rank(OutboundSms.status) < STATUS_RANK[status])
        .values(values)
        .returning(OutboundSms.id, OutboundSms.to_number)
        .execution_options(synchronize_session=False)
    ).first()
    if moved is None:
        return False
    if error_code in UNSUBSCRIBED_CODES:
        set_opt_out(moved.to_number, True, error_code)
    suffix = f" (error {error_code})" if error_code else ""
    log.info("sms %s (%s) is now %s%s", moved.id, sid, status, suffix)
    return True


def keep_early(sid: str, status: str, error_code: str | None = None) -> None:
    """Keep a callback for a SID not stored yet; of several, the furthest status wins."""
    stmt = insert(db.session, SmsStatusEarly).values(
        sid=sid, status=status, error_code=error_code, received_at=utcnow()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["sid"],
        set_={
            "status": stmt.excluded.status,
            "error_code": sa.func.coalesce(stmt.excluded.error_code, SmsStatusEarly.error_code),
            "received_at": stmt.excluded.received_at,
        },
        where=rank(SmsStatusEarly.status) < rank(stmt.excluded.status),
    )
    db.session.execute(stmt)
    drop_stale()


def drop_stale() -> None:
    db.session.execute(
        sa.delete(SmsStatusEarly)
        .where(SmsStatusEarly.received_at < utcnow() - EARLY_KEPT_FOR)
        .execution_options(synchronize_session=False)
    )


def apply_early_sid(sid: str) -> bool:
    """Apply (and remove) the early callback kept for `sid`, if any. The DELETE ... RETURNING
    takes it once, even when the dispatcher and the webhook both look."""
    early = db.session.execute(
        sa.delete(SmsStatusEarly)
        .where(SmsStatusEarly.sid == sid)
        .returning(SmsStatusEarly.status, SmsStatusEarly.error_code)
        .execution_options(synchronize_session=False)
    ).first()
    if early is None:
        return False
    return advance(sid, early.status, early.error_code)


def apply_early(row: OutboundSms) -> bool:
    """For the dispatcher: call right after the commit that stored `row.provider_sid` (not
    before it: the webhook looks for the SID only once its early row is committed), then
    commit. Applies a status callback that came before the SID was stored, and drops early
    callbacks older than a day. Returns whether one was applied (`row` is then refreshed on
    its next use)."""
    drop_stale()
    sid = row.provider_sid
    if not sid or not apply_early_sid(sid):
        return False
    if row in db.session:
        db.session.expire(row, ["status", "error_code"])
    return True


def apply_early_many(sids: list[str]) -> int:
    """`apply_early` for a batch of SIDs just committed by the dispatcher: one DELETE ...
    RETURNING takes the early callbacks kept for any of them. Returns how many moved a text
    on; the caller commits."""
    drop_stale()
    early = db.session.execute(
        sa.delete(SmsStatusEarly)
        .where(SmsStatusEarly.sid.in_(sids))
        .returning(SmsStatusEarly.sid, SmsStatusEarly.status, SmsStatusEarly.error_code)
        .execution_options(synchronize_session=False)
    ).all()
    return sum(advance(row.sid, row.status, row.error_code) for row in early)
