"""The dispatcher: sends due texts, at most one text per outbox row, without losing any.

    flask reminders dispatch --once      # for cron (plans reminders, then sends)
    flask reminders run                  # a long-running worker (app.reminders.worker)

The whole contract, failure by failure, is in docs/texting.md. In short:

1. Claim: in one short transaction, due rows (status "queued", send_after <= now) become
   "sending" with a lease and a fresh claim token. PostgreSQL uses FOR UPDATE SKIP LOCKED, so
   several workers on several hosts share the work; SQLite runs one worker (app.reminders.worker
   enforces it). Claiming counts no attempt.
2. Fence, then send, one row at a time: right before the network call one conditional UPDATE
   renews the row's lease and marks the send as started (send_started_at), WHERE the claim
   token is still ours; if another worker has taken the row over, we skip it. After the call,
   the result is recorded only WHERE the token is still ours. The shared per-sender rate
   (texting.rate) is waited for before the fence, so the lease covers only the call.
3. Outcomes: an answer with a SID is recorded at once. A refusal Twilio answered is definite,
   nothing was sent: 429/5xx go back to "queued" with exponential backoff and jitter, other 4xx
   fail the row for good (21610 also opts the number out). No answer (a timeout, a connection
   dropped after the request left, an unreadable answer) is ambiguous: the row stays
   "sending", without an owner, until its lease runs out, and is then reconciled. Every one of
   these counts one attempt toward SMS_MAX_ATTEMPTS.
4. Reconcile, before anything is sent again: a "sending" row whose lease ran out (a worker
   died, or an ambiguous outcome) is taken over with a new token, one row per transaction. If
   no send had started, it is simply queued again. Otherwise Twilio is asked for texts to that
   number with exactly that body since the send started (bodies carry a short link made for
   each text, so they differ); a SID already stored on another row is never adopted. Found: the
   row takes its SID. Not found: queued again. A failed lookup is logged and tried again later;
   it never stops the pass or the worker, and a crash never counts as an attempt.
5. Stopping: `dispatch_once(stop=...)` looks at `stop()` between texts; rows claimed but not
   started are handed back at once, so SIGTERM finishes the text in flight and nothing waits
   for a lease.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import uuid4

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.core.db import utcnow
from app.extensions import db
from app.texting import gateway, status
from app.texting.models import OutboundSms
from app.texting.optout import is_opted_out, set_opt_out
from app.texting.rate import SendRate

log = logging.getLogger(__name__)

UNSUBSCRIBED = {"21610"}
#: Expired rows settled per pass (the rest wait for the next pass).
RECONCILE_BATCH = 100
#: A lookup starts this long before the send began (clock skew between us and Twilio).
LOOKUP_SLACK = timedelta(minutes=1)

#: A check run just before a text goes out: None to send it, or why not (stored as its
#: error_code, the text "skipped"). Domains that plan texts ahead add theirs in init_app.
SendCheck = Callable[[OutboundSms], str | None]
#: Asked between texts: True once the worker should stop (SIGTERM, Ctrl-C).
Stop = Callable[[], bool]


def never() -> bool:
    return False


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


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["SMS_LEASE_SECONDS"])


def _retry_later(attempts: int) -> timedelta:
    cfg = current_app.config
    return backoff(attempts, cfg["SMS_RETRY_BASE_SECONDS"], cfg["SMS_RETRY_MAX_SECONDS"])


class Claimed(list[int]):
    """The ids of texts claimed together, and the token that proves they are still ours."""

    def __init__(self, ids: list[int], token: str) -> None:
        super().__init__(ids)
        self.token = token


def claim(limit: int, now: datetime | None = None) -> Claimed:
    """Mark up to `limit` due texts as ours (a lease and a token), and commit before sending."""
    now = now or utcnow()
    token = uuid4().hex
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
        taken = set(
            db.session.scalars(
                sa.update(OutboundSms)
                .where(OutboundSms.id.in_(ids), OutboundSms.status == "queued")
                .values(
                    status="sending",
                    lease_until=now + _lease(),
                    claim_token=token,
                    send_started_at=None,
                )
                .returning(OutboundSms.id)
                .execution_options(synchronize_session=False)
            )
        )
        ids = [sms_id for sms_id in ids if sms_id in taken]
    db.session.commit()
    return Claimed(ids, token)


def _settle(sms_id: int, token: str, **values) -> bool:
    """Write `values` to the row if `token` still holds it, and give up the claim; commit.

    False: another worker took the row over (our lease ran out), or the SID is already stored
    on another row (then the row stays as it was, and is reconciled when its lease runs out).
    """
    try:
        done = db.session.execute(
            sa.update(OutboundSms)
            .where(OutboundSms.id == sms_id, OutboundSms.claim_token == token)
            .values(claim_token=None, **values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.warning("sms %s: its SID is already stored on another text; left to reconcile", sms_id)
        return False
    if done.rowcount != 1:
        log.info("sms %s: taken over by another worker; its result is theirs to record", sms_id)
        return False
    if values.get("provider_sid"):
        _apply_early_status(sms_id)
    return True


def _apply_early_status(sms_id: int) -> None:
    """A status callback can beat us to the SID: texting.status kept it; apply it now."""
    row = db.session.get(OutboundSms, sms_id)
    if row is not None and status.apply_early(row):
        log.info("sms %s: applied a status callback that came before its SID", sms_id)
    db.session.commit()


def _start_send(sms_id: int, token: str) -> bool:
    """The fence: renew the lease and mark the send as started, if the row is still ours."""
    now = utcnow()
    done = db.session.execute(
        sa.update(OutboundSms)
        .where(
            OutboundSms.id == sms_id,
            OutboundSms.claim_token == token,
            OutboundSms.status == "sending",
        )
        .values(lease_until=now + _lease(), send_started_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return done.rowcount == 1


def _release(claimed: Claimed) -> None:
    """Hand back claimed rows whose send never started (the worker is stopping)."""
    if not claimed:
        return
    db.session.execute(
        sa.update(OutboundSms)
        .where(
            OutboundSms.id.in_(list(claimed)),
            OutboundSms.claim_token == claimed.token,
            OutboundSms.send_started_at.is_(None),
        )
        .values(status="queued", lease_until=None, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _not_sent(sms_id: int, token: str, attempts: int, outcome: dict[str, int]) -> None:
    """Nothing went out (a definite refusal we may retry, or a lookup that found nothing)."""
    cfg = current_app.config
    if attempts >= cfg["SMS_MAX_ATTEMPTS"]:
        if _settle(
            sms_id,
            token,
            status="failed",
            error_code="retries",
            lease_until=None,
            send_started_at=None,
            attempts=attempts,
        ):
            outcome["failed"] += 1
        return
    if _settle(
        sms_id,
        token,
        status="queued",
        lease_until=None,
        send_started_at=None,
        attempts=attempts,
        send_after=utcnow() + _retry_later(attempts),
    ):
        outcome["retry"] += 1


def send_claimed(
    backend, claimed: Claimed, *, stop: Stop = never, rate: SendRate | None = None
) -> dict[str, int]:
    """Send the claimed texts one by one, fenced by the claim token (see the module doc)."""
    outcome = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "unknown": 0}
    token = claimed.token
    rate = rate or SendRate.for_app()
    for index, sms_id in enumerate(claimed):
        if stop():
            _release(Claimed(claimed[index:], token))
            break
        row = db.session.get(OutboundSms, sms_id, populate_existing=True)
        if row is None or row.status != "sending" or row.claim_token != token:
            continue
        to, body, attempts = row.to_number, row.body, row.attempts
        try:
            why_not = "opted_out" if is_opted_out(to) else _why_not(row)
        except DBAPIError:
            raise
        except Exception as exc:  # a bug in a check must not stop every text behind it
            log.error("sms %s: send check failed (%s); not sent", sms_id, type(exc).__name__)
            db.session.rollback()
            why_not = "check_error"
        if why_not is not None:
            # Opted out or check failed: failed; settings or access changed since planning: skipped
            final = "skipped" if why_not not in ("opted_out", "check_error") else "failed"
            if _settle(sms_id, token, status=final, lease_until=None, error_code=why_not):
                outcome["skipped"] += 1
            continue
        rate.wait(stop)
        if stop():
            _release(Claimed(claimed[index:], token))
            break
        if not _start_send(sms_id, token):
            log.info("sms %s: taken over by another worker before sending; skipped", sms_id)
            continue
        try:
            result = backend.send(to, body)
        except gateway.PermanentSmsError as exc:
            if _settle(
                sms_id,
                token,
                status="failed",
                error_code=exc.code,
                lease_until=None,
                send_started_at=None,
                attempts=attempts + 1,
            ):
                outcome["failed"] += 1
            if exc.code in UNSUBSCRIBED:
                set_opt_out(to, True, exc.code)
                db.session.commit()
            log.warning("sms %s failed for good (error %s)", sms_id, exc.code)
        except gateway.SmsOutcomeUnknown:
            _unknown(sms_id, token, attempts + 1, outcome)
        except gateway.TransientSmsError:
            _not_sent(sms_id, token, attempts + 1, outcome)
        except Exception as exc:  # the library broke mid-call: the text may have gone
            log.error("sms %s: send raised %s; outcome unknown", sms_id, type(exc).__name__)
            _unknown(sms_id, token, attempts + 1, outcome)
        else:
            if _settle(
                sms_id,
                token,
                provider_sid=result.sid,
                status=result.status,
                sent_at=utcnow(),
                lease_until=None,
                send_started_at=None,
                attempts=attempts + 1,
            ):
                outcome["sent"] += 1
    return outcome


def _unknown(sms_id: int, token: str, attempts: int, outcome: dict[str, int]) -> None:
    """No answer: keep the row "sending" with no owner until its lease runs out, then
    reconcile it (ask Twilio) before any resend. The wait lets a slow Twilio finish."""
    if _settle(sms_id, token, lease_until=utcnow() + _lease(), attempts=attempts):
        outcome["unknown"] += 1
        log.warning("sms %s: outcome unknown; Twilio will be asked before any resend", sms_id)


def reconcile_expired(backend, now: datetime | None = None, *, stop: Stop = never) -> int:
    """Settle texts whose lease ran out (a worker died, or no answer came): adopt the SID
    Twilio has for them, or queue them again. Row by row, each in its own transaction; a
    failed lookup is retried later and never stops the pass. Returns how many were settled."""
    now = now or utcnow()
    ids = list(
        db.session.scalars(
            sa.select(OutboundSms.id)
            .where(OutboundSms.status == "sending", OutboundSms.lease_until < now)
            .order_by(OutboundSms.lease_until, OutboundSms.id)
            .limit(RECONCILE_BATCH)
        )
    )
    db.session.commit()
    settled = 0
    for sms_id in ids:
        if stop():
            break
        settled += _reconcile_one(backend, sms_id, now)
    return settled


def _reconcile_one(backend, sms_id: int, now: datetime) -> int:
    token = uuid4().hex
    taken = db.session.execute(
        sa.update(OutboundSms)
        .where(
            OutboundSms.id == sms_id,
            OutboundSms.status == "sending",
            OutboundSms.lease_until < now,
        )
        .values(claim_token=token, lease_until=utcnow() + _lease())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if taken.rowcount != 1:
        return 0  # renewed by its worker, or settled by another
    row = db.session.get(OutboundSms, sms_id, populate_existing=True)
    if row.send_started_at is None:
        # Claimed by a worker that stopped before it began to send: nothing went out.
        _settle(sms_id, token, status="queued", lease_until=None)
        log.info("reconciled sms %s: never sent, queued again", sms_id)
        return 1
    to, body, attempts = row.to_number, row.body, row.attempts
    since = row.send_started_at - LOOKUP_SLACK
    try:
        found = backend.find_all_sent(to, body, since=since)
    except Exception as exc:  # Twilio down, or an odd answer: ask again later
        log.warning(
            "reconcile sms %s: lookup failed (%s); retried later", sms_id, type(exc).__name__
        )
        _settle(sms_id, token, lease_until=utcnow() + _retry_later(1))
        return 0
    owned = set()
    if found:
        owned = set(
            db.session.scalars(
                sa.select(OutboundSms.provider_sid).where(
                    OutboundSms.provider_sid.in_([f.sid for f in found])
                )
            )
        )
        db.session.commit()
    mine = next((f for f in found if f.sid not in owned), None)
    if mine is not None:
        if _settle(
            sms_id,
            token,
            provider_sid=mine.sid,
            status=mine.status,
            sent_at=utcnow(),
            lease_until=None,
            send_started_at=None,
        ):
            log.info("reconciled sms %s: already sent as %s", sms_id, mine.sid)
            return 1
        return 0
    if attempts >= current_app.config["SMS_MAX_ATTEMPTS"]:  # only sends that had an outcome
        _settle(
            sms_id,
            token,
            status="failed",
            error_code="retries",
            lease_until=None,
            send_started_at=None,
        )
        log.info("reconciled sms %s: not sent, and no attempts left", sms_id)
        return 1
    # Due again at once: waiting for the lease to run out was the pause.
    _settle(sms_id, token, status="queued", lease_until=None, send_started_at=None)
    log.info("reconciled sms %s: not sent, queued again", sms_id)
    return 1


def dispatch_once(batch: int = 50, *, stop: Stop = never) -> dict[str, int]:
    """One round: settle expired sends, then send everything due (until `stop()`)."""
    outcome = {"reconciled": 0, "sent": 0, "retry": 0, "failed": 0, "skipped": 0, "unknown": 0}
    rate = SendRate.for_app()
    try:
        with gateway.get_backend() as backend:
            outcome["reconciled"] = reconcile_expired(backend, stop=stop)
            while not stop():
                claimed = claim(batch)
                if not claimed:
                    break
                sent = send_claimed(backend, claimed, stop=stop, rate=rate)
                for key, value in sent.items():
                    outcome[key] += value
    finally:
        rate.close()
    return outcome
