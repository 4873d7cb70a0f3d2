"""How many messages one user may send: a token bucket per user, kept in memory.

Each user (a transport and its id) has a bucket of ``burst`` tokens that refills at
``per_minute`` tokens a minute. Every input takes one token; an input that finds the bucket
empty is dropped. The first drop is :attr:`Admission.WARN` (the user is told once), every
later one :attr:`Admission.DROP` (silence) — also while a flood goes on and the odd input gets
through on a fresh token — until the user has been quiet long enough for the bucket to fill
up completely; a flood after that is told again.

The buckets live in memory only: a restart gives everyone a full bucket. That is fine for what
they guard against (a flood that would hold up everybody else's replies); the durable limits,
such as the AI quota, count rows in the database instead. At most ``max_keys`` buckets are
kept; the least recently used goes first, which at worst hands a full bucket to someone who
was idle.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import Enum
from typing import Final

MAX_KEYS: Final = 10_000


@dataclass(frozen=True, slots=True)
class RateLimit:
    per_minute: int = 30  # the sustained rate
    burst: int = 20  # what a quiet user may send at once (a photo album, fast tapping)

    def __post_init__(self) -> None:
        if self.per_minute < 1 or self.burst < 1:
            msg = "a rate limit needs at least one message a minute and a burst of one"
            raise ValueError(msg)


class Admission(Enum):
    ADMIT = "admit"  # handle it
    WARN = "warn"  # the first one over the limit: drop it, and say so once
    DROP = "drop"  # over the limit, already said: drop it silently


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float  # when ``tokens`` was last brought up to date
    warned: bool = False  # told since the bucket was last full


class RateLimiter:
    """Token buckets by key. ``now`` is a monotonic clock in seconds (tests pass a fake one)."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        now: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.limit = limit
        self._now = now
        self._max_keys = max(1, max_keys)
        self._buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()

    def admit(self, key: Hashable) -> Admission:
        now = self._now()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.limit.burst), at=now)
            self._buckets[key] = bucket
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            elapsed = max(0.0, now - bucket.at)
            refill = elapsed * self.limit.per_minute / 60
            bucket.tokens = min(float(self.limit.burst), bucket.tokens + refill)
            bucket.at = now
            if bucket.tokens >= self.limit.burst:
                bucket.warned = False  # quiet long enough: a new flood is told again
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Admission.ADMIT
        if bucket.warned:
            return Admission.DROP
        bucket.warned = True
        return Admission.WARN

    def __len__(self) -> int:
        return len(self._buckets)
