"""Statistics of the shooter's own log (aimtrack.core.stats) and the licence counts
(aimtrack.core.licence): real numbers on hand-built sessions."""

from __future__ import annotations

import ast
import decimal
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from aimtrack.core import licence, stats
from aimtrack.core.licence import leaves_window_on, licence_progress, licence_window
from aimtrack.core.model import CompetitionType, SessionStatus
from aimtrack.core.stats import (
    Trend,
    compare_session,
    in_period,
    per_shot,
    saved_in_order,
    spread_of,
    totals,
    trend_of,
    weapon_stats,
)
from tests.helpers.factories import CZ, WALTHER, entry, session, weekly

TODAY = date(2026, 11, 23)
D = Decimal


# --- per shot, trend, spread -------------------------------------------------------------


@pytest.mark.parametrize(
    ("shots", "score", "expected"),
    [
        (50, "431", D("8.62")),
        (60, "545.5", D("9.09")),  # 9.0916...
        (8, "69", D("8.63")),  # 8.625 rounds half up, not to even
        (10_000, "109000.0", D("10.90")),
        (10_000, "0", D("0.00")),
        (1, "10.9", D("10.90")),
        (50, None, None),
    ],
)
def test_per_shot(shots: int, score: str | None, expected: Decimal | None) -> None:
    assert per_shot(entry(shots=shots, score=score)) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["8.0", "8.2", "8.4"], Trend.UP),
        (["9.1", "8.7", "8.3", "8.0"], Trend.DOWN),
        (["8.5", "8.5", "8.5", "8.5"], Trend.FLAT),
        (["8.50", "8.52", "8.49", "8.53"], Trend.FLAT),  # noise below the threshold
        (["8.00", "8.05", "8.10"], Trend.UP),  # exactly FLAT_SLOPE per result is a trend
        (["8.0", "9.0"], Trend.UNKNOWN),
        (["8.0"], Trend.UNKNOWN),
        ([], Trend.UNKNOWN),
    ],
)
def test_trend(values: list[str], expected: Trend) -> None:
    assert trend_of([D(v) for v in values]) is expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["8", "9"], D("0.50")),
        (["2", "4", "4", "4", "5", "5", "7", "9"], D("2.00")),  # population, not sample
        (["8.62", "8.62", "8.62"], D("0.00")),
        (["8.62"], None),
        ([], None),
    ],
)
def test_spread(values: list[str], expected: Decimal | None) -> None:
    assert spread_of([D(v) for v in values]) == expected


def test_results_do_not_depend_on_the_callers_decimal_context() -> None:
    history = weekly("420", "425", "430")
    current = session(9, date(2026, 6, 1), entry(score="431"))
    expected = compare_session(current, history)
    with decimal.localcontext() as context:
        context.prec = 3
        context.rounding = decimal.ROUND_DOWN
        assert compare_session(current, history) == expected
        assert per_shot(entry(shots=8, score="69")) == D("8.63")


# --- compare_session ---------------------------------------------------------------------


def test_comparison_against_earlier_sessions() -> None:
    history = weekly("420", "425", "430")  # 8.40, 8.50, 8.60 per shot
    current = session(9, date(2026, 6, 1), entry(score="431"))
    (found,) = compare_session(current, history)
    assert found.per_shot == D("8.62")
    assert found.previous_count == 3
    assert found.previous_mean == D("8.50")
    assert found.delta == D("0.12")
    assert found.best_before == D("8.60")
    assert found.personal_best
    assert found.trend is Trend.UP
    assert found.spread == D("0.09")  # of 8.40, 8.50, 8.60, 8.62


def test_window_limits_the_mean_but_not_the_personal_best() -> None:
    history = weekly("480", "400", "400", "400", "400", "400", "410")  # 9.60 first, long ago
    current = session(99, date(2026, 12, 1), entry(score="420"))
    (found,) = compare_session(current, history, window=5)
    assert found.previous_count == 5
    assert found.previous_mean == D("8.04")  # 400 x4 and 410 -> 8.00 x4, 8.20
    assert found.best_before == D("9.60")
    assert not found.personal_best
    assert found.delta == D("0.36")


def test_only_the_same_weapon_at_the_same_distance_is_compared() -> None:
    history = [
        session(1, date(2026, 3, 1), entry(CZ, 50, score="300")),
        session(2, date(2026, 3, 2), entry(WALTHER, 25, score="480")),
        session(3, date(2026, 3, 3), entry(CZ, 25, score="400")),
    ]
    current = session(4, date(2026, 3, 4), entry(CZ, 25, score="450"))
    (found,) = compare_session(current, history)
    assert found.previous_count == 1
    assert found.previous_mean == D("8.00")


def test_earlier_means_an_earlier_day_or_the_same_day_with_a_smaller_id() -> None:
    day = date(2026, 5, 10)
    history = [
        session(3, day, entry(score="400")),  # same day, saved before: earlier
        session(7, day, entry(score="500")),  # same day, saved after: not earlier
        session(1, day + timedelta(days=1), entry(score="450")),  # a later day, smaller id
        session(2, day - timedelta(days=1), entry(score="420")),
    ]
    current = session(5, day, entry(score="430"))
    (found,) = compare_session(current, history)
    assert found.previous_count == 2
    assert found.previous_mean == D("8.20")  # 8.40 (id 2), then 8.00 (id 3)
    assert found.best_before == D("8.40")


def test_the_session_itself_and_drafts_are_not_its_past() -> None:
    current = session(5, date(2026, 5, 10), entry(score="430"))
    history = [
        current,
        session(2, date(2026, 5, 1), entry(score="400"), status=SessionStatus.DRAFT),
    ]
    (found,) = compare_session(current, history)
    assert found.previous_count == 0
    assert found.previous_mean is None
    assert found.delta is None
    assert found.best_before is None
    assert not found.personal_best  # a first result is a baseline, not a record
    assert found.trend is Trend.UNKNOWN
    assert found.spread is None


def test_no_history() -> None:
    current = session(1, TODAY, entry(score="431"), entry(WALTHER, 10, 40, position=1))
    first, second = compare_session(current, [])
    assert (first.per_shot, first.previous_count, first.trend) == (D("8.62"), 0, Trend.UNKNOWN)
    assert (second.weapon_id, second.per_shot, second.delta) == (WALTHER, None, None)


def test_an_entry_without_score_still_sees_its_past() -> None:
    history = weekly("420", "425", "430")
    current = session(9, date(2026, 6, 1), entry(score=None))
    (found,) = compare_session(current, history)
    assert found.per_shot is None
    assert found.delta is None
    assert found.previous_mean == D("8.50")
    assert found.trend is Trend.UP  # the three earlier results alone
    assert found.spread == D("0.08")


def test_unscored_history_is_no_comparison() -> None:
    history = [session(1, date(2026, 3, 1), entry(score=None))]
    (found,) = compare_session(session(2, date(2026, 3, 2), entry(score="400")), history)
    assert found.previous_count == 0
    assert found.best_before is None


def test_all_equal_scores() -> None:
    history = weekly("431", "431", "431", "431")
    (found,) = compare_session(session(9, date(2026, 6, 1), entry(score="431")), history)
    assert found.delta == D("0.00")
    assert found.spread == D("0.00")
    assert found.trend is Trend.FLAT
    assert not found.personal_best  # equal to the best is not a new best


def test_entries_come_back_in_position_order_and_do_not_compare_with_each_other() -> None:
    current = session(
        1,
        TODAY,
        entry(score="450", position=1),
        entry(score="400", position=0),
    )
    first, second = compare_session(current, [])
    assert (first.score, second.score) == (D("400"), D("450"))
    assert first.previous_count == second.previous_count == 0


def test_huge_numbers() -> None:
    history = [session(1, date(2026, 1, 1), entry(shots=10_000, score="100000.0"))]
    current = session(2, date(2026, 1, 2), entry(shots=10_000, score="109000.0"))
    (found,) = compare_session(current, history)
    assert found.per_shot == D("10.90")
    assert found.previous_mean == D("10.00")
    assert found.delta == D("0.90")
    assert found.personal_best


@pytest.mark.parametrize("window", [0, -1])
def test_window_must_hold_a_result(window: int) -> None:
    with pytest.raises(ValueError, match="window"):
        compare_session(session(1, TODAY, entry(score="400")), [], window=window)
    with pytest.raises(ValueError, match="window"):
        weapon_stats(CZ, [], today=TODAY, window=window)


# --- licence -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "start"),
    [
        (date(2026, 11, 23), date(2025, 11, 24)),
        (date(2026, 1, 1), date(2025, 1, 2)),
        (date(2026, 12, 31), date(2026, 1, 1)),
        (date(2028, 2, 29), date(2027, 3, 1)),  # one year before 29 Feb is 28 Feb
        (date(2028, 2, 28), date(2027, 3, 1)),
        (date(2028, 3, 1), date(2027, 3, 2)),
        (date(2025, 2, 28), date(2024, 2, 29)),  # the window holds a 29 February
        (date(2025, 3, 1), date(2024, 3, 2)),
    ],
)
def test_licence_window(today: date, start: date) -> None:
    assert licence_window(today) == (start, today)


@pytest.mark.parametrize(
    ("shot_on", "counted"),
    [
        (date(2025, 11, 23), False),  # exactly 12 months ago: out
        (date(2025, 11, 24), True),  # the day after: in
        (date(2026, 11, 23), True),  # today
        (date(2026, 11, 24), False),  # tomorrow: not shot yet
    ],
)
def test_licence_window_boundaries(shot_on: date, counted: bool) -> None:
    progress = licence_progress([session(1, shot_on, entry())], today=TODAY)
    assert progress.days == int(counted)


def test_a_day_leaves_the_window_exactly_on_leaves_window_on() -> None:
    """For every day of seven years, leap days included: still counted the day before
    leaves_window_on, no longer on it."""
    day = date(2023, 1, 1)
    while day < date(2030, 1, 1):
        gone = leaves_window_on(day)
        start_before, _ = licence_window(gone - timedelta(days=1))
        start_on, _ = licence_window(gone)
        assert start_before <= day < start_on, day
        day += timedelta(days=1)
    assert leaves_window_on(date(2024, 2, 29)) == date(2025, 3, 1)


def test_licence_counts_distinct_days_not_sessions() -> None:
    history = [session(i, date(2026, 3, 1), entry()) for i in range(1, 4)]
    history += [session(10 + i, date(2026, 4, 1 + i), entry()) for i in range(17)]
    progress = licence_progress(history, today=TODAY)
    assert progress.days == 18
    assert progress.days_met
    assert progress.days_short == 0
    assert progress.oldest_day == date(2026, 3, 1)
    assert progress.oldest_leaves_on == date(2027, 3, 1)


def test_licence_short_of_days() -> None:
    history = [session(i, date(2026, 5, i), entry()) for i in range(1, 18)]
    history.append(session(99, date(2026, 5, 20), entry(), status=SessionStatus.DRAFT))
    progress = licence_progress(history, today=TODAY)
    assert (progress.days, progress.days_short, progress.days_met) == (17, 1, False)
    assert progress.required_days == 18


def test_licence_without_history() -> None:
    progress = licence_progress([], today=TODAY)
    assert (progress.days, progress.oldest_day, progress.oldest_leaves_on) == (0, None, None)
    assert progress.days_short == 18
    assert (progress.knsa_matches, progress.club_matches, progress.matches_met) == (0, 0, False)
    assert (progress.knsa_short, progress.club_short) == (3, 5)


def test_matches_are_distinct_days_of_this_calendar_year() -> None:
    knsa, club = CompetitionType.KNSA, CompetitionType.CLUB
    history = [
        # two KNSA entries on one day: one match day
        session(1, date(2026, 2, 1), entry(competition=knsa), entry(competition=knsa)),
        # two sessions on one day: still one match day
        session(2, date(2026, 3, 1), entry(competition=knsa)),
        session(3, date(2026, 3, 1), entry(competition=knsa)),
        # a KNSA and a club entry on one day count once each
        session(4, date(2026, 4, 1), entry(competition=knsa), entry(competition=club)),
        session(5, date(2025, 12, 31), entry(competition=knsa)),  # last year
        session(6, date(2026, 12, 1), entry(competition=knsa)),  # after today
        session(7, date(2026, 5, 1), entry()),  # practice
    ]
    progress = licence_progress(history, today=TODAY)
    assert (progress.year, progress.knsa_matches, progress.club_matches) == (2026, 3, 1)
    assert progress.matches_met
    assert progress.days == 5  # 2025-12-31 is inside the rolling window


@pytest.mark.parametrize(
    ("knsa", "club", "met"),
    [(3, 0, True), (0, 5, True), (2, 4, False), (0, 0, False), (2, 5, True)],
)
def test_either_competition_duty_suffices(knsa: int, club: int, met: bool) -> None:
    history = [
        session(i, date(2026, 1, 1) + timedelta(days=i), entry(competition=CompetitionType.KNSA))
        for i in range(knsa)
    ] + [
        session(
            100 + i, date(2026, 6, 1) + timedelta(days=i), entry(competition=CompetitionType.CLUB)
        )
        for i in range(club)
    ]
    assert licence_progress(history, today=TODAY).matches_met is met


def test_stats_reexports_the_licence_progress() -> None:
    assert stats.licence_progress is licence.licence_progress
    assert stats.LicenceProgress is licence.LicenceProgress


# --- weapon_stats ------------------------------------------------------------------------


def test_weapon_stats_per_distance() -> None:
    history = [
        session(1, date(2026, 1, 10), entry(CZ, 25, score="420"), entry(WALTHER, 10, 40)),
        session(2, date(2026, 2, 10), entry(CZ, 25, score="425"), entry(CZ, 50, 30, "240")),
        session(3, date(2026, 3, 10), entry(CZ, 25, score="430")),
        session(4, date(2026, 4, 10), entry(CZ, 25, shots=20, score=None)),
        session(5, date(2026, 4, 12), entry(WALTHER, 10, 40, "380")),
    ]
    found = weapon_stats(CZ, history, today=TODAY)
    assert (found.sessions, found.rounds) == (4, 50 * 3 + 20 + 30)
    assert (found.first_day, found.last_day) == (date(2026, 1, 10), date(2026, 4, 10))
    assert found.days_since_last == (TODAY - date(2026, 4, 10)).days
    near, far = found.distances  # most sessions first
    assert (near.distance_m, near.sessions, near.rounds, near.scored) == (25, 4, 170, 3)
    assert near.mean_per_shot == D("8.50")
    assert (near.best_per_shot, near.last_per_shot) == (D("8.60"), D("8.60"))
    assert near.trend is Trend.UP
    assert near.spread == D("0.08")
    assert (far.distance_m, far.sessions, far.scored, far.mean_per_shot) == (50, 1, 1, D("8.00"))
    assert (far.trend, far.spread) == (Trend.UNKNOWN, None)


def test_weapon_stats_window_is_recent_form_and_best_is_all_time() -> None:
    history = weekly("490", "400", "400", "400", "410", "420")
    near = weapon_stats(CZ, history, today=TODAY, window=3).distances[0]
    assert near.mean_per_shot == D("8.20")  # 8.00, 8.20, 8.40
    assert near.best_per_shot == D("9.80")
    assert near.trend is Trend.UP
    assert near.scored == 6


def test_weapon_stats_ignores_the_future_and_other_weapons() -> None:
    history = [
        session(1, date(2026, 11, 1), entry(CZ, score="400")),
        session(2, date(2026, 12, 24), entry(CZ, score="500")),  # after today
        session(3, date(2026, 11, 20), entry(WALTHER, score="480")),
    ]
    found = weapon_stats(CZ, history, today=TODAY)
    assert (found.sessions, found.rounds, found.last_day) == (1, 50, date(2026, 11, 1))
    assert found.days_since_last == 22
    assert found.distances[0].best_per_shot == D("8.00")


def test_weapon_stats_without_history() -> None:
    found = weapon_stats(CZ, [session(1, TODAY, entry(WALTHER))], today=TODAY)
    assert (found.sessions, found.rounds, found.distances) == (0, 0, ())
    assert (found.first_day, found.last_day, found.days_since_last) == (None, None, None)


def test_weapon_stats_unscored_and_huge() -> None:
    history = [
        session(1, date(2026, 1, 1), entry(CZ, 25, 10_000, "109000.0")),
        session(2, date(2026, 1, 2), entry(CZ, 100, 10_000, None)),
        session(3, date(2026, 1, 3), entry(CZ, 100, 10_000, None)),
    ]
    found = weapon_stats(CZ, history, today=TODAY)
    assert found.rounds == 30_000
    unscored, huge = found.distances
    assert (unscored.distance_m, unscored.scored, unscored.mean_per_shot) == (100, 0, None)
    assert (unscored.trend, unscored.spread, unscored.last_per_shot) == (Trend.UNKNOWN, None, None)
    assert (huge.mean_per_shot, huge.best_per_shot) == (D("10.90"), D("10.90"))


# --- totals and history helpers ----------------------------------------------------------


def test_totals_over_a_period() -> None:
    history = [
        session(1, date(2026, 1, 31), entry(CZ, shots=10)),  # before the period
        session(2, date(2026, 2, 1), entry(CZ, shots=50, score="400"), entry(WALTHER, 10, 40)),
        session(3, date(2026, 2, 1), entry(CZ, shots=30)),
        session(4, date(2026, 2, 28), entry(WALTHER, 10, 60, "550")),
        session(5, date(2026, 3, 1), entry(CZ, shots=10)),  # after the period
        session(6, date(2026, 2, 10), entry(CZ, shots=99), status=SessionStatus.DRAFT),
    ]
    found = totals(history, since=date(2026, 2, 1), until=date(2026, 2, 28))
    assert (found.sessions, found.days, found.rounds) == (3, 2, 180)
    walther, cz = found.weapons  # most rounds first
    assert (walther.weapon_id, walther.sessions, walther.days, walther.rounds) == (
        WALTHER,
        2,
        2,
        100,
    )
    assert (cz.weapon_id, cz.sessions, cz.days, cz.rounds, cz.scored) == (CZ, 2, 1, 80, 1)
    assert totals(history).sessions == 5
    assert totals([]).weapons == ()


def test_history_is_saved_sessions_once_in_the_order_shot() -> None:
    day = date(2026, 5, 1)
    old = session(4, day, entry(shots=1))
    new = session(4, day, entry(shots=2))
    history = [
        session(9, day - timedelta(days=3), entry()),
        new,
        session(2, day, entry()),
        old,
        session(1, day, entry(), status=SessionStatus.DRAFT),
    ]
    ordered = saved_in_order(history)
    assert [s.id for s in ordered] == [9, 2, 4]
    assert ordered[-1] is old  # the later copy wins
    assert [s.id for s in in_period(history, since=day)] == [2, 4]
    assert [s.id for s in in_period(history, until=day - timedelta(days=1))] == [9]


# --- purity ------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [stats, licence], ids=["stats", "licence"])
def test_core_statistics_import_only_the_standard_library_and_core(module: object) -> None:
    source = Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names or name.startswith("aimtrack.core"), name
