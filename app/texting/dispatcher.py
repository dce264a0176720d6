"""The dispatcher: sends due texts, at most one text per outbox row, without losing any.

    flask reminders dispatch --once      # for cron (plans reminders, then sends)
    flask reminders run                  # a long-running worker (app.reminders.worker)

The whole contract, failure by failure, is in docs/texting.md. In short:

1. Claim: in one short transaction, due rows (status "queued", send_after <= now) become
   "sending" with a lease and a fresh claim token. PostgreSQL uses FOR UPDATE SKIP LOCKED, so
   several workers on several hosts share the work; SQLite runs one worker (app.reminders.worker
   enforces it). Claiming counts no attempt.
2. Fence, then send, several at once: the claimed rows are read in one query (detached, so a
   commit does not reload them) and go out in chunks. For each chunk, one query finds the
   opted-out numbers and the send checks run; then one conditional UPDATE renews the leases
   and marks the sends as started (send_started_at), WHERE the claim token is still ours;
   rows another worker has taken over are skipped. The chunk is sent on SMS_SEND_THREADS
   threads, each with its own backend and keep-alive connection (`Sender`). A text that waits
   more than half its lease for a thread or a rate slot is fenced again, alone, before it
   goes. Results are recorded a few statements at a time (`_settle_many`: a CASE on the id
   for what differs between rows), only WHERE the token is still ours. The shared per-sender
   rate (texting.rate) is reserved for a whole chunk in one step; with a rate, a chunk holds
   no more texts than fit in a quarter of the lease.
3. Outcomes: an answer with a SID is recorded within RECORD_AFTER_SECONDS, with the others
   that finished meanwhile (a worker killed before that leaves it to reconciliation, which
   finds the text at Twilio and adopts its SID). A refusal Twilio answered is definite,
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
5. Stopping: `dispatch_once(stop=...)` looks at `stop()` between chunks and on each send
   thread before its network call; rows claimed (or fenced) but not started are handed back
   at once, so SIGTERM finishes the texts in flight and nothing waits for a lease.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.core.db import utcnow
from app.extensions import db
from app.texting import gateway, status
from app.texting.models import OutboundSms, PhoneOptOut
from app.texting.optout import set_opt_out
from app.texting.rate import SendRate

log = logging.getLogger(__name__)

UNSUBSCRIBED = {"21610"}
#: Expired rows settled per pass (the rest wait for the next pass).
RECONCILE_BATCH = 100
#: A lookup starts this long before the send began (clock skew between us and Twilio).
LOOKUP_SLACK = timedelta(minutes=1)
#: Outcomes are written together once this many sends have finished...
RECORD_EVERY = 64
#: ... or once the first of them has waited this long (or nothing else is in flight).
RECORD_AFTER_SECONDS = 0.25
#: The longest single sleep while waiting, so a stop request is seen quickly.
SLICE_SECONDS = 0.2

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


@dataclass
class _Text:
    """What one claimed text needs on its way out (read once per batch)."""

    row: OutboundSms
    id: int
    to: str
    body: str
    attempts: int


@dataclass
class _Result:
    """What came back from one send: "sent", "failed", "retry", "unknown", "released" (not
    started: a stop request), or "lost" (taken over by another worker before it started)."""

    kind: str
    sid: str = ""
    status: str = ""
    code: str = ""


class Sender:
    """Sends texts on SMS_SEND_THREADS threads, each with its own backend and so its own
    keep-alive connection to Twilio. The database is only used on the calling thread, except
    for `_refence` (a text that waited too long for a free thread)."""

    def __init__(self, config: Mapping[str, Any], threads: int, engine: sa.Engine) -> None:
        self.config = config
        self.threads = max(1, threads)
        self.engine = engine
        self.lease = timedelta(seconds=config["SMS_LEASE_SECONDS"])
        self._local = threading.local()
        self._made: list[Any] = []
        self._lock = threading.Lock()
        self.backend()  # a misconfigured backend fails here, not inside a thread
        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="sms-send")

    @classmethod
    def for_app(cls) -> Sender:
        cfg = current_app.config
        return cls(cfg, int(cfg.get("SMS_SEND_THREADS") or 1), db.engine)

    def backend(self):
        """This thread's backend (made on first use)."""
        backend = getattr(self._local, "backend", None)
        if backend is None:
            backend = self._local.backend = gateway.backend_for(self.config)
            with self._lock:
                self._made.append(backend)
        return backend

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for backend in self._made:
            backend.close()
        self._made.clear()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, text: _Text, token: str, at: float, latest: float, stop: Stop) -> _Result:
        """On a pool thread: wait for the text's rate slot, check it may still start, send."""
        while (left := at - time.monotonic()) > 0 and not stop():
            time.sleep(min(left, SLICE_SECONDS))
        if stop():
            return _Result("released")
        if time.monotonic() > latest and not self._refence(text.id, token):
            log.info("sms %s: taken over by another worker before sending; skipped", text.id)
            return _Result("lost")
        try:
            result = self.backend().send(text.to, text.body)
        except gateway.PermanentSmsError as exc:
            log.warning("sms %s failed for good (error %s)", text.id, exc.code)
            return _Result("failed", code=exc.code)
        except gateway.SmsOutcomeUnknown:
            return _Result("unknown")
        except gateway.TransientSmsError:
            return _Result("retry")
        except Exception as exc:  # the library broke mid-call: the text may have gone
            log.error("sms %s: send raised %s; outcome unknown", text.id, type(exc).__name__)
            return _Result("unknown")
        return _Result("sent", sid=result.sid, status=result.status)

    def _refence(self, sms_id: int, token: str) -> bool:
        """The fence again, for one text that waited past half its lease for a thread or a
        rate slot: renew the lease if the row is still ours (the token), else do not send."""
        now = utcnow()
        with self.engine.begin() as conn:
            done = conn.execute(
                sa.update(OutboundSms.__table__)
                .where(
                    OutboundSms.id == sms_id,
                    OutboundSms.claim_token == token,
                    OutboundSms.status == "sending",
                )
                .values(lease_until=now + self.lease, send_started_at=now)
            )
        return done.rowcount == 1


def _zero() -> dict[str, int]:
    return {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "unknown": 0}


def _load(claimed: Claimed) -> list[_Text]:
    """The claimed rows still ours, in one query, in the order they were claimed."""
    if not claimed:
        return []
    rows = db.session.scalars(
        sa.select(OutboundSms)
        .where(
            OutboundSms.id.in_(list(claimed)),
            OutboundSms.claim_token == claimed.token,
            OutboundSms.status == "sending",
        )
        .execution_options(populate_existing=True)
    ).all()
    for row in rows:  # detached: a commit does not expire them (no reload per text)
        db.session.expunge(row)
    order = {sms_id: index for index, sms_id in enumerate(claimed)}
    return [
        _Text(row, row.id, row.to_number, row.body, row.attempts)
        for row in sorted(rows, key=lambda r: order[r.id])
    ]


def _checked(texts: list[_Text], token: str, outcome: dict[str, int]) -> list[_Text]:
    """Drop the texts that must not go (opted out, or a send check says no), recording why;
    one query for the opt-outs of the whole chunk."""
    numbers = {text.to for text in texts}
    opted_out = set(
        db.session.scalars(
            sa.select(PhoneOptOut.phone).where(
                PhoneOptOut.phone.in_(numbers), PhoneOptOut.opted_out.is_(True)
            )
        )
    )
    go: list[_Text] = []
    not_sent: dict[int, dict[str, Any]] = {}
    for text in texts:
        try:
            why_not = "opted_out" if text.to in opted_out else _why_not(text.row)
        except DBAPIError:
            raise
        except Exception as exc:  # a bug in a check must not stop every text behind it
            log.error("sms %s: send check failed (%s); not sent", text.id, type(exc).__name__)
            db.session.rollback()
            why_not = "check_error"
        if why_not is None:
            go.append(text)
            continue
        # Opted out or check failed: failed; settings or access changed since planning: skipped
        final = "skipped" if why_not not in ("opted_out", "check_error") else "failed"
        not_sent[text.id] = {"status": final, "lease_until": None, "error_code": why_not}
    outcome["skipped"] += len(_settle_many(token, not_sent)) if not_sent else 0
    db.session.commit()
    return go


def _fence(texts: list[_Text], token: str) -> set[int]:
    """The fence, for a chunk at once: renew the leases and mark the sends as started, for the
    rows still ours (the token). Committed before any of them is sent."""
    now = utcnow()
    fenced = set(
        db.session.scalars(
            sa.update(OutboundSms)
            .where(
                OutboundSms.id.in_([text.id for text in texts]),
                OutboundSms.claim_token == token,
                OutboundSms.status == "sending",
            )
            .values(lease_until=now + _lease(), send_started_at=now)
            .returning(OutboundSms.id)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()
    return fenced


def _settle_many(token: str, updates: dict[int, dict[str, Any]]) -> set[int]:
    """`_settle` for many rows in a few statements (one per set of columns; a value that
    differs between rows is a CASE on the id). Returns the ids that were still ours; commits.
    A SID already stored on another row fails the statement: then row by row."""
    groups: dict[tuple[str, ...], dict[int, dict[str, Any]]] = {}
    for sms_id, values in updates.items():
        groups.setdefault(tuple(sorted(values)), {})[sms_id] = values
    columns = OutboundSms.__table__.c
    settled: set[int] = set()
    try:
        for keys, rows in groups.items():
            values: dict[str, Any] = {"claim_token": None}
            for key in keys:
                distinct = {repr(row[key]) for row in rows.values()}
                if len(distinct) == 1:
                    values[key] = next(iter(rows.values()))[key]
                else:
                    values[key] = sa.case(
                        {i: sa.literal(row[key], columns[key].type) for i, row in rows.items()},
                        value=OutboundSms.id,
                    )
            settled |= set(
                db.session.scalars(
                    sa.update(OutboundSms)
                    .where(OutboundSms.id.in_(list(rows)), OutboundSms.claim_token == token)
                    .values(values)
                    .returning(OutboundSms.id)
                    .execution_options(synchronize_session=False)
                )
            )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        settled = {sms_id for sms_id, values in updates.items() if _settle(sms_id, token, **values)}
    return settled


def _record(done: list[tuple[_Text, _Result]], token: str, outcome: dict[str, int]) -> None:
    """Write the outcomes of finished sends, in a few statements (see the module doc, 3)."""
    cfg = current_app.config
    now = utcnow()
    updates: dict[int, dict[str, Any]] = {}
    kinds: dict[int, str] = {}
    unsubscribed: list[str] = []
    for text, result in done:
        attempts = text.attempts + 1
        kind = result.kind
        if kind == "sent":
            values = {
                "provider_sid": result.sid,
                "status": result.status,
                "sent_at": now,
                "lease_until": None,
                "send_started_at": None,
                "attempts": attempts,
            }
        elif kind == "failed":
            values = {
                "status": "failed",
                "error_code": result.code,
                "lease_until": None,
                "send_started_at": None,
                "attempts": attempts,
            }
            if result.code in UNSUBSCRIBED:
                unsubscribed.append(text.to)
        elif kind == "unknown":
            # No answer: keep the row "sending" with no owner until its lease runs out, then
            # reconcile it (ask Twilio) before any resend. The wait lets a slow Twilio finish.
            values = {"lease_until": now + _lease(), "attempts": attempts}
            log.warning("sms %s: outcome unknown; Twilio will be asked before any resend", text.id)
        elif kind == "retry" and attempts >= cfg["SMS_MAX_ATTEMPTS"]:
            kind = "failed"
            values = {
                "status": "failed",
                "error_code": "retries",
                "lease_until": None,
                "send_started_at": None,
                "attempts": attempts,
            }
        elif kind == "retry":
            values = {
                "status": "queued",
                "lease_until": None,
                "send_started_at": None,
                "attempts": attempts,
                "send_after": now + _retry_later(attempts),
            }
        elif kind == "released":  # never started (stopping): nothing went out, no attempt
            values = {"status": "queued", "lease_until": None, "send_started_at": None}
        else:  # "lost": another worker holds it
            continue
        updates[text.id] = values
        kinds[text.id] = kind
    settled = _settle_many(token, updates) if updates else set()
    for sms_id in settled:
        if kinds[sms_id] in outcome:
            outcome[kinds[sms_id]] += 1
    for number in unsubscribed:
        set_opt_out(number, True, "21610")
    sids = [updates[i]["provider_sid"] for i in settled if kinds[i] == "sent"]
    if sids and status.apply_early_many(sids):
        log.info("applied status callbacks that came before their SID")
    if unsubscribed or sids:
        db.session.commit()


def _chunk_size(threads: int, rate: SendRate, lease: timedelta) -> int:
    """Texts fenced together: a thread's worth, and with a send rate no more than fit in a
    quarter of the lease (so each starts well inside the lease it was fenced with)."""
    if not rate.gap:
        return threads
    return max(1, min(threads, int(lease.total_seconds() / 4 / rate.gap)))


def send_claimed(
    sender: Sender, claimed: Claimed, *, stop: Stop = never, rate: SendRate | None = None
) -> dict[str, int]:
    """Send the claimed texts, several at once, fenced by the claim token (see the module doc)."""
    outcome = _zero()
    token = claimed.token
    rate = rate or SendRate.for_app()
    waiting = deque(_load(claimed))
    window = 2 * sender.threads
    chunk = _chunk_size(sender.threads, rate, _lease())
    half_lease = _lease().total_seconds() / 2
    in_flight: dict[Future[_Result], _Text] = {}
    done: list[tuple[_Text, _Result]] = []
    oldest = 0.0
    try:
        while waiting or in_flight:
            while waiting and len(in_flight) < window and not stop():
                texts = [waiting.popleft() for _ in range(min(chunk, len(waiting)))]
                texts = _checked(texts, token, outcome)
                if not texts:
                    continue
                waits = rate.reserve_many(len(texts))
                start = time.monotonic()
                pause_until(start + waits[0], stop)
                if stop():
                    waiting.extendleft(reversed(texts))
                    break
                fenced = _fence(texts, token)
                latest = time.monotonic() + half_lease
                for text, delay in zip(texts, waits, strict=True):
                    if text.id not in fenced:
                        log.info("sms %s: taken over by another worker; skipped", text.id)
                        continue
                    future = sender.pool.submit(
                        sender.send, text, token, start + delay, latest, stop
                    )
                    in_flight[future] = text
            if stop() and waiting:
                _release(Claimed([text.id for text in waiting], token))
                waiting.clear()
            if in_flight:
                finished, _ = wait(in_flight, timeout=SLICE_SECONDS, return_when=FIRST_COMPLETED)
                if finished and not done:
                    oldest = time.monotonic()
                done.extend((in_flight.pop(future), future.result()) for future in finished)
            if done and (
                len(done) >= RECORD_EVERY
                or not in_flight
                or time.monotonic() - oldest > RECORD_AFTER_SECONDS
            ):
                _record(done, token, outcome)
                done = []
    finally:
        # On a database error: let the sends in flight end; their rows are reconciled later.
        for future in in_flight:
            future.cancel()
        wait(in_flight)
    return outcome


def pause_until(deadline: float, stop: Stop) -> None:
    while (left := deadline - time.monotonic()) > 0 and not stop():
        time.sleep(min(left, SLICE_SECONDS))


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


def dispatch_once(batch: int = 200, *, stop: Stop = never) -> dict[str, int]:
    """One round: settle expired sends, then send everything due (until `stop()`)."""
    outcome = {"reconciled": 0, **_zero()}
    rate = SendRate.for_app()
    try:
        with Sender.for_app() as sender:
            outcome["reconciled"] = reconcile_expired(sender.backend(), stop=stop)
            while not stop():
                claimed = claim(batch)
                if not claimed:
                    break
                sent = send_claimed(sender, claimed, stop=stop, rate=rate)
                for key, value in sent.items():
                    outcome[key] += value
    finally:
        rate.close()
    return outcome
