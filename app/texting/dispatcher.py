"""The dispatcher: sends due texts, at most once each, without losing any.

    flask reminders dispatch --once      # for cron (plans reminders, then sends)
    flask reminders run                  # a long-running worker

How a text goes out:
1. Claim: in one short transaction, due rows (status "queued", send_after <= now) are marked
   "sending" with a lease and attempts + 1. PostgreSQL uses FOR UPDATE SKIP LOCKED, so several
   workers on several hosts share the work without taking the same row; SQLite runs one worker.
   The attempt is committed *before* any network call.
2. Send through the configured backend, then record the provider SID and status at once.
3. Transient errors (429, 5xx, network) put the row back with exponential backoff and jitter;
   permanent ones (21211 invalid number, 21610 unsubscribed...) fail it and stop retrying.
4. A worker killed between 1 and 2 leaves a "sending" row with an expired lease. Before
   anything is sent again, such rows are reconciled: the backend is asked whether the text
   went out (by number, body and time); if it did, we adopt its SID; only if not is it queued
   again. So a crash never causes a second text, and no text is lost.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from app.core.db import utcnow
from app.extensions import db
from app.texting import gateway
from app.texting.models import OutboundSms
from app.texting.optout import is_opted_out, set_opt_out

log = logging.getLogger(__name__)

UNSUBSCRIBED = {"21610"}

#: A check run just before a text goes out: None to send it, or why not (stored as its
#: error_code, the text "skipped"). Domains that plan texts ahead add theirs in init_app.
SendCheck = Callable[[OutboundSms], str | None]


def add_send_check(app: Flask, check: SendCheck) -> None:
    checks = app.extensions.setdefault("carecircle.send_checks", [])
    if check not in checks:
        checks.append(check)


def _why_not(row: OutboundSms) -> str | None:
    for check in current_app.extensions.get("carecircle.send_checks", []):
        reason = check(row)
        if reason is not None:
            return reason
    return None


def backoff(attempts: int, base: float, cap: float) -> timedelta:
    """Exponential backoff with full jitter: a random wait up to base * 2^(attempts-1)."""
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return timedelta(seconds=random.uniform(base / 2, ceiling))


def claim(limit: int, now: datetime | None = None) -> list[int]:
    """Mark up to `limit` due texts as ours for a lease, and commit that before sending."""
    now = now or utcnow()
    lease = timedelta(seconds=current_app.config["SMS_LEASE_SECONDS"])
    ids = list(
        db.session.scalars(
            sa.select(OutboundSms.id)
            .where(OutboundSms.status == "queued", OutboundSms.send_after <= now)
            .order_by(OutboundSms.send_after, OutboundSms.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        db.session.execute(
            sa.update(OutboundSms)
            .where(OutboundSms.id.in_(ids), OutboundSms.status == "queued")
            .values(status="sending", lease_until=now + lease, attempts=OutboundSms.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids


def reconcile_expired(backend, now: datetime | None = None) -> int:
    """Settle texts whose worker died mid-send: adopt the provider's SID, or queue again."""
    now = now or utcnow()
    rows = list(
        db.session.scalars(
            sa.select(OutboundSms)
            .where(OutboundSms.status == "sending", OutboundSms.lease_until < now)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        lease = timedelta(seconds=current_app.config["SMS_LEASE_SECONDS"])
        found = backend.find_sent(
            row.to_number, row.body, since=row.lease_until - lease - timedelta(minutes=1)
        )
        if found is not None:
            row.provider_sid, row.status, row.sent_at = found.sid, found.status, now
            log.info("reconciled sms %s: already sent as %s", row.id, found.sid)
        else:
            row.status = "queued"
            log.info("reconciled sms %s: not sent, queued again", row.id)
        row.lease_until = None
    db.session.commit()
    return len(rows)


def send_claimed(backend, ids: list[int]) -> dict[str, int]:
    cfg = current_app.config
    outcome = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    min_gap = 1.0 / cfg["SMS_RATE_PER_SECOND"] if cfg["SMS_RATE_PER_SECOND"] > 0 else 0.0
    last = 0.0
    for sms_id in ids:
        row = db.session.get(OutboundSms, sms_id)
        if row is None or row.status != "sending":
            continue
        if is_opted_out(row.to_number):
            row.status, row.lease_until, row.error_code = "failed", None, "opted_out"
            db.session.commit()
            outcome["skipped"] += 1
            continue
        why_not = _why_not(row)
        if why_not is not None:  # settings or a caregiver's access changed since planning
            row.status, row.lease_until, row.error_code = "skipped", None, why_not
            db.session.commit()
            outcome["skipped"] += 1
            continue
        wait = min_gap - (time.monotonic() - last)
        if wait > 0:
            time.sleep(wait)  # the per-sender rate limit
        last = time.monotonic()
        try:
            result = backend.send(row.to_number, row.body)
        except gateway.PermanentSmsError as exc:
            row.status, row.error_code, row.lease_until = "failed", exc.code, None
            if exc.code in UNSUBSCRIBED:
                set_opt_out(row.to_number, True, exc.code)
            outcome["failed"] += 1
            log.warning("sms %s failed for good (error %s)", row.id, exc.code)
        except gateway.TransientSmsError:
            row.lease_until = None
            if row.attempts >= cfg["SMS_MAX_ATTEMPTS"]:
                row.status, row.error_code = "failed", "retries"
                outcome["failed"] += 1
            else:
                row.status = "queued"
                row.send_after = utcnow() + backoff(
                    row.attempts, cfg["SMS_RETRY_BASE_SECONDS"], cfg["SMS_RETRY_MAX_SECONDS"]
                )
                outcome["retry"] += 1
        else:
            row.provider_sid, row.status = result.sid, result.status
            row.sent_at, row.lease_until = utcnow(), None
            outcome["sent"] += 1
        db.session.commit()
    return outcome


def dispatch_once(batch: int = 50) -> dict[str, int]:
    """One round: settle crashed sends, then send everything due."""
    backend = gateway.get_backend()
    outcome = {"reconciled": reconcile_expired(backend), "sent": 0, "retry": 0, "failed": 0}
    outcome["skipped"] = 0
    while True:
        ids = claim(batch)
        if not ids:
            return outcome
        for key, value in send_claimed(backend, ids).items():
            outcome[key] += value
