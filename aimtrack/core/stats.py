"""Statistics of one shooter's own log: pure functions over saved sessions, no I/O.

Scores are compared *per shot* (score / shots), because series lengths differ: 431 from 50
shots and 260 from 30 shots are 8.62 and 8.67. Results are only compared within the same
weapon *and* distance; 9.1 at 10 m and 8.2 at 25 m say nothing about each other.

Conventions shared by every function here:

- "History" is a sequence of one user's sessions in any order. Drafts (not yet confirmed by
  the shooter) are skipped, a session id that appears twice counts once (the later copy wins),
  and sessions are put in order by ``(occurred_on, id)``, the order they were shot in.
- Arithmetic is Decimal in a fixed local context, so results do not depend on the caller's
  decimal context. Numbers shown to people are rounded half up to cents (``8.625 -> 8.63``).
- A *point* is one scored entry; an entry without a score counts for rounds and days, never
  for averages, trends or spread.

The licence (verlof) counts live in :mod:`aimtrack.core.licence`; :func:`licence_progress` is
re-exported here, being a statistic of the same log.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final

from aimtrack.core.licence import LicenceProgress, licence_progress
from aimtrack.core.model import Entry, SessionStatus, ShootingSession

__all__ = [
    "CENT",
    "FLAT_SLOPE",
    "MIN_TREND_POINTS",
    "DistanceStats",
    "EntryComparison",
    "LicenceProgress",
    "Totals",
    "Trend",
    "WeaponStats",
    "WeaponTotal",
    "cents",
    "compare_session",
    "in_period",
    "licence_progress",
    "per_shot",
    "saved_in_order",
    "spread_of",
    "totals",
    "trend_of",
    "weapon_stats",
]

CENT: Final = Decimal("0.01")
# Below this least-squares slope (points per shot, per result) a series counts as flat: over
# five results that is a quarter point per shot, 12.5 points on a 50-shot series.
FLAT_SLOPE: Final = Decimal("0.05")
MIN_TREND_POINTS: Final = 3
_CONTEXT: Final = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)


class Trend(StrEnum):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"
    UNKNOWN = "unknown"  # fewer than MIN_TREND_POINTS scored results


# --- series arithmetic ------------------------------------------------------------------


def cents(value: Decimal) -> Decimal:
    """``value`` rounded half up to two decimals, the precision shown to the shooter."""
    return value.quantize(CENT, rounding=decimal.ROUND_HALF_UP, context=_CONTEXT)


def per_shot(entry: Entry) -> Decimal | None:
    """The entry's score per shot, rounded to cents; None without a score."""
    raw = _raw_per_shot(entry)
    return None if raw is None else cents(raw)


def _raw_per_shot(entry: Entry) -> Decimal | None:
    if entry.score is None or entry.shots <= 0:
        return None
    return _CONTEXT.divide(entry.score, entry.shots)


def _mean(values: Sequence[Decimal]) -> Decimal:
    with decimal.localcontext(_CONTEXT):
        return sum(values, Decimal(0)) / len(values)


def trend_of(values: Sequence[Decimal]) -> Trend:
    """Direction of the least-squares line through ``values`` (oldest first, equally spaced):
    results are numbered 0, 1, 2, ... so the slope is "per result", not per calendar day."""
    if len(values) < MIN_TREND_POINTS:
        return Trend.UNKNOWN
    with decimal.localcontext(_CONTEXT):
        x_mean = Decimal(len(values) - 1) / 2
        y_mean = _mean(values)
        numerator = sum(
            ((i - x_mean) * (y - y_mean) for i, y in enumerate(values)), start=Decimal(0)
        )
        denominator = sum(((i - x_mean) ** 2 for i in range(len(values))), start=Decimal(0))
        slope = numerator / denominator
    if abs(slope) < FLAT_SLOPE:
        return Trend.FLAT
    return Trend.UP if slope > 0 else Trend.DOWN


def spread_of(values: Sequence[Decimal]) -> Decimal | None:
    """Population standard deviation (consistency between results); None below two points."""
    if len(values) < 2:
        return None
    with decimal.localcontext(_CONTEXT):
        mean = _mean(values)
        variance = sum(((v - mean) ** 2 for v in values), start=Decimal(0)) / len(values)
        return cents(variance.sqrt())


# --- history ----------------------------------------------------------------------------


def saved_in_order(history: Iterable[ShootingSession]) -> list[ShootingSession]:
    """Confirmed sessions, each id once (the later copy wins), oldest first."""
    by_id = {s.id: s for s in history if s.status == SessionStatus.SAVED}
    return sorted(by_id.values(), key=lambda s: (s.occurred_on, s.id))


def in_period(
    history: Iterable[ShootingSession], *, since: date | None = None, until: date | None = None
) -> list[ShootingSession]:
    """Saved sessions with ``since <= occurred_on <= until`` (both inclusive, both optional)."""
    return [
        s
        for s in saved_in_order(history)
        if (since is None or s.occurred_on >= since) and (until is None or s.occurred_on <= until)
    ]


def _scored(sessions: Iterable[ShootingSession], weapon_id: int, distance_m: int) -> list[Decimal]:
    """Per-shot results of one weapon at one distance, in the order they were shot."""
    return [
        value
        for s in sessions
        for e in sorted(s.entries, key=lambda e: e.position)
        if e.weapon_id == weapon_id
        and e.distance_m == distance_m
        and (value := _raw_per_shot(e)) is not None
    ]


def _check_window(window: int) -> None:
    if window < 1:
        msg = f"window must be at least 1, not {window}"
        raise ValueError(msg)


# --- one session against its past -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryComparison:
    """One entry of a session against earlier results with the same weapon and distance.

    ``previous_*`` covers the last ``window`` earlier scored results; ``best_before`` covers
    all of them (a personal best is a best ever). ``trend`` and ``spread`` cover those same
    previous results plus this one when it is scored. ``delta`` is the difference of the two
    rounded figures, so the numbers shown always add up.
    """

    weapon_id: int
    distance_m: int
    shots: int
    score: Decimal | None
    per_shot: Decimal | None
    previous_count: int
    previous_mean: Decimal | None
    delta: Decimal | None
    best_before: Decimal | None
    trend: Trend
    spread: Decimal | None

    @property
    def personal_best(self) -> bool:
        """A scored result above every earlier one (the first result ever is a baseline)."""
        return (
            self.per_shot is not None
            and self.best_before is not None
            and self.per_shot > self.best_before
        )


def compare_session(
    session: ShootingSession, history: Iterable[ShootingSession], *, window: int = 5
) -> list[EntryComparison]:
    """One comparison per entry of ``session``, in entry order.

    "Earlier" means shot before it: an earlier ``occurred_on``, or the same day with a smaller
    session id (ids grow as sessions are saved). The session itself is never its own past, and
    entries of the same session are not compared with each other.
    """
    _check_window(window)
    key = (session.occurred_on, session.id)
    earlier = [
        s for s in saved_in_order(history) if s.id != session.id and (s.occurred_on, s.id) < key
    ]
    comparisons = []
    for entry in sorted(session.entries, key=lambda e: e.position):
        past = _scored(earlier, entry.weapon_id, entry.distance_m)
        previous = past[-window:]
        raw = _raw_per_shot(entry)
        series = [*previous, raw] if raw is not None else previous
        this = None if raw is None else cents(raw)
        mean = cents(_mean(previous)) if previous else None
        comparisons.append(
            EntryComparison(
                weapon_id=entry.weapon_id,
                distance_m=entry.distance_m,
                shots=entry.shots,
                score=entry.score,
                per_shot=this,
                previous_count=len(previous),
                previous_mean=mean,
                delta=None if this is None or mean is None else this - mean,
                best_before=cents(max(past)) if past else None,
                trend=trend_of(series),
                spread=spread_of(series),
            )
        )
    return comparisons


# --- one weapon over time ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DistanceStats:
    """One weapon at one distance. ``mean_per_shot``, ``trend`` and ``spread`` cover the last
    ``window`` scored results (recent form); ``best_per_shot`` covers all of them."""

    distance_m: int
    sessions: int
    rounds: int
    scored: int  # scored entries, all time
    mean_per_shot: Decimal | None
    best_per_shot: Decimal | None
    last_per_shot: Decimal | None
    trend: Trend
    spread: Decimal | None


@dataclass(frozen=True, slots=True)
class WeaponStats:
    weapon_id: int
    sessions: int
    rounds: int
    first_day: date | None
    last_day: date | None
    days_since_last: int | None
    distances: tuple[DistanceStats, ...]  # most sessions first, then most rounds, then nearest


def weapon_stats(
    weapon_id: int, history: Iterable[ShootingSession], *, today: date, window: int = 10
) -> WeaponStats:
    """Use and results of one weapon up to ``today``. Sessions dated after ``today`` (a typo,
    or a planned match) are left out, so no gap is ever negative."""
    _check_window(window)
    used = [
        s
        for s in in_period(history, until=today)
        if any(e.weapon_id == weapon_id for e in s.entries)
    ]
    distances = sorted({e.distance_m for s in used for e in s.entries if e.weapon_id == weapon_id})
    per_distance = [_distance_stats(weapon_id, d, used, window) for d in distances]
    per_distance.sort(key=lambda d: (-d.sessions, -d.rounds, d.distance_m))
    last_day = used[-1].occurred_on if used else None
    return WeaponStats(
        weapon_id=weapon_id,
        sessions=len(used),
        rounds=sum(e.shots for s in used for e in s.entries if e.weapon_id == weapon_id),
        first_day=used[0].occurred_on if used else None,
        last_day=last_day,
        days_since_last=None if last_day is None else (today - last_day).days,
        distances=tuple(per_distance),
    )


def _distance_stats(
    weapon_id: int, distance_m: int, sessions: Sequence[ShootingSession], window: int
) -> DistanceStats:
    entries = [
        (s.id, e)
        for s in sessions
        for e in s.entries
        if e.weapon_id == weapon_id and e.distance_m == distance_m
    ]
    scored = _scored(sessions, weapon_id, distance_m)
    recent = scored[-window:]
    return DistanceStats(
        distance_m=distance_m,
        sessions=len({session_id for session_id, _ in entries}),
        rounds=sum(e.shots for _, e in entries),
        scored=len(scored),
        mean_per_shot=cents(_mean(recent)) if recent else None,
        best_per_shot=cents(max(scored)) if scored else None,
        last_per_shot=cents(scored[-1]) if scored else None,
        trend=trend_of(recent),
        spread=spread_of(recent),
    )


# --- totals over a period ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeaponTotal:
    weapon_id: int
    sessions: int
    days: int
    rounds: int
    scored: int


@dataclass(frozen=True, slots=True)
class Totals:
    sessions: int
    days: int  # distinct occurred_on dates
    rounds: int
    weapons: tuple[WeaponTotal, ...]  # most rounds first, then by weapon id


def totals(
    history: Iterable[ShootingSession], *, since: date | None = None, until: date | None = None
) -> Totals:
    """How much was shot in a period (both ends inclusive and optional), in all and per
    weapon: the plain facts a coach answer without AI can give."""
    sessions = in_period(history, since=since, until=until)
    per_weapon: dict[int, tuple[set[int], set[date], int, int]] = {}
    for s in sessions:
        for e in s.entries:
            ids, days, rounds, scored = per_weapon.get(e.weapon_id, (set(), set(), 0, 0))
            ids.add(s.id)
            days.add(s.occurred_on)
            per_weapon[e.weapon_id] = (
                ids,
                days,
                rounds + e.shots,
                scored + int(e.score is not None),
            )
    weapons = [
        WeaponTotal(weapon_id=w, sessions=len(ids), days=len(days), rounds=rounds, scored=scored)
        for w, (ids, days, rounds, scored) in per_weapon.items()
    ]
    weapons.sort(key=lambda w: (-w.rounds, w.weapon_id))
    return Totals(
        sessions=len(sessions),
        days=len({s.occurred_on for s in sessions}),
        rounds=sum(e.shots for s in sessions for e in s.entries),
        weapons=tuple(weapons),
    )
