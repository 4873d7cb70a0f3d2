"""The register report (pure): rows, and the licence summary counted by hand.

Every expectation here is worked out by hand from the sessions the test builds; the comments
say how.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from aimtrack.core.model import (
    CompetitionType,
    Language,
    Profile,
    SessionStatus,
    ShootingSession,
    Weapon,
    WeaponType,
)
from aimtrack.core.register import Gap, Register, build_register, history_start
from tests.helpers.factories import CZ, WALTHER, entry, session, weapon

GLOCK = 3
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
KNSA, CLUB = CompetitionType.KNSA, CompetitionType.CLUB


def profile(timezone: str = "Europe/Amsterdam") -> Profile:
    return Profile(
        user_id=1,
        display_name="Anna de Vries",
        language=Language.NL,
        timezone=timezone,
        knsa_number="K-123",
        club="SV De Roos",
        licence_number="WM4-777",
        licence_expiry=date(2027, 6, 30),
        is_allowed=True,
        is_admin=False,
    )


def arsenal(*extra: Weapon) -> dict[int, Weapon]:
    weapons = [
        weapon(CZ, "CZ 75", serial_number="CZ-001"),
        weapon(WALTHER, "Walther GSP", serial_number="W-002"),
        *extra,
    ]
    return {w.id: w for w in weapons}


def register(
    sessions: list[ShootingSession],
    period: tuple[date, date],
    *,
    weapons: dict[int, Weapon] | None = None,
    only: set[int] | None = None,
    now: datetime = NOW,
    timezone: str = "Europe/Amsterdam",
) -> Register:
    return build_register(
        profile(timezone),
        arsenal() if weapons is None else weapons,
        sessions,
        period_from=period[0],
        period_to=period[1],
        weapon_ids=None if only is None else frozenset(only),
        now=now,
    )


YEAR_2026 = (date(2026, 1, 1), date(2026, 12, 31))


def test_one_row_per_entry_with_the_weapon_and_the_session_around_it() -> None:
    shot = dataclasses.replace(
        session(
            7,
            date(2026, 3, 14),
            entry(CZ, 25, 50, "431.5", competition=KNSA),
            entry(WALTHER, 50, 20, None, position=1),
            club="SV De Roos",
        ),
        location="Baan 3",
        ammunition_brand="Geco",
        started_at=datetime(2026, 3, 14, 18, 30, 41, tzinfo=UTC),  # 19:30 in Amsterdam
    )
    first, second = register([shot], YEAR_2026).rows

    assert first.day == date(2026, 3, 14)
    assert first.start == time(19, 30)
    assert (first.club, first.location) == ("SV De Roos", "Baan 3")
    assert (first.weapon, first.weapon_type, first.caliber) == ("CZ 75", WeaponType.PISTOL, "9mm")
    assert first.serial_number == "CZ-001"
    assert (first.distance_m, first.shots, first.score) == (25, 50, Decimal("431.5"))
    assert first.ammunition == "Geco"  # the session's brand when the entry names none
    assert first.competition is KNSA
    assert (second.weapon, second.distance_m, second.score) == ("Walther GSP", 50, None)
    assert second.competition is CompetitionType.NONE


def test_rows_run_oldest_first_and_drafts_and_other_periods_stay_out() -> None:
    sessions = [
        session(3, date(2026, 5, 2), entry()),
        session(1, date(2026, 2, 1), entry()),
        session(2, date(2026, 4, 1), entry(), status=SessionStatus.DRAFT),
        session(4, date(2025, 12, 31), entry()),  # before the period
        session(5, date(2027, 1, 1), entry()),  # after it
    ]
    result = register(sessions, YEAR_2026)
    assert [row.day for row in result.rows] == [date(2026, 2, 1), date(2026, 5, 2)]
    assert result.summary.sessions == 2
    assert result.summary.days == 2


def test_two_sessions_on_one_day_count_once() -> None:
    sessions = [
        session(1, date(2026, 6, 6), entry(CZ, shots=30)),
        session(2, date(2026, 6, 6), entry(CZ, shots=20), entry(WALTHER, shots=10)),
        session(3, date(2026, 6, 20), entry(CZ, shots=5)),
    ]
    result = register(sessions, YEAR_2026)
    summary = result.summary
    assert len(result.rows) == 4
    assert summary.sessions == 3
    assert summary.days == 2  # 6 and 20 June
    assert summary.licence.days == 2
    by_name = {use.name: (use.days, use.shots) for use in summary.per_weapon}
    assert by_name == {"CZ 75": (2, 55), "Walther GSP": (1, 10)}
    assert summary.shots == 65


def test_the_window_holds_the_day_after_one_year_ago_up_to_the_period_end() -> None:
    """Period end 23-11-2026: the window is 24-11-2025 .. 23-11-2026."""
    sessions = [
        session(1, date(2025, 11, 23), entry()),  # exactly a year before: out
        session(2, date(2025, 11, 24), entry()),  # the first day in
        session(3, date(2026, 11, 23), entry()),  # the last day in
        session(4, date(2026, 11, 24), entry()),  # after the period
    ]
    licence = register(sessions, (date(2026, 1, 1), date(2026, 11, 23))).summary.licence
    assert (licence.window_start, licence.window_end) == (date(2025, 11, 24), date(2026, 11, 23))
    assert licence.days == 2
    assert licence.days_short == 16  # of 18


def test_the_window_counts_days_before_the_period_starts() -> None:
    """A register of one month still counts the licence over the whole rolling year."""
    sessions = [session(i, date(2026, m, 10), entry()) for i, m in enumerate(range(1, 12), 1)]
    result = register(sessions, (date(2026, 11, 1), date(2026, 11, 30)))
    assert len(result.rows) == 1
    assert result.summary.licence.days == 11
    assert history_start(date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 1)) == date(
        2025, 12, 1
    )


@pytest.mark.parametrize(
    ("period_end", "window_start"),
    [
        (date(2028, 2, 29), date(2027, 3, 1)),  # a year before 29-02 is 28-02: out
        (date(2029, 2, 28), date(2028, 2, 29)),  # 28-02-2028 is out, the leap day is in
        (date(2028, 3, 1), date(2027, 3, 2)),
    ],
)
def test_a_leap_year_window(period_end: date, window_start: date) -> None:
    days = [date(2027, 2, 28), date(2027, 3, 1), date(2027, 3, 2), date(2028, 2, 28)]
    days += [date(2028, 2, 29)]
    sessions = [session(i, day, entry()) for i, day in enumerate(days, 1)]
    now = datetime(2030, 1, 1, tzinfo=UTC)
    licence = register(sessions, (date(2027, 1, 1), period_end), now=now).summary.licence
    assert licence.window_start == window_start
    assert licence.days == len([d for d in days if window_start <= d <= period_end])


def test_a_session_just_after_midnight_belongs_to_the_new_local_day() -> None:
    """00:05 in Amsterdam on 1 January is 23:05 UTC on 31 December: the row, the period, the
    licence count and the year's matches all go by the shooter's own date."""
    just_after = dataclasses.replace(
        session(1, date(2026, 1, 1), entry(competition=KNSA)),
        started_at=datetime(2025, 12, 31, 23, 5, tzinfo=UTC),
    )
    now = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January in Amsterdam
    result = register([just_after], YEAR_2026, now=now)
    [row] = result.rows
    assert (row.day, row.start) == (date(2026, 1, 1), time(0, 5))
    licence = result.summary.licence
    assert licence.window_end == date(2026, 1, 1)  # today, not the period's 31 December
    assert licence.days == 1
    [year] = result.summary.competitions
    assert (year.year, year.knsa) == (2026, 1)
    assert result.header.generated_at.date() == date(2026, 1, 1)

    in_utc = register([just_after], YEAR_2026, now=now, timezone="UTC")
    assert in_utc.summary.licence.window_end == date(2025, 12, 31)  # not yet 2026 in UTC
    assert in_utc.summary.licence.days == 0
    assert in_utc.rows[0].start == time(23, 5)


def test_competitions_per_calendar_year_as_far_as_the_period_covers_it() -> None:
    sessions = [
        session(1, date(2025, 12, 6), entry(competition=CLUB)),
        session(2, date(2026, 2, 1), entry(competition=KNSA), entry(competition=KNSA)),
        session(3, date(2026, 2, 1), entry(competition=CLUB)),  # same day: one of each
        session(4, date(2026, 3, 1), entry(competition=KNSA)),
        session(5, date(2026, 4, 1), entry(competition=KNSA)),
        session(6, date(2026, 5, 1), entry()),
    ]
    last_year, this_year = register(
        sessions, (date(2025, 12, 2), date(2026, 12, 1))
    ).summary.competitions
    assert (last_year.year, last_year.first, last_year.last) == (
        2025,
        date(2025, 12, 2),
        date(2025, 12, 31),
    )
    assert not last_year.whole_year
    assert (last_year.knsa, last_year.club, last_year.met) == (0, 1, False)
    assert (this_year.knsa, this_year.club, this_year.met) == (3, 1, True)  # 3 KNSA suffice

    [whole] = register(sessions, YEAR_2026).summary.competitions
    assert whole.whole_year


def test_five_club_matches_also_meet_the_duty() -> None:
    sessions = [session(i, date(2026, i, 1), entry(competition=CLUB)) for i in range(1, 6)]
    [year] = register(sessions, YEAR_2026).summary.competitions
    assert (year.club, year.met) == (5, True)
    [short] = register(sessions[:4], YEAR_2026).summary.competitions
    assert short.met is False


def test_a_selection_narrows_the_rows_but_the_licence_counts_every_weapon() -> None:
    sessions = [
        session(1, date(2026, 1, 10), entry(CZ)),
        session(2, date(2026, 1, 17), entry(WALTHER)),
        session(3, date(2026, 1, 24), entry(CZ), entry(WALTHER, shots=7)),
    ]
    result = register(sessions, YEAR_2026, only={WALTHER})
    assert [(row.day, row.weapon) for row in result.rows] == [
        (date(2026, 1, 17), "Walther GSP"),
        (date(2026, 1, 24), "Walther GSP"),
    ]
    assert result.header.weapons == ("Walther GSP",)
    assert result.summary.shots == 57
    assert [use.name for use in result.summary.per_weapon] == ["Walther GSP"]
    assert result.summary.licence.days == 3  # the duty is the shooter's, not the weapon's
    assert result.summary.days == 3
    assert register(sessions, YEAR_2026).header.weapons is None  # all weapons


def test_licensed_weapons_without_use() -> None:
    weapons = arsenal(
        weapon(GLOCK, "Glock 17", serial_number="G-3"),  # licensed, never used: listed
        weapon(4, "Oude Colt", retired_on=date(2026, 6, 1)),  # retired in the period
        weapon(5, "Clubgeweer", licensed=False),  # the club's, not on the licence
        weapon(6, "Ruger", retired_on=date(2027, 3, 1)),  # retired only after the period
        dataclasses.replace(weapon(7, "Nieuw"), purchase_date=date(2027, 1, 5)),  # not yet bought
    )
    sessions = [session(1, date(2026, 3, 3), entry(CZ))]
    unused = register(sessions, YEAR_2026, weapons=weapons, only={CZ}).summary.unused_weapons
    # The Walther is licensed and unused too; the selection (CZ only) does not hide that.
    assert [(u.name, u.serial_number) for u in unused] == [
        ("Glock 17", "G-3"),
        ("Ruger", None),
        ("Walther GSP", "W-002"),
    ]


def test_the_longest_gap_between_shooting_days() -> None:
    days = [date(2026, 1, 1), date(2026, 1, 8), date(2026, 1, 8), date(2026, 3, 1)]
    days += [date(2026, 3, 2), date(2026, 4, 23)]
    sessions = [session(i, day, entry()) for i, day in enumerate(days, 1)]
    gap = register(sessions, YEAR_2026).summary.longest_gap
    # 8 Jan -> 1 Mar is 52 days; 2 Mar -> 23 Apr is 52 too: the first one is named.
    assert gap == Gap(date(2026, 1, 8), date(2026, 3, 1))
    assert gap.days == 52
    assert register(sessions[:1], YEAR_2026).summary.longest_gap is None


def test_a_session_without_entries_is_a_row_without_a_weapon() -> None:
    bare = dataclasses.replace(session(1, date(2026, 9, 9), club="SV De Roos"), notes="alleen")
    result = register([bare, session(2, date(2026, 9, 10), entry())], YEAR_2026)
    first, _ = result.rows
    assert (first.day, first.club, first.weapon, first.shots) == (
        date(2026, 9, 9),
        "SV De Roos",
        None,
        None,
    )
    assert result.summary.days == 2
    narrowed = register([bare], YEAR_2026, only={CZ})
    assert narrowed.rows == ()  # a weapon selection has no row for a day without weapons
    assert narrowed.summary.days == 1


def test_the_header_carries_the_profile_and_the_period() -> None:
    header = register([], (date(2026, 1, 1), date(2026, 6, 30))).header
    assert (header.name, header.knsa_number, header.club) == (
        "Anna de Vries",
        "K-123",
        "SV De Roos",
    )
    assert (header.licence_number, header.licence_expiry) == ("WM4-777", date(2027, 6, 30))
    assert (header.period_from, header.period_to) == (date(2026, 1, 1), date(2026, 6, 30))
    assert header.generated_at == datetime(2026, 12, 1, 13, tzinfo=header.generated_at.tzinfo)
    assert header.language is Language.NL


def test_an_empty_period_is_an_empty_register_not_an_error() -> None:
    summary = register([], YEAR_2026).summary
    assert (summary.days, summary.sessions, summary.rows, summary.shots) == (0, 0, 0, 0)
    assert summary.longest_gap is None
    assert summary.licence.days == 0


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        register([], (date(2026, 2, 1), date(2026, 1, 1)))
