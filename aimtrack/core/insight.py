"""What /stats shows and what a saved session is told: series for the charts, personal bests
and streaks, from one shooter's own log. Pure functions, no I/O.

The conventions of :mod:`aimtrack.core.stats` hold here too: drafts are skipped, a session id
counts once, scores are compared *per shot* and only within one weapon at one distance, and a
session's day is its ``occurred_on`` (the shooter's local date). The licence counts themselves
come from :mod:`aimtrack.core.licence`; this module only samples them over time.
"""

from __future__ import annotations

import bisect
import decimal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from aimtrack.core.licence import add_months, licence_window
from aimtrack.core.model import ShootingSession
from aimtrack.core.stats import cents, per_shot, saved_in_order

__all__ = [
    "MIN_STREAK_WEEKS",
    "MonthRounds",
    "PersonalBest",
    "ScorePoint",
    "average_window",
    "licence_timeline",
    "moving_average",
    "personal_bests",
    "rounds_per_month",
    "score_points",
    "week_streak",
    "weeks_in_a_row",
]

MIN_STREAK_WEEKS: Final = 3  # a streak worth mentioning after a session
_CONTEXT: Final = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)


# --- score over time --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScorePoint:
    """One session's result with one weapon at one distance: every scored entry of that
    pair in the session together (two 30-shot series of 270 and 280 are 550 from 60)."""

    day: date
    session_id: int
    shots: int
    score: Decimal
    per_shot: Decimal  # rounded to cents


def score_points(
    history: Iterable[ShootingSession],
    weapon_id: int,
    distance_m: int,
    *,
    since: date | None = None,
    until: date | None = None,
) -> list[ScorePoint]:
    """One point per saved session that has a scored entry of ``weapon_id`` at
    ``distance_m`` within ``since..until`` (both inclusive, both optional), oldest first."""
    points = []
    for session in saved_in_order(history):
        if (since is not None and session.occurred_on < since) or (
            until is not None and session.occurred_on > until
        ):
            continue
        scored = [
            e
            for e in session.entries
            if e.weapon_id == weapon_id
            and e.distance_m == distance_m
            and e.score is not None
            and e.shots > 0
        ]
        if not scored:
            continue
        shots = sum(e.shots for e in scored)
        score = sum((e.score for e in scored if e.score is not None), Decimal(0))
        points.append(
            ScorePoint(
                day=session.occurred_on,
                session_id=session.id,
                shots=shots,
                score=score,
                per_shot=cents(_CONTEXT.divide(score, shots)),
            )
        )
    return points


def average_window(points: int) -> int:
    """The moving average's width, growing with the series so that years of results still
    show a line rather than noise: 3 results below ten, 5 below a hundred, 10 below three
    hundred, then 20."""
    for below, window in ((10, 3), (100, 5), (300, 10)):
        if points < below:
            return window
    return 20


def moving_average(values: Sequence[Decimal], window: int) -> list[Decimal | None]:
    """The trailing mean of the last ``window`` values at each position, rounded to cents;
    None until ``window`` values have been seen (an average of one is no average)."""
    if window < 1:
        msg = f"window must be at least 1, not {window}"
        raise ValueError(msg)
    averages: list[Decimal | None] = []
    total = Decimal(0)
    for index, value in enumerate(values):
        total = _CONTEXT.add(total, value)
        if index >= window:
            total = _CONTEXT.subtract(total, values[index - window])
        averages.append(cents(_CONTEXT.divide(total, window)) if index >= window - 1 else None)
    return averages


# --- use over time ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonthRounds:
    month: date  # the first day of the month
    rounds: int
    sessions: int


def rounds_per_month(
    history: Iterable[ShootingSession], *, today: date, months: int = 12
) -> list[MonthRounds]:
    """Rounds fired in each of the last ``months`` calendar months up to ``today`` (the
    current month included, so far), oldest first; months without shooting are zeros."""
    if months < 1:
        msg = f"months must be at least 1, not {months}"
        raise ValueError(msg)
    firsts = [add_months(today.replace(day=1), -back) for back in range(months - 1, -1, -1)]
    rounds = dict.fromkeys(firsts, 0)
    sessions = dict.fromkeys(firsts, 0)
    for session in saved_in_order(history):
        month = session.occurred_on.replace(day=1)
        if month in rounds and session.occurred_on <= today:
            rounds[month] += sum(e.shots for e in session.entries)
            sessions[month] += 1
    return [MonthRounds(month, rounds[month], sessions[month]) for month in firsts]


def licence_timeline(
    history: Iterable[ShootingSession], *, today: date, span_days: int = 365
) -> list[tuple[date, int]]:
    """For each of the last ``span_days`` days up to ``today``: the distinct shooting days in
    the rolling 12 months ending that day (:func:`~aimtrack.core.licence.licence_window`),
    the count the licence asks 18 of. Sessions dated after ``today`` are not days shot yet."""
    if span_days < 1:
        msg = f"span_days must be at least 1, not {span_days}"
        raise ValueError(msg)
    days = sorted({s.occurred_on for s in saved_in_order(history) if s.occurred_on <= today})
    timeline = []
    for back in range(span_days - 1, -1, -1):
        day = today - timedelta(days=back)
        start, end = licence_window(day)
        count = bisect.bisect_right(days, end) - bisect.bisect_left(days, start)
        timeline.append((day, count))
    return timeline


# --- what a saved session achieved ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonalBest:
    """A result above every other saved result with that weapon at that distance."""

    weapon_id: int
    distance_m: int
    shots: int
    score: Decimal
    per_shot: Decimal
    previous_best: Decimal  # per shot, the best of every other result


def personal_bests(
    session: ShootingSession, history: Iterable[ShootingSession]
) -> list[PersonalBest]:
    """The personal bests ``session`` sets: for each weapon and distance, its best scored entry
    when that beats (shown to cents) every scored entry of every *other* saved session with
    the same pair, before or after it — a session typed in late for last year is no record
    when a better one came since. The first result of a pair is a baseline, not a record."""
    others: dict[tuple[int, int], Decimal] = {}
    for other in saved_in_order(history):
        if other.id == session.id:
            continue
        for entry in other.entries:
            value = per_shot(entry)
            key = (entry.weapon_id, entry.distance_m)
            if value is not None and (key not in others or value > others[key]):
                others[key] = value
    best_here: dict[tuple[int, int], tuple[Decimal, int, Decimal]] = {}
    for entry in sorted(session.entries, key=lambda e: e.position):
        value = per_shot(entry)
        key = (entry.weapon_id, entry.distance_m)
        if value is None or entry.score is None:
            continue
        if key not in best_here or value > best_here[key][0]:
            best_here[key] = (value, entry.shots, entry.score)
    records = []
    for (weapon_id, distance_m), (value, shots, score) in best_here.items():
        before = others.get((weapon_id, distance_m))
        if before is not None and value > before:
            records.append(
                PersonalBest(
                    weapon_id=weapon_id,
                    distance_m=distance_m,
                    shots=shots,
                    score=score,
                    per_shot=value,
                    previous_best=before,
                )
            )
    return records


def week_streak(history: Iterable[ShootingSession], *, today: date) -> int:
    """Consecutive calendar weeks (Monday to Sunday) with at least one saved session, counted
    back from this week (see :func:`weeks_in_a_row`)."""
    return weeks_in_a_row((s.occurred_on for s in saved_in_order(history)), today=today)


def weeks_in_a_row(days: Iterable[date], *, today: date) -> int:
    """Consecutive calendar weeks (Monday to Sunday) with at least one of ``days``, counted
    back from this week — or from last week while this week has none yet, since the streak
    is still alive until Sunday. Zero when neither week has one; days after ``today`` are not
    shot yet."""
    weeks = {_monday(day) for day in days if day <= today}
    week = _monday(today)
    if week not in weeks:
        week -= timedelta(weeks=1)
    streak = 0
    while week in weeks:
        streak += 1
        week -= timedelta(weeks=1)
    return streak


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
