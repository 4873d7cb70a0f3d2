"""How many AI requests one user may make: at most so many an hour and so many a day.

Counted from the user's AI jobs as they stand in the database (the caller reads the moments
they were queued), so a restart forgets nothing. Both windows slide: a request leaves the
hour window an hour after it was queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

HOUR: Final = timedelta(hours=1)
DAY: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class AIQuota:
    per_hour: int = 20
    per_day: int = 60

    def __post_init__(self) -> None:
        if self.per_hour < 1 or self.per_day < 1:
            msg = "an AI quota needs at least one request an hour and a day"
            raise ValueError(msg)

    @property
    def windows(self) -> tuple[tuple[timedelta, int], ...]:
        return ((HOUR, self.per_hour), (DAY, self.per_day))

    @property
    def looked_back(self) -> tuple[timedelta, int]:
        """How far back, and how many of the newest requests, :func:`next_allowed` needs."""
        return DAY, max(self.per_hour, self.per_day)


@dataclass(frozen=True, slots=True)
class QuotaUsed:
    """The quota is used up: ``again_at`` is the first moment a request fits again, and
    ``limit`` per ``window`` the limit that holds it back (the one that frees up last)."""

    again_at: datetime
    limit: int
    window: timedelta


def next_allowed(queued: Sequence[datetime], quota: AIQuota, *, now: datetime) -> QuotaUsed | None:
    """None when one more request fits, else when it will.

    ``queued``: when the user's recent requests were queued, newest first — at least those of
    the last day, or the newest ``max(per_hour, per_day)`` of them.
    """
    newest_first = sorted(queued, reverse=True)
    worst: QuotaUsed | None = None
    for window, limit in quota.windows:
        inside = [moment for moment in newest_first if moment > now - window]
        if len(inside) < limit:
            continue
        # The window has room again once the limit-th newest request has left it.
        free_at = inside[limit - 1] + window
        if worst is None or free_at > worst.again_at:
            worst = QuotaUsed(again_at=free_at, limit=limit, window=window)
    return worst
