"""Each shop's Admin API budget, as Shopify meters it: a leaky bucket of query-cost points.

Shopify gives every app-and-shop pair a bucket (2,000 points refilling at 100 per second on the
Standard plan) and refuses, with THROTTLED, a query whose requested cost the bucket cannot cover.
Every answer reports the bucket (`extensions.cost.throttleStatus`). Our estimate of it lives in
Redis, so that every worker of every process sends against the same budget:

- before sending, a worker *reserves* the query's expected cost. The reservation may take the
  estimate below zero; the worker then waits as long as the restore rate needs to cover it. So
  workers queue fairly instead of all retrying at once, and no query is sent to be refused.
- after the answer, the estimate is set from what Shopify reported, minus what other workers have
  reserved and not yet sent.

Without Redis (the demo) the estimate is kept in the process, which has a single worker.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

# Shopify's Standard plan, until the first answer tells us the shop's real figures.
DEFAULT_SIZE = 2000
DEFAULT_RESTORE_RATE = 100
IDLE_TTL_SECONDS = 600  # forget a quiet shop's bucket (and any reservation a dead worker left)


@dataclass(frozen=True)
class ThrottleStatus:
    maximum: float
    available: float
    restore_rate: float

    @classmethod
    def from_extensions(cls, extensions: dict[str, Any] | None) -> ThrottleStatus | None:
        status = ((extensions or {}).get("cost") or {}).get("throttleStatus")
        if not status:
            return None
        return cls(
            maximum=float(status["maximumAvailable"]),
            available=float(status["currentlyAvailable"]),
            restore_rate=float(status["restoreRate"]),
        )


class Bucket(Protocol):
    def reserve(self, cost: float) -> float:
        """Take `cost` points; return how many seconds to wait before sending."""

    def settle(self, cost: float, status: ThrottleStatus | None) -> None:
        """The reserved query was answered (or failed): release its reservation and take the
        bucket's level from Shopify's report when there is one."""


# reserve: KEYS[1] bucket; ARGV cost, now, default size, default rate, ttl -> wait seconds
_RESERVE = """
local b = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'rate', 'at', 'pending')
local cost, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local maximum = tonumber(b[2]) or tonumber(ARGV[3])
local rate = tonumber(b[3]) or tonumber(ARGV[4])
local available = tonumber(b[1]) or maximum
local at = tonumber(b[4]) or now
local pending = tonumber(b[5]) or 0
available = math.min(maximum, available + math.max(0, now - at) * rate) - cost
redis.call('HSET', KEYS[1], 'available', available, 'maximum', maximum, 'rate', rate,
           'at', now, 'pending', pending + cost)
redis.call('EXPIRE', KEYS[1], ARGV[5])
if available >= 0 then return '0' end
return tostring(-available / rate)
"""

# settle: KEYS[1] bucket; ARGV cost, now, reported available or '', maximum, rate, ttl
_SETTLE = """
local pending = math.max(0, (tonumber(redis.call('HGET', KEYS[1], 'pending')) or 0)
                            - tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'pending', pending)
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'available', tonumber(ARGV[3]) - pending,
             'maximum', ARGV[4], 'rate', ARGV[5], 'at', ARGV[2])
end
redis.call('EXPIRE', KEYS[1], ARGV[6])
return 1
"""


class RedisBucket:
    """The bucket estimate shared by every worker, in one Redis hash per shop."""

    def __init__(self, domain: str, *, clock=time.time) -> None:
        import django_rq

        self.key = f"portal:shopify:bucket:{domain}"
        self.redis = django_rq.get_connection("shopify")
        self.clock = clock
        self._reserve = self.redis.register_script(_RESERVE)
        self._settle = self.redis.register_script(_SETTLE)

    def reserve(self, cost: float) -> float:
        args = [cost, self.clock(), DEFAULT_SIZE, DEFAULT_RESTORE_RATE, IDLE_TTL_SECONDS]
        return float(self._reserve(keys=[self.key], args=args))

    def settle(self, cost: float, status: ThrottleStatus | None) -> None:
        reported = (
            ["", "", ""]
            if status is None
            else [status.available, status.maximum, status.restore_rate]
        )
        self._settle(keys=[self.key], args=[cost, self.clock(), *reported, IDLE_TTL_SECONDS])


class LocalBucket:
    """The same arithmetic, in this process only: for the demo without Redis."""

    def __init__(self, *, clock=time.time) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.maximum = float(DEFAULT_SIZE)
        self.rate = float(DEFAULT_RESTORE_RATE)
        self.available = self.maximum
        self.pending = 0.0
        self.at = clock()

    def reserve(self, cost: float) -> float:
        with self.lock:
            now = self.clock()
            self.available = min(self.maximum, self.available + (now - self.at) * self.rate)
            self.available -= cost
            self.pending += cost
            self.at = now
            return max(0.0, -self.available / self.rate)

    def settle(self, cost: float, status: ThrottleStatus | None) -> None:
        with self.lock:
            self.pending = max(0.0, self.pending - cost)
            if status is not None:
                self.maximum, self.rate = status.maximum, status.restore_rate
                self.available = status.available - self.pending
                self.at = self.clock()


_local_buckets: dict[str, LocalBucket] = {}


def for_shop(domain: str) -> Bucket:
    if settings.REDIS_URL:
        return RedisBucket(domain)
    return _local_buckets.setdefault(domain, LocalBucket())
