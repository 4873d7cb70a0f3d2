"""The Dutch licence (verlof) duties, counted from the shooter's own log. Pure, no I/O.

- At least 18 shooting *days* in the rolling 12 months before the (re)application, for the
  shooter as a whole. The window ending on ``today`` starts the day after the same date one
  year earlier: on 23-11-2026 it holds 24-11-2025 up to and including 23-11-2026, so the day
  exactly one year ago is *out*. One year before 29 February is 28 February, so on
  29-02-2028 the window starts on 01-03-2027; a 29 February leaves the window on 1 March.
- Per calendar year at least 3 KNSA ranking matches or 5 club matches. A match is counted as
  a distinct day with at least one entry of that competition type: several entries (series,
  disciplines) on one match day count once, and a day with both a KNSA and a club entry counts
  once for each. This never counts more than the club's register could show.

Only saved sessions up to ``today`` count: a draft is not confirmed yet, and a session dated
in the future is not a day shot yet. Days are counted, not sessions, so a session that appears
twice in the history changes nothing.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from aimtrack.core.model import CompetitionType, SessionStatus, ShootingSession

REQUIRED_DAYS: Final = 18
REQUIRED_KNSA: Final = 3
REQUIRED_CLUB: Final = 5


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months on, or the month's last day (31 Oct + 4 months
    is 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def licence_window(today: date) -> tuple[date, date]:
    """First and last day (both inclusive) of the rolling 12 months ending on ``today``."""
    return _year_before(today) + timedelta(days=1), today


def leaves_window_on(day: date) -> date:
    """The first ``today`` whose window no longer holds ``day``: its anniversary, or 1 March
    for a 29 February in a year without one."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 3, 1)


@dataclass(frozen=True, slots=True)
class LicenceProgress:
    window_start: date
    window_end: date
    days: int  # distinct shooting days in the window
    oldest_day: date | None  # the earliest of those days: the next one to drop out
    year: int  # the calendar year of ``window_end``
    knsa_matches: int
    club_matches: int
    required_days: int = REQUIRED_DAYS
    required_knsa: int = REQUIRED_KNSA
    required_club: int = REQUIRED_CLUB

    @property
    def days_short(self) -> int:
        return max(0, self.required_days - self.days)

    @property
    def days_met(self) -> bool:
        return self.days >= self.required_days

    @property
    def knsa_short(self) -> int:
        return max(0, self.required_knsa - self.knsa_matches)

    @property
    def club_short(self) -> int:
        return max(0, self.required_club - self.club_matches)

    @property
    def matches_met(self) -> bool:
        """Either duty suffices: 3 KNSA ranking matches *or* 5 club matches."""
        return self.knsa_short == 0 or self.club_short == 0

    @property
    def oldest_leaves_on(self) -> date | None:
        """When the count drops by one unless a new day is shot (None without days)."""
        return None if self.oldest_day is None else leaves_window_on(self.oldest_day)


def licence_progress(history: Iterable[ShootingSession], *, today: date) -> LicenceProgress:
    start, end = licence_window(today)
    sessions = [s for s in history if s.status == SessionStatus.SAVED and s.occurred_on <= today]
    days = sorted({s.occurred_on for s in sessions if s.occurred_on >= start})
    this_year = [s for s in sessions if s.occurred_on.year == today.year]
    return LicenceProgress(
        window_start=start,
        window_end=end,
        days=len(days),
        oldest_day=days[0] if days else None,
        year=today.year,
        knsa_matches=match_days(this_year, CompetitionType.KNSA),
        club_matches=match_days(this_year, CompetitionType.CLUB),
    )


def match_days(sessions: Iterable[ShootingSession], kind: CompetitionType) -> int:
    """Distinct days among ``sessions`` with at least one entry of competition ``kind``."""
    return len({s.occurred_on for s in sessions if any(e.competition == kind for e in s.entries)})
