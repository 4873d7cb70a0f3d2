"""When AimTrack reminds a shooter, decided from their own log and a clock. Pure, no I/O.

Reminders are opt-in (``Profile.reminders``) and arrive only in the local daytime window,
:data:`DAY_STARTS` up to :data:`DAY_ENDS` in the profile's time zone; the hours outside it are
quiet. ``now`` is an aware UTC instant; zoneinfo turns it into local time, so a change to or
from summer time moves the window with the clock on the wall.

- **Licence** (one message, at most once a week; :data:`WEEK` is measured between instants,
  not local dates): the licence expires within :data:`AHEAD_MONTHS` calendar months (today up
  to and including the same day four months on) while the rolling 12 months hold fewer than
  18 shooting days; or the year's competitions are behind: neither 3 KNSA nor 5 club matches
  are met and both counts are below the pro-rata pace of the year (the required number times
  the share of the year gone by, rounded down), so January never nags. When both apply, one
  message says both. When only the competitions are behind, it comes at most every
  :data:`MATCHES_EVERY`. Counting is :func:`aimtrack.core.licence.licence_progress`'s.
- **Draft**: a "photo now, details later" draft open for :data:`DRAFT_AFTER`, reminded once
  per draft (not subject to the week limit, but only in the daytime window).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from aimtrack.core.licence import add_months, licence_progress
from aimtrack.core.model import (
    Profile,
    ReminderKind,
    SentReminder,
    SessionStatus,
    ShootingSession,
)

DAY_STARTS: Final = time(10)  # the first local time a reminder may arrive
DAY_ENDS: Final = time(20)  # from here until DAY_STARTS the next day is quiet
WEEK: Final = timedelta(days=7)
# Behind on matches alone is a slow worry (the year has months left): every four weeks is
# in time without nagging someone who rarely competes thirty times a year.
MATCHES_EVERY: Final = timedelta(weeks=4)
LOOKBACK: Final = max(WEEK, MATCHES_EVERY)  # how far back the rules look at reminders sent
AHEAD_MONTHS: Final = 4
DRAFT_AFTER: Final = timedelta(hours=24)
DRAFT_EVERY: Final = timedelta(hours=24)  # several forgotten drafts: one note a day, not a burst
LAST_QUARTER: Final = 10  # from October, any match duty not yet met is behind


@dataclass(frozen=True, slots=True)
class LicenceFacts:
    expiry: date
    days: int  # shooting days in the rolling 12 months
    required: int
    short: int  # days still needed
    oldest_day: date | None  # the next day to drop out of the count ...
    oldest_leaves_on: date | None  # ... and when


@dataclass(frozen=True, slots=True)
class MatchFacts:
    year: int
    knsa: int
    club: int
    required_knsa: int
    required_club: int


@dataclass(frozen=True, slots=True)
class LicenceReminder:
    """The weekly reminder; at least one of ``licence`` and ``matches`` is set."""

    key: str  # the local date it is due on (ISO)
    licence: LicenceFacts | None
    matches: MatchFacts | None

    @property
    def kind(self) -> ReminderKind:
        return ReminderKind.LICENCE


@dataclass(frozen=True, slots=True)
class DraftReminder:
    key: str  # see draft_key
    session_id: int
    occurred_on: date

    @property
    def kind(self) -> ReminderKind:
        return ReminderKind.DRAFT


Reminder = LicenceReminder | DraftReminder


def local_time(now: datetime, timezone: str) -> datetime:
    return now.astimezone(ZoneInfo(timezone))


def local_date(now: datetime, timezone: str) -> date:
    return local_time(now, timezone).date()


def in_daytime(now: datetime, timezone: str) -> bool:
    """Whether ``now`` falls in the window reminders may arrive in, on the user's clock."""
    return DAY_STARTS <= local_time(now, timezone).time() < DAY_ENDS


def next_daytime(now: datetime, timezone: str) -> datetime:
    """``now`` when it is inside the window, else the (UTC) instant the next one opens."""
    if in_daytime(now, timezone):
        return now
    here = local_time(now, timezone)
    day = here.date() if here.time() < DAY_STARTS else here.date() + timedelta(days=1)
    return datetime.combine(day, DAY_STARTS, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def pace(required: int, today: date) -> int:
    """How many of ``required`` a steady pace has reached by ``today`` (rounded down)."""
    day_of_year = today.timetuple().tm_yday
    days_in_year = 366 if calendar.isleap(today.year) else 365
    return required * day_of_year // days_in_year


def draft_key(draft: ShootingSession) -> str:
    """A draft's id with its creation time: SQLite may hand a deleted draft's id to a new one,
    which must still get its own reminder."""
    return f"{draft.id}@{int(draft.created_at.timestamp())}"


def licence_reminder(
    profile: Profile, sessions: Iterable[ShootingSession], *, now: datetime
) -> LicenceReminder | None:
    """The licence and competition facts worth a reminder today, whatever was sent before."""
    today = local_date(now, profile.timezone)
    progress = licence_progress(sessions, today=today)
    licence = None
    expiry = profile.licence_expiry
    if (
        expiry is not None
        and today <= expiry <= add_months(today, AHEAD_MONTHS)
        and not progress.days_met
    ):
        licence = LicenceFacts(
            expiry=expiry,
            days=progress.days,
            required=progress.required_days,
            short=progress.days_short,
            oldest_day=progress.oldest_day,
            oldest_leaves_on=progress.oldest_leaves_on,
        )
    matches = None
    # The pace is rounded down and reaches the full count only on 31 December, so the last
    # match or two would never be "behind" in time: from October, unmet is behind.
    behind = today.month >= LAST_QUARTER or (
        progress.knsa_matches < pace(progress.required_knsa, today)
        and progress.club_matches < pace(progress.required_club, today)
    )
    if not progress.matches_met and behind:
        matches = MatchFacts(
            year=progress.year,
            knsa=progress.knsa_matches,
            club=progress.club_matches,
            required_knsa=progress.required_knsa,
            required_club=progress.required_club,
        )
    if licence is None and matches is None:
        return None
    return LicenceReminder(key=today.isoformat(), licence=licence, matches=matches)


def draft_reminders(sessions: Iterable[ShootingSession], *, now: datetime) -> list[DraftReminder]:
    """The drafts open long enough to be worth a reminder, oldest first."""
    drafts = [
        s for s in sessions if s.status is SessionStatus.DRAFT and now - s.created_at >= DRAFT_AFTER
    ]
    drafts.sort(key=lambda s: (s.created_at, s.id))
    return [DraftReminder(draft_key(s), s.id, s.occurred_on) for s in drafts]


def due_reminders(
    profile: Profile,
    sessions: Iterable[ShootingSession],
    sent: Iterable[SentReminder],
    *,
    now: datetime,
) -> list[Reminder]:
    """The reminders to send at ``now``: ``sessions`` are the user's saved sessions (the
    licence counts) and open drafts, ``sent`` the reminders already on record."""
    if not profile.reminders or not in_daytime(now, profile.timezone):
        return []
    history = list(sessions)
    records = list(sent)
    due: list[Reminder] = []
    last = max((r.sent_at for r in records if r.kind is ReminderKind.LICENCE), default=None)
    found = licence_reminder(profile, history, now=now)
    if found is not None:
        gap = WEEK if found.licence is not None else MATCHES_EVERY
        if last is None or now - last >= gap:
            due.append(found)
    drafts = [r for r in records if r.kind is ReminderKind.DRAFT]
    if not any(now - r.sent_at < DRAFT_EVERY for r in drafts):
        reminded = {r.key for r in drafts}
        waiting = [d for d in draft_reminders(history, now=now) if d.key not in reminded]
        due.extend(waiting[:1])  # the oldest; the next one tomorrow
    return due


def current(
    kind: ReminderKind,
    key: str,
    profile: Profile,
    sessions: Iterable[ShootingSession],
    *,
    now: datetime,
) -> Reminder | None:
    """A reminder recorded earlier with fresh facts, or None when it no longer applies (the
    draft was finished, the days were shot): what a delayed job still has to say."""
    if kind is ReminderKind.LICENCE:
        found = licence_reminder(profile, sessions, now=now)
        return None if found is None else LicenceReminder(key, found.licence, found.matches)
    return next((d for d in draft_reminders(sessions, now=now) if d.key == key), None)
