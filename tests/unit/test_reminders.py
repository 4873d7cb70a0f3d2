"""The reminder rules with a fake clock: when a reminder is due, on whose clock, how often."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aimtrack.core import reminders as rules
from aimtrack.core.clock import FixedClock
from aimtrack.core.model import (
    CompetitionType,
    Language,
    Profile,
    ReminderKind,
    SentReminder,
    SessionStatus,
    ShootingSession,
)
from tests.helpers.factories import entry, session

AMSTERDAM = "Europe/Amsterdam"
# Early February: the year's competition pace is still zero, so only the licence counts.
FEBRUARY = date(2027, 2, 10)


def at(day: date, hour: int, minute: int = 0, zone: str = AMSTERDAM) -> datetime:
    """A local wall-clock time as the UTC instant the rules get."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(
        UTC
    )


def profile(
    *, reminders: bool = True, expiry: date | None = None, zone: str = AMSTERDAM
) -> Profile:
    return Profile(
        user_id=1,
        display_name="Anna",
        language=Language.NL,
        timezone=zone,
        knsa_number=None,
        club=None,
        licence_number=None,
        licence_expiry=expiry,
        is_allowed=True,
        is_admin=False,
        reminders=reminders,
    )


def shooting_days(
    count: int, *, last: date, competition: CompetitionType = CompetitionType.NONE
) -> list[ShootingSession]:
    """``count`` saved sessions on distinct days, a week apart, the newest on ``last``."""
    return [
        session(i + 1, last - timedelta(weeks=i), entry(competition=competition))
        for i in range(count)
    ]


def draft(session_id: int, created_at: datetime) -> ShootingSession:
    made = session(session_id, created_at.date(), status=SessionStatus.DRAFT)
    return dataclasses.replace(made, created_at=created_at, updated_at=created_at)


def licence_sent(when: datetime) -> SentReminder:
    return SentReminder(ReminderKind.LICENCE, when.date().isoformat(), when)


def due(
    who: Profile,
    now: datetime,
    sessions: Iterable[ShootingSession] = (),
    sent: Iterable[SentReminder] = (),
) -> list[rules.Reminder]:
    return rules.due_reminders(who, sessions, sent, now=now)


def kinds(found: list[rules.Reminder]) -> list[ReminderKind]:
    return [r.kind for r in found]


LICENCE_DUE = profile(expiry=FEBRUARY + timedelta(days=30))  # 10 days logged: well short


# --- on and off, day and night --------------------------------------------------------------


def test_reminders_are_off_by_default() -> None:
    off = dataclasses.replace(LICENCE_DUE, reminders=False)
    assert Profile.__dataclass_fields__["reminders"].default is False
    now = at(FEBRUARY, 12)
    old = draft(7, now - timedelta(days=3))
    assert due(off, now, [old]) == []
    assert kinds(due(LICENCE_DUE, now, [old])) == [ReminderKind.LICENCE, ReminderKind.DRAFT]


@pytest.mark.parametrize("zone", [AMSTERDAM, "America/New_York", "Asia/Tokyo"])
@pytest.mark.parametrize(
    ("hour", "minute", "inside"),
    [(9, 59, False), (10, 0, True), (19, 59, True), (20, 0, False), (3, 0, False)],
)
def test_only_in_the_local_daytime_window(zone: str, hour: int, minute: int, inside: bool) -> None:
    who = dataclasses.replace(LICENCE_DUE, timezone=zone)
    now = at(FEBRUARY, hour, minute, zone)
    assert rules.in_daytime(now, zone) is inside
    assert bool(due(who, now)) is inside


def test_the_same_instant_is_day_in_one_zone_and_night_in_another() -> None:
    now = datetime(2027, 2, 10, 12, tzinfo=UTC)  # 13:00 Amsterdam, 07:00 New York, 21:00 Tokyo
    assert [rules.in_daytime(now, z) for z in (AMSTERDAM, "America/New_York", "Asia/Tokyo")] == [
        True,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("now", "inside"),
    [
        # Summer time starts on 29 March 2026: the window opens an hour earlier in UTC.
        (datetime(2026, 3, 28, 8, 30, tzinfo=UTC), False),  # 09:30 CET
        (datetime(2026, 3, 29, 8, 30, tzinfo=UTC), True),  # 10:30 CEST
        (datetime(2026, 3, 29, 17, 59, tzinfo=UTC), True),  # 19:59 CEST
        (datetime(2026, 3, 29, 18, 0, tzinfo=UTC), False),  # 20:00 CEST
        # It ends on 25 October 2026: an hour later again.
        (datetime(2026, 10, 24, 8, 30, tzinfo=UTC), True),  # 10:30 CEST
        (datetime(2026, 10, 25, 8, 30, tzinfo=UTC), False),  # 09:30 CET
        (datetime(2026, 10, 25, 18, 30, tzinfo=UTC), True),  # 19:30 CET
    ],
)
def test_the_window_follows_summer_time(now: datetime, inside: bool) -> None:
    assert rules.in_daytime(now, AMSTERDAM) is inside


@pytest.mark.parametrize(
    ("zone", "now", "opens"),
    [
        (AMSTERDAM, at(FEBRUARY, 12), at(FEBRUARY, 12)),  # inside: now
        (AMSTERDAM, at(FEBRUARY, 7), at(FEBRUARY, 10)),  # morning: today at ten
        (AMSTERDAM, at(FEBRUARY, 20), at(FEBRUARY + timedelta(days=1), 10)),  # evening: tomorrow
        # The night summer time starts: 10:00 CEST is 08:00 UTC.
        (AMSTERDAM, at(date(2026, 3, 28), 22), datetime(2026, 3, 29, 8, tzinfo=UTC)),
        ("Asia/Tokyo", at(FEBRUARY, 23, zone="Asia/Tokyo"), datetime(2027, 2, 11, 1, tzinfo=UTC)),
    ],
)
def test_the_next_window(zone: str, now: datetime, opens: datetime) -> None:
    assert rules.next_daytime(now, zone) == opens


# --- the licence ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expiry", "reminded"),
    [
        (date(2027, 6, 10), True),  # exactly four calendar months ahead
        (date(2027, 6, 11), False),  # a day further
        (FEBRUARY, True),  # expires today
        (FEBRUARY - timedelta(days=1), False),  # expired yesterday: nothing to warn about
        (None, False),  # no expiry in the profile
    ],
)
def test_the_licence_expiry_within_four_months(expiry: date | None, reminded: bool) -> None:
    found = due(profile(expiry=expiry), at(FEBRUARY, 12), shooting_days(10, last=FEBRUARY))
    assert kinds(found) == ([ReminderKind.LICENCE] if reminded else [])


def test_four_months_from_the_end_of_a_month() -> None:
    assert rules.add_months(date(2026, 10, 31), 4) == date(2027, 2, 28)
    assert rules.add_months(date(2027, 10, 31), 4) == date(2028, 2, 29)
    assert rules.add_months(date(2026, 9, 15), 4) == date(2027, 1, 15)
    today = date(2026, 10, 31)
    now = at(today, 12)
    history = shooting_days(5, last=today, competition=CompetitionType.CLUB)  # matches met
    assert due(profile(expiry=date(2027, 2, 28)), now, history)
    assert not due(profile(expiry=date(2027, 3, 1)), now, history)


@pytest.mark.parametrize(("days", "reminded"), [(17, True), (18, False), (0, True)])
def test_fewer_than_eighteen_days(days: int, reminded: bool) -> None:
    found = due(LICENCE_DUE, at(FEBRUARY, 12), shooting_days(days, last=FEBRUARY))
    assert kinds(found) == ([ReminderKind.LICENCE] if reminded else [])


def test_the_licence_reminder_says_what_the_message_needs() -> None:
    history = shooting_days(17, last=FEBRUARY)  # the oldest is 16 weeks before 10 Feb 2027
    (found,) = due(LICENCE_DUE, at(FEBRUARY, 12), history)
    assert isinstance(found, rules.LicenceReminder)
    assert found.key == "2027-02-10"
    assert found.matches is None
    assert found.licence == rules.LicenceFacts(
        expiry=date(2027, 3, 12),
        days=17,
        required=18,
        short=1,
        oldest_day=date(2026, 10, 21),
        oldest_leaves_on=date(2027, 10, 21),
    )


def test_a_draft_and_a_future_session_are_not_shooting_days() -> None:
    history = [
        *shooting_days(17, last=FEBRUARY),
        session(90, FEBRUARY - timedelta(days=1), entry(), status=SessionStatus.DRAFT),
        session(91, FEBRUARY + timedelta(days=1), entry()),
    ]
    found = [r for r in due(LICENCE_DUE, at(FEBRUARY, 12), history) if r.kind == "licence"]
    assert isinstance(found[0], rules.LicenceReminder)
    assert found[0].licence is not None
    assert found[0].licence.days == 17


@pytest.mark.parametrize(
    ("zone", "key"), [("Pacific/Honolulu", "2027-02-10"), ("Asia/Tokyo", "2027-02-11")]
)
def test_the_key_is_the_local_date(zone: str, key: str) -> None:
    late = datetime(
        2027, 2, 11, 1, 30, tzinfo=UTC
    )  # 15:30 on the 10th in Honolulu, 10:30 on the 11th in Tokyo
    (found,) = due(dataclasses.replace(LICENCE_DUE, timezone=zone), late)
    assert found.key == key


# --- at most once a week --------------------------------------------------------------------


def test_at_most_once_a_week_between_instants() -> None:
    clock = FixedClock(at(FEBRUARY, 19, 59))  # sent late in the day ...
    (first,) = due(LICENCE_DUE, clock.now())
    sent = [licence_sent(clock.now())]
    clock.advance(timedelta(days=6, hours=23))
    assert due(LICENCE_DUE, clock.now(), sent=sent) == []  # 6 days 23 h: not yet
    clock.advance(timedelta(minutes=59))
    assert rules.in_daytime(clock.now(), AMSTERDAM)
    assert due(LICENCE_DUE, clock.now(), sent=sent) == []  # a week on by the date, not by time
    clock.advance(timedelta(minutes=1))  # 7 days exactly
    (second,) = due(LICENCE_DUE, clock.now(), sent=sent)
    assert (first.key, second.key) == ("2027-02-10", "2027-02-17")


def test_the_week_is_counted_in_hours_across_summer_time() -> None:
    sent = [licence_sent(at(date(2026, 3, 25), 12))]  # 11:00 UTC, in winter time
    who = dataclasses.replace(LICENCE_DUE, licence_expiry=date(2026, 5, 1))
    # A week later by the wall clock (12:00 summer time) is only 6 days 23 hours later.
    assert due(who, at(date(2026, 4, 1), 12), sent=sent) == []
    assert kinds(due(who, at(date(2026, 4, 1), 13), sent=sent)) == [ReminderKind.LICENCE]


def test_a_draft_reminder_does_not_count_for_the_week() -> None:
    now = at(FEBRUARY, 12)
    sent = [SentReminder(ReminderKind.DRAFT, "3@0", now - timedelta(hours=1))]
    assert kinds(due(LICENCE_DUE, now, sent=sent)) == [ReminderKind.LICENCE]


# --- the year's competitions ----------------------------------------------------------------


def matches(day: date, *, knsa: int = 0, club: int = 0) -> list[ShootingSession]:
    """Match days early in ``day``'s year, one a day from 2 January."""
    start = date(day.year, 1, 2)
    made = [
        session(100 + i, start + timedelta(days=i), entry(competition=CompetitionType.KNSA))
        for i in range(knsa)
    ]
    made += [
        session(200 + i, start + timedelta(days=knsa + i), entry(competition=CompetitionType.CLUB))
        for i in range(club)
    ]
    return made


def test_january_never_nags_about_competitions() -> None:
    for day in (date(2027, 1, 1), date(2027, 1, 31), date(2027, 2, 10)):
        assert due(profile(), at(day, 12)) == []


def test_october_with_one_club_match_is_behind() -> None:
    today = date(2026, 10, 1)
    (found,) = due(profile(), at(today, 12), matches(today, club=1))
    assert isinstance(found, rules.LicenceReminder)
    assert found.licence is None
    assert found.matches == rules.MatchFacts(
        year=2026, knsa=0, club=1, required_knsa=3, required_club=5
    )


@pytest.mark.parametrize(
    ("knsa", "club", "reminded"),
    [
        (3, 0, False),  # the KNSA duty is met
        (0, 5, False),  # the club duty is met
        (2, 0, False),  # on pace for KNSA (2 of 3 by September)
        (0, 3, False),  # on pace for club matches (3 of 5)
        (1, 2, True),  # behind on both
    ],
)
def test_the_competitions_pace(knsa: int, club: int, reminded: bool) -> None:
    today = date(2026, 9, 1)
    assert (rules.pace(3, today), rules.pace(5, today)) == (2, 3)
    found = due(profile(), at(today, 12), matches(today, knsa=knsa, club=club))
    assert bool(found) is reminded


@pytest.mark.parametrize(
    ("today", "knsa", "club", "reminded"),
    [
        (date(2026, 9, 30), 2, 4, False),  # on pace for both
        (date(2026, 10, 1), 2, 4, True),  # the last quarter: one short of either is behind
        (date(2026, 10, 1), 3, 0, False),  # met
        (date(2026, 12, 31), 0, 5, False),
    ],
)
def test_from_october_any_unmet_duty_is_behind(
    today: date, knsa: int, club: int, reminded: bool
) -> None:
    found = due(profile(), at(today, 12), matches(today, knsa=knsa, club=club))
    assert bool(found) is reminded


def _first_day_reminded(year: int, *, knsa: int, club: int) -> date | None:
    """The first day of ``year`` on which a shooter with these matches (all shot early in
    January) hears that the year's competitions are behind (nothing sent before)."""
    day = date(year, 1, 1)
    history = matches(day, knsa=knsa, club=club)
    while day.year == year:
        if due(profile(), at(day, 12), history):
            return day
        day += timedelta(days=1)
    return None


def test_one_match_short_is_told_before_the_last_day_of_the_year() -> None:
    """The pace, rounded down, reaches 3 KNSA and 5 club matches only on 31 December: a
    shooter one match short of either duty would hear it too late. From October, any unmet
    duty is behind."""
    assert _first_day_reminded(2026, knsa=0, club=0) == date(2026, 5, 2)  # for comparison
    last_chance = date(2026, 12, 1)  # a month left to find one more match
    for knsa, club in ((2, 0), (0, 4), (2, 4)):
        first = _first_day_reminded(2026, knsa=knsa, club=club)
        assert first is not None
        assert first <= last_chance, (knsa, club, first)


def test_last_years_matches_do_not_count() -> None:
    today = date(2026, 10, 1)
    last_year = [
        session(
            300 + i, date(2025, 11, 1) + timedelta(days=i), entry(competition=CompetitionType.KNSA)
        )
        for i in range(3)
    ]
    assert due(profile(), at(today, 12), last_year)


def test_behind_on_matches_alone_is_said_every_four_weeks() -> None:
    today = date(2026, 10, 1)
    sent = [licence_sent(at(today, 12))]
    history = matches(today, club=1)
    for days in (7, 14, 27):  # a week on is not enough for matches alone
        assert due(profile(), at(today + timedelta(days=days), 12), history, sent) == []
    four_weeks = at(today, 12) + timedelta(weeks=4)  # 11:00 on the wall: summer time ended
    assert due(profile(), four_weeks - timedelta(minutes=1), history, sent) == []
    (again,) = due(profile(), four_weeks, history, sent)
    assert isinstance(again, rules.LicenceReminder)
    assert again.licence is None


def test_a_licence_at_risk_is_said_weekly_even_after_a_matches_reminder() -> None:
    today = date(2026, 10, 1)
    sent = [licence_sent(at(today, 12))]  # behind on matches only, then the expiry comes near
    who = profile(expiry=date(2027, 1, 31))
    history = matches(today, club=1)
    assert due(who, at(today + timedelta(days=6), 12), history, sent) == []
    (found,) = due(who, at(today + timedelta(days=7), 12), history, sent)
    assert isinstance(found, rules.LicenceReminder)
    assert found.licence is not None


def test_licence_and_competitions_come_in_one_message() -> None:
    today = date(2026, 10, 1)
    who = profile(expiry=date(2026, 12, 31))
    history = [*shooting_days(10, last=today), *matches(today, club=1)]
    (found,) = due(who, at(today, 12), history)
    assert isinstance(found, rules.LicenceReminder)
    assert found.licence is not None
    assert found.matches is not None
    assert found.licence.days == 11  # ten plain days and the match day
    assert found.matches.club == 1


# --- drafts left open -----------------------------------------------------------------------


@pytest.mark.parametrize(("age", "reminded"), [(23, False), (24, True), (25, True)])
def test_a_draft_open_for_a_day(age: int, reminded: bool) -> None:
    now = at(FEBRUARY, 12)
    found = due(profile(), now, [draft(7, now - timedelta(hours=age))])
    assert kinds(found) == ([ReminderKind.DRAFT] if reminded else [])


def test_a_draft_is_reminded_once() -> None:
    clock = FixedClock(at(FEBRUARY, 12))
    old = draft(7, clock.now() - timedelta(hours=25))
    (found,) = due(profile(), clock.now(), [old])
    assert isinstance(found, rules.DraftReminder)
    assert (found.session_id, found.occurred_on) == (7, old.occurred_on)
    sent = [SentReminder(ReminderKind.DRAFT, found.key, clock.now())]
    for _ in range(3):
        clock.advance(timedelta(days=8))  # past any week limit
        assert due(profile(), clock.now(), [old], sent) == []


def test_a_draft_waits_for_the_day_and_ignores_the_week_limit() -> None:
    night = at(FEBRUARY, 22)
    old = draft(7, night - timedelta(days=2))
    assert due(profile(), night, [old]) == []
    morning = at(FEBRUARY + timedelta(days=1), 10)
    sent = [licence_sent(morning - timedelta(days=1))]
    assert kinds(due(LICENCE_DUE, morning, [old], sent)) == [ReminderKind.DRAFT]


def test_a_new_draft_with_a_reused_id_gets_its_own_reminder() -> None:
    now = at(FEBRUARY, 12)
    first = draft(7, now - timedelta(days=5))
    again = draft(7, now - timedelta(days=2))  # SQLite handed the deleted draft's id on
    sent = [SentReminder(ReminderKind.DRAFT, rules.draft_key(first), now - timedelta(days=4))]
    assert rules.draft_key(first) != rules.draft_key(again)
    assert kinds(due(profile(), now, [again], sent)) == [ReminderKind.DRAFT]


def test_several_drafts_one_a_day_oldest_first() -> None:
    now = at(FEBRUARY, 12)
    drafts = [draft(9, now - timedelta(days=2)), draft(4, now - timedelta(days=3))]
    (first,) = due(profile(), now, drafts)
    assert isinstance(first, rules.DraftReminder)
    assert first.session_id == 4
    sent = [SentReminder(ReminderKind.DRAFT, first.key, now)]
    assert due(profile(), now + timedelta(hours=23, minutes=59), drafts, sent) == []
    (second,) = due(profile(), now + timedelta(hours=24), drafts, sent)
    assert isinstance(second, rules.DraftReminder)
    assert second.session_id == 9


# --- what a late job still says -------------------------------------------------------------


def test_a_late_job_gets_fresh_facts_or_nothing() -> None:
    now = at(FEBRUARY, 12)
    old = draft(7, now - timedelta(days=2))
    key = rules.draft_key(old)
    assert rules.current(ReminderKind.DRAFT, key, profile(), [old], now=now) == rules.DraftReminder(
        key, 7, old.occurred_on
    )
    finished = dataclasses.replace(old, status=SessionStatus.SAVED)
    assert rules.current(ReminderKind.DRAFT, key, profile(), [finished], now=now) is None

    later = rules.current(
        ReminderKind.LICENCE, "2027-02-03", LICENCE_DUE, shooting_days(12, last=FEBRUARY), now=now
    )
    assert isinstance(later, rules.LicenceReminder)
    assert later.key == "2027-02-03"  # the key it was recorded under
    assert later.licence is not None
    assert later.licence.days == 12
    enough = shooting_days(18, last=FEBRUARY)
    assert rules.current(ReminderKind.LICENCE, "2027-02-03", LICENCE_DUE, enough, now=now) is None
