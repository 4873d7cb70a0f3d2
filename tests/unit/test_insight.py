"""What /stats shows and what a saved session is told (aimtrack.core.insight): every expected
figure below is worked out by hand, never by the code under test."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from aimtrack.core.insight import (
    MonthRounds,
    PersonalBest,
    ScorePoint,
    average_window,
    licence_timeline,
    moving_average,
    personal_bests,
    rounds_per_month,
    score_points,
    week_streak,
)
from aimtrack.core.model import SessionStatus, ShootingSession
from tests.helpers.factories import CZ, WALTHER, entry, session, weekly

D = Decimal
DRAFT = SessionStatus.DRAFT


# --- score over time ---------------------------------------------------------------------


def test_score_points_one_per_session_oldest_first() -> None:
    first = session(
        1,
        date(2026, 1, 5),
        entry(CZ, 25, 30, "270", position=0),
        entry(CZ, 25, 30, "280", position=1),  # with the 270: 550 from 60 = 9.1666...
        entry(CZ, 25, 20, None, position=2),  # unscored: neither its shots nor a score
        entry(CZ, 15, 30, "300", position=3),  # another distance
        entry(WALTHER, 25, 30, "290", position=4),  # another weapon
    )
    second = session(2, date(2026, 1, 12), entry(CZ, 25, 50, "431"))  # 8.62
    draft = session(3, date(2026, 1, 19), entry(CZ, 25, 50, "500"), status=DRAFT)
    unscored = session(4, date(2026, 1, 26), entry(CZ, 25, 50, None))
    history = [unscored, draft, second, first, second]  # any order; id 2 twice
    assert score_points(history, CZ, 25) == [
        ScorePoint(date(2026, 1, 5), 1, 60, D("550"), D("9.17")),
        ScorePoint(date(2026, 1, 12), 2, 50, D("431"), D("8.62")),
    ]


def test_score_points_of_another_distance_and_weapon() -> None:
    history = [
        session(1, date(2026, 1, 5), entry(CZ, 25, 50, "431"), entry(CZ, 15, 30, "255")),
        session(2, date(2026, 1, 6), entry(WALTHER, 10, 40, "372")),
    ]
    assert score_points(history, CZ, 15) == [
        ScorePoint(date(2026, 1, 5), 1, 30, D("255"), D("8.50"))
    ]
    assert score_points(history, WALTHER, 10) == [
        ScorePoint(date(2026, 1, 6), 2, 40, D("372"), D("9.30"))
    ]
    assert score_points(history, WALTHER, 25) == []
    assert score_points([], CZ, 25) == []


@pytest.mark.parametrize(
    ("since", "until", "ids"),
    [
        (None, None, [1, 2, 3, 4]),
        (date(2026, 1, 12), date(2026, 1, 19), [2, 3]),  # both ends inclusive
        (date(2026, 1, 13), None, [3, 4]),
        (None, date(2026, 1, 11), [1]),
        (date(2026, 1, 19), date(2026, 1, 19), [3]),
        (date(2026, 1, 20), date(2026, 1, 25), []),
    ],
)
def test_score_points_within_since_and_until(
    since: date | None, until: date | None, ids: list[int]
) -> None:
    history = weekly("420", "425", "430", "435")  # 5, 12, 19 and 26 January 2026
    found = score_points(history, CZ, 25, since=since, until=until)
    assert [p.session_id for p in found] == ids


@pytest.mark.parametrize(
    ("points", "window"),
    [
        (0, 3),
        (1, 3),
        (9, 3),
        (10, 5),
        (11, 5),
        (99, 5),
        (100, 10),
        (299, 10),
        (300, 20),
        (5000, 20),
    ],
)
def test_average_window(points: int, window: int) -> None:
    assert average_window(points) == window


VALUES = [D("8.00"), D("8.01"), D("8.02"), D("8.04"), D("8.10")]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # 16.01/2 = 8.005 and 16.03/2 = 8.015 round half up
        (2, [None, "8.01", "8.02", "8.03", "8.07"]),
        # 24.03/3 = 8.01, 24.07/3 = 8.0233, 24.16/3 = 8.0533
        (3, [None, None, "8.01", "8.02", "8.05"]),
        (5, [None, None, None, None, "8.03"]),  # 40.17/5 = 8.034
        (6, [None, None, None, None, None]),
        (1, ["8.00", "8.01", "8.02", "8.04", "8.10"]),
    ],
)
def test_moving_average(window: int, expected: list[str | None]) -> None:
    assert moving_average(VALUES, window) == [None if e is None else D(e) for e in expected]


def test_moving_average_rounds_to_cents_half_up() -> None:
    assert moving_average([D("8.625"), D("9.1666")], 1) == [D("8.63"), D("9.17")]
    assert moving_average([], 3) == []


@pytest.mark.parametrize("window", [0, -1])
def test_moving_average_refuses_a_window_below_one(window: int) -> None:
    with pytest.raises(ValueError, match="window must be at least 1"):
        moving_average(VALUES, window)


# --- rounds per month --------------------------------------------------------------------


def test_rounds_per_month_over_a_year_boundary() -> None:
    january = session(5, date(2026, 1, 31), entry(shots=40))
    history = [
        session(1, date(2025, 2, 28), entry(shots=50)),  # the month before the first: out
        session(2, date(2025, 3, 1), entry(shots=20)),
        session(3, date(2025, 12, 31), entry(shots=50, score="431"), entry(WALTHER, 10, 30)),
        january,
        january,  # the same id twice counts once
        session(6, date(2026, 1, 31), entry(shots=10)),  # the same day, another session
        session(7, date(2026, 2, 15), entry(shots=60)),  # today
        session(8, date(2026, 2, 16), entry(shots=100)),  # after today: not shot yet
        session(9, date(2026, 2, 1), entry(shots=100), status=DRAFT),
    ]
    found = rounds_per_month(history, today=date(2026, 2, 15))
    expected = [
        MonthRounds(date(2025, 3, 1), 20, 1),
        *(MonthRounds(date(2025, month, 1), 0, 0) for month in range(4, 12)),
        MonthRounds(date(2025, 12, 1), 80, 1),
        MonthRounds(date(2026, 1, 1), 50, 2),
        MonthRounds(date(2026, 2, 1), 60, 1),
    ]
    assert found == expected
    assert len(found) == 12


def test_rounds_per_month_without_sessions_is_all_zeros() -> None:
    found = rounds_per_month([], today=date(2026, 11, 23), months=3)
    assert found == [
        MonthRounds(date(2026, 9, 1), 0, 0),
        MonthRounds(date(2026, 10, 1), 0, 0),
        MonthRounds(date(2026, 11, 1), 0, 0),
    ]


def test_rounds_per_month_of_one_month_is_the_current_one() -> None:
    history = [
        session(1, date(2026, 10, 31), entry(shots=50)),
        session(2, date(2026, 11, 1), entry(shots=30)),
        session(3, date(2026, 11, 30), entry(shots=25)),  # later this month, after today
    ]
    assert rounds_per_month(history, today=date(2026, 11, 23), months=1) == [
        MonthRounds(date(2026, 11, 1), 30, 1)
    ]


def test_rounds_per_month_across_two_year_boundaries() -> None:
    found = rounds_per_month([], today=date(2026, 1, 10), months=14)
    assert found[0].month == date(2024, 12, 1)
    assert found[1].month == date(2025, 1, 1)
    assert found[-2].month == date(2025, 12, 1)
    assert found[-1].month == date(2026, 1, 1)


@pytest.mark.parametrize("months", [0, -1])
def test_rounds_per_month_refuses_fewer_than_one_month(months: int) -> None:
    with pytest.raises(ValueError, match="months must be at least 1"):
        rounds_per_month([], today=date(2026, 2, 15), months=months)


# --- licence timeline --------------------------------------------------------------------


def test_licence_timeline_has_one_value_per_day_up_to_today() -> None:
    today = date(2026, 11, 23)
    found = licence_timeline([], today=today)
    assert len(found) == 365
    assert found[0] == (date(2025, 11, 24), 0)
    assert found[-1] == (today, 0)
    assert [day for day, _ in found] == [date(2025, 11, 24) + timedelta(days=i) for i in range(365)]
    assert len(licence_timeline([], today=today, span_days=30)) == 30
    assert licence_timeline([], today=today, span_days=1) == [(today, 0)]


def test_licence_timeline_the_day_one_year_ago_drops_out() -> None:
    # on 23-11-2026 the window is 24-11-2025 .. 23-11-2026
    history = [
        session(1, date(2025, 11, 23), entry()),
        session(2, date(2025, 11, 24), entry()),
        session(3, date(2026, 6, 1), entry()),
    ]
    assert licence_timeline(history, today=date(2026, 11, 23), span_days=3) == [
        (date(2026, 11, 21), 3),
        (date(2026, 11, 22), 3),
        (date(2026, 11, 23), 2),
    ]
    assert licence_timeline(history, today=date(2026, 11, 24), span_days=1) == [
        (date(2026, 11, 24), 1)
    ]


def test_licence_timeline_around_29_february() -> None:
    # one year before 28-02-2028 and 29-02-2028 is 28-02-2027: both windows start on 1 March
    history = [session(1, date(2027, 2, 28), entry()), session(2, date(2027, 3, 1), entry())]
    assert licence_timeline(history, today=date(2028, 3, 1), span_days=4) == [
        (date(2028, 2, 27), 2),
        (date(2028, 2, 28), 1),
        (date(2028, 2, 29), 1),
        (date(2028, 3, 1), 0),
    ]


def test_licence_timeline_a_29_february_leaves_on_1_march() -> None:
    history = [session(1, date(2028, 2, 29), entry())]
    assert licence_timeline(history, today=date(2029, 3, 1), span_days=2) == [
        (date(2029, 2, 28), 1),
        (date(2029, 3, 1), 0),
    ]


def test_licence_timeline_counts_distinct_saved_days_up_to_today() -> None:
    day = date(2026, 11, 20)
    twice = session(3, day, entry())
    history = [
        session(1, day, entry()),
        session(2, day, entry(WALTHER, 10, 40)),  # a second session that day: one day
        twice,
        twice,
        session(4, date(2026, 11, 21), entry(), status=DRAFT),
        session(5, date(2026, 11, 24), entry()),  # after today
    ]
    assert licence_timeline(history, today=date(2026, 11, 23), span_days=4) == [
        (date(2026, 11, 20), 1),
        (date(2026, 11, 21), 1),
        (date(2026, 11, 22), 1),
        (date(2026, 11, 23), 1),
    ]


def test_licence_timeline_of_eighteen_days() -> None:
    history = [session(i, date(2026, 1, 1) + timedelta(days=i), entry()) for i in range(18)]
    found = dict(licence_timeline(history, today=date(2026, 12, 31)))
    # shot on 1 .. 18 January 2026; the timeline runs from 1 January to 31 December
    assert found[date(2026, 1, 1)] == 1
    assert found[date(2026, 1, 10)] == 10
    assert found[date(2026, 1, 18)] == 18
    assert found[date(2026, 12, 31)] == 18


@pytest.mark.parametrize("span", [0, -5])
def test_licence_timeline_refuses_an_empty_span(span: int) -> None:
    with pytest.raises(ValueError, match="span_days must be at least 1"):
        licence_timeline([], today=date(2026, 11, 23), span_days=span)


# --- personal bests ----------------------------------------------------------------------


def test_the_first_result_ever_is_no_record() -> None:
    current = session(1, date(2026, 11, 23), entry(CZ, 25, 50, "431"))
    assert personal_bests(current, [current]) == []
    assert personal_bests(current, []) == []


def test_beating_the_previous_best_per_shot() -> None:
    history = [
        session(1, date(2026, 11, 2), entry(CZ, 25, 50, "425")),  # 8.50, the best so far
        session(2, date(2026, 11, 9), entry(CZ, 25, 30, "250")),  # 8.33
        session(3, date(2026, 11, 12), entry(CZ, 25, 50, "490"), status=DRAFT),  # not a fact
    ]
    current = session(4, date(2026, 11, 23), entry(CZ, 25, 50, "431"))  # 8.62
    found = personal_bests(current, [current, *history, current])  # itself is not its past
    assert found == [PersonalBest(CZ, 25, 50, D("431"), D("8.62"), D("8.50"))]


def test_a_lower_per_shot_from_a_higher_score_is_no_record() -> None:
    history = [session(1, date(2026, 11, 2), entry(CZ, 25, 30, "270"))]  # 9.00
    current = session(2, date(2026, 11, 23), entry(CZ, 25, 50, "440"))  # 8.80, more points
    assert personal_bests(current, history) == []


@pytest.mark.parametrize(
    ("before", "now"),
    [
        (("50", "425"), ("50", "425")),  # the very same result
        (("30", "256"), ("50", "426.5")),  # 8.5333 and 8.53
        (("30", "256"), ("50", "426.7")),  # 8.5333 and 8.534: higher, but not in the figures
    ],
)
def test_equal_to_cents_is_no_record(before: tuple[str, str], now: tuple[str, str]) -> None:
    history = [session(1, date(2026, 11, 2), entry(CZ, 25, int(before[0]), before[1]))]
    current = session(2, date(2026, 11, 23), entry(CZ, 25, int(now[0]), now[1]))
    assert personal_bests(current, history) == []


def test_one_cent_more_is_a_record() -> None:
    history = [session(1, date(2026, 11, 2), entry(CZ, 25, 30, "256"))]  # 8.5333 -> 8.53
    current = session(2, date(2026, 11, 23), entry(CZ, 25, 50, "427"))  # 8.54
    assert personal_bests(current, history) == [
        PersonalBest(CZ, 25, 50, D("427"), D("8.54"), D("8.53"))
    ]


def test_an_old_session_typed_in_late_is_no_record_against_a_later_one() -> None:
    history = [
        session(1, date(2025, 1, 10), entry(CZ, 25, 50, "400")),  # 8.00
        session(2, date(2026, 1, 5), entry(CZ, 25, 50, "440")),  # 8.80, shot later
    ]
    late = session(3, date(2025, 6, 1), entry(CZ, 25, 50, "431"))  # 8.62, saved last
    assert personal_bests(late, history) == []


def test_records_are_per_weapon_and_distance() -> None:
    history = [
        session(
            1,
            date(2026, 11, 2),
            entry(CZ, 25, 50, "450", position=0),  # 9.00
            entry(WALTHER, 25, 50, "400", position=1),  # 8.00
            entry(CZ, 15, 50, "480", position=2),  # 9.60
        )
    ]
    current = session(
        2,
        date(2026, 11, 23),
        entry(CZ, 25, 50, "440", position=0),  # 8.80: below the CZ's 9.00 at 25 m
        entry(WALTHER, 25, 50, "420", position=1),  # 8.40 beats 8.00
        entry(CZ, 15, 50, "490", position=2),  # 9.80 beats 9.60
        entry(CZ, 10, 30, "300", position=3),  # first at 10 m: a baseline
    )
    found = sorted(personal_bests(current, history), key=lambda b: (b.weapon_id, b.distance_m))
    assert found == [
        PersonalBest(CZ, 15, 50, D("490"), D("9.80"), D("9.60")),
        PersonalBest(WALTHER, 25, 50, D("420"), D("8.40"), D("8.00")),
    ]


def test_the_best_entry_of_the_session_is_the_one_reported() -> None:
    history = [session(1, date(2026, 11, 2), entry(CZ, 25, 30, "270"))]  # 9.00
    current = session(
        2,
        date(2026, 11, 23),
        entry(CZ, 25, 30, "275", position=0),  # 9.17
        entry(CZ, 25, 50, "460", position=1),  # 9.20, the best here
        entry(CZ, 25, 20, None, position=2),
        entry(CZ, 25, 10, "91", position=3),  # 9.10
    )
    assert personal_bests(current, history) == [
        PersonalBest(CZ, 25, 50, D("460"), D("9.20"), D("9.00"))
    ]


def test_unscored_entries_are_ignored() -> None:
    unscored_before = [session(1, date(2026, 11, 2), entry(CZ, 25, 50, None))]
    scored_now = session(2, date(2026, 11, 23), entry(CZ, 25, 50, "431"))
    assert personal_bests(scored_now, unscored_before) == []  # still the first result

    scored_before = [session(1, date(2026, 11, 2), entry(CZ, 25, 50, "425"))]
    unscored_now = session(2, date(2026, 11, 23), entry(CZ, 25, 50, None))
    assert personal_bests(unscored_now, scored_before) == []


# --- week streak -------------------------------------------------------------------------

WEDNESDAY = date(2026, 11, 25)  # this week: Monday 23 .. Sunday 29 November 2026


def _on(*days: date) -> list[ShootingSession]:
    return [session(i + 1, day, entry()) for i, day in enumerate(days)]


@pytest.mark.parametrize(
    ("days", "today", "streak"),
    [
        ((), WEDNESDAY, 0),
        ((date(2026, 11, 24), date(2026, 11, 20), date(2026, 11, 9)), WEDNESDAY, 3),
        # no session in the week of 9 November: the streak stops there
        (
            (date(2026, 11, 24), date(2026, 11, 20), date(2026, 11, 6), date(2026, 10, 30)),
            WEDNESDAY,
            2,
        ),
        # nothing yet this week, last Friday and the Friday before: still alive
        ((date(2026, 11, 20), date(2026, 11, 13)), WEDNESDAY, 2),
        ((date(2026, 11, 20),), WEDNESDAY, 1),
        # neither this week nor last week
        ((date(2026, 11, 13), date(2026, 11, 6)), WEDNESDAY, 0),
        # Monday and Sunday are one ISO week
        ((date(2026, 11, 16), date(2026, 11, 22)), date(2026, 11, 23), 1),
        ((date(2026, 11, 23), date(2026, 11, 22)), date(2026, 11, 23), 2),
        ((date(2026, 11, 23),), date(2026, 11, 29), 1),
        # Sunday 15 and Monday 16 are two weeks
        ((date(2026, 11, 15), date(2026, 11, 16)), date(2026, 11, 17), 2),
        # a session later this week, after today, is not shot yet
        ((date(2026, 11, 27), date(2026, 11, 20)), WEDNESDAY, 1),
        ((date(2026, 12, 2),), WEDNESDAY, 0),
        # several sessions in one week are one week
        ((date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)), WEDNESDAY, 1),
        # over a year boundary
        ((date(2026, 1, 1), date(2025, 12, 28), date(2025, 12, 22)), date(2026, 1, 2), 2),
    ],
)
def test_week_streak(days: tuple[date, ...], today: date, streak: int) -> None:
    assert week_streak(_on(*days), today=today) == streak


def test_week_streak_skips_drafts() -> None:
    history = [
        session(1, date(2026, 11, 24), entry(), status=DRAFT),
        session(2, date(2026, 11, 20), entry()),
        session(3, date(2026, 11, 13), entry()),
    ]
    assert week_streak(history, today=WEDNESDAY) == 2  # counted from last week
