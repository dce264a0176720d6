"""The per-sender send rate (SMS_RATE_PER_SECOND), held across every dispatcher worker and host.

The limit belongs to the sender (the Messaging Service or the From number), not to a worker:
two workers on two hosts must share it. Before each text a worker reserves the next free slot
in one atomic step on shared state, then waits until its slot comes:

- in Redis when REDIS_URL is set (always in production): a Lua script on one key per sender,
  on Redis's own clock;
- otherwise in the database: one row per sender (`sms_send_slots`) moved on by a single
  `UPDATE ... RETURNING` (row-locked on PostgreSQL, serialised on SQLite), on the workers'
  clocks (NTP keeps hosts within milliseconds of each other).

If Redis cannot be reached the worker paces itself alone for that text and says so in the log:
a rate store outage slows nothing down to zero and stops no worker. A database error is left to
the caller (the worker loop waits for the database to come back).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

log = logging.getLogger(__name__)

#: The longest single sleep while waiting for a slot, so a stop request is seen quickly.
SLICE_SECONDS = 0.2


class SmsSendSlot(db.Model):
    """The next free send slot of one sender, when the rate is kept in the database."""

    __tablename__ = "sms_send_slots"

    #: "sms:" and the sender (Messaging Service SID, From number, or the backend's name).
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: Seconds since the epoch from which the next text of this sender may go.
    next_at: Mapped[float] = mapped_column(sa.Float)


_REDIS_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local gap = tonumber(ARGV[1]) * tonumber(ARGV[2] or '1')
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
redis.call('SET', KEYS[1], string.format('%.6f', slot + gap), 'PX',
           math.floor((slot + gap - now) * 1000) + 60000)
return string.format('%.6f', slot - now)
"""


def sender_key(config) -> str:
    sender = (
        config.get("TWILIO_MESSAGING_SERVICE_SID")
        or config.get("TWILIO_FROM_NUMBER")
        or config.get("SMS_BACKEND")
        or "outbox"
    )
    return f"sms:{sender}"[:64]


class SendRate:
    """Spaces one sender's texts at least 1 / per_second apart, across all workers."""

    def __init__(self, per_second: float, key: str, redis_url: str = "", prefix: str = "") -> None:
        self.gap = 1.0 / per_second if per_second > 0 else 0.0
        self.key = key
        self._redis = None
        self._script = None
        self._redis_key = f"{prefix}carecircle:{key}"
        self._alone_next = 0.0  # pacing of this worker alone, when Redis is unreachable
        if self.gap and redis_url:
            import redis

            self._redis = redis.Redis.from_url(
                redis_url, socket_timeout=2, socket_connect_timeout=2
            )
            self._script = self._redis.register_script(_REDIS_RESERVE)

    @classmethod
    def for_app(cls, app: Flask | None = None) -> SendRate:
        config = (app or current_app).config
        return cls(
            config["SMS_RATE_PER_SECOND"],
            sender_key(config),
            config.get("REDIS_URL") or "",
            config.get("RATELIMIT_KEY_PREFIX") or "",
        )

    def reserve(self) -> float:
        """Take the next free slot; returns the seconds to wait for it (0: go now)."""
        return self.reserve_many(1)[0]

    def reserve_many(self, count: int) -> list[float]:
        """Take the next `count` free slots in one step (one Redis call or one UPDATE);
        returns the seconds to wait for each, one gap apart."""
        if not self.gap or count < 1:
            return [0.0] * count
        reserve = self._reserve_redis if self._redis is not None else self._reserve_db
        first = reserve(count)
        return [first + i * self.gap for i in range(count)]

    def wait(self, stop: Callable[[], bool] = lambda: False, sleep=time.sleep) -> None:
        """Reserve a slot and sleep until it (a stop request cuts the sleep short)."""
        deadline = time.monotonic() + self.reserve()
        while not stop():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            sleep(min(left, SLICE_SECONDS))

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()

    # ---------------------------------------------------------------- stores

    def _reserve_redis(self, count: int) -> float:
        import redis

        try:
            args = [self.gap, count]
            return max(0.0, float(self._script(keys=[self._redis_key], args=args)))
        except redis.RedisError as exc:
            log.warning(
                "sms rate store unreachable (%s): pacing this worker alone", type(exc).__name__
            )
            return self._reserve_alone(count)

    def _reserve_alone(self, count: int) -> float:
        now = time.monotonic()
        slot = max(now, self._alone_next)
        self._alone_next = slot + self.gap * count
        return slot - now

    def _reserve_db(self, count: int) -> float:
        """One UPDATE moves the sender's next slot on and returns it; the first text of a
        sender inserts the row (two workers inserting at once: the loser updates)."""
        now = time.time()
        span = self.gap * count
        column = SmsSendSlot.next_at
        move = (
            sa.update(SmsSendSlot)
            .where(SmsSendSlot.key == self.key)
            .values(next_at=sa.case((column < now, now), else_=column) + span)
            .returning(SmsSendSlot.next_at)
            .execution_options(synchronize_session=False)
        )
        slot_end = db.session.scalar(move)
        if slot_end is None:
            try:
                with db.session.begin_nested():
                    db.session.add(SmsSendSlot(key=self.key, next_at=now + span))
                slot_end = now + span
            except IntegrityError:
                slot_end = db.session.scalar(move)
        db.session.commit()
        return max(0.0, slot_end - span - now)
