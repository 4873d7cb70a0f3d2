"""The quick-entry parser: one free-text message becomes entries, problems and leftovers."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aimtrack.bot.quick import (
    Problem,
    QuickEntry,
    QuickLine,
    looks_like_quick_entry,
    parse_quick,
)
from aimtrack.core import limits
from aimtrack.core.model import Weapon
from tests.helpers.factories import weapon

TODAY = date(2026, 3, 15)
P = Problem


CZ = weapon(1, "CZ 75 Shadow 2", nickname="cz")
LG = weapon(2, "Walther LG400")
GLOCK17 = weapon(3, "Glock 17")
GLOCK19 = weapon(4, "Glock 19")
OLD_SIG = weapon(5, "Sig P226", retired_on=date(2025, 6, 1))
ARMOURY = (CZ, LG, GLOCK17, OLD_SIG)


def one(text: str, weapons: tuple[Weapon, ...] = ARMOURY, today: date = TODAY) -> QuickLine:
    entry = parse_quick(text, weapons, today=today)
    assert len(entry.lines) == 1, entry
    return entry.lines[0]


def fields(line: QuickLine) -> tuple[Any, ...]:
    return line.weapon_id, line.distance_m, line.shots, line.score, line.problems


# --- the examples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CZ 75 25m 50 schoten 431", (1, 25, 50, Decimal("431"), ())),
        ("cz75 25 m 50 sch 431", (1, 25, 50, Decimal("431"), ())),
        ("cz 25 meter 30 shots 280,5", (1, 25, 30, Decimal("280.5"), ())),
        ("cz 25 meters 30 schots 280.5", (1, 25, 30, Decimal("280.5"), ())),
        ("cz 25mtr 50x 431", (1, 25, 50, Decimal("431"), ())),
        ("cz 25m 50 sch. 431.", (1, 25, 50, Decimal("431"), ())),
        ("cz 25m 50 sch score 431", (1, 25, 50, Decimal("431"), ())),
        ("cz 25m 50 sch punten 431", (1, 25, 50, Decimal("431"), ())),
        ("cz 25m 50 sch pnt: 431", (1, 25, 50, Decimal("431"), ())),
        ("cz 25m 50 sch pt 431", (1, 25, 50, Decimal("431"), ())),
        ("cz 25m 50 sch 431 pnt", (1, 25, 50, Decimal("431"), ())),
        ("cz 25m 50 sch 431 punten", (1, 25, 50, Decimal("431"), ())),
        ("cz 25m 50 sch 431 points", (1, 25, 50, Decimal("431"), ())),
        ("cz 25m 50 sch 431 pts", (1, 25, 50, Decimal("431"), ())),
        ("cz 25m 50/431", (1, 25, 50, Decimal("431"), ())),
        ("cz 431 pnt 50 sch 25m", (1, 25, 50, Decimal("431"), ())),
        ("glock 25m 20 sch", (3, 25, 20, None, ())),
        ("Glock 17 25m 20 sch 180", (3, 25, 20, Decimal("180"), ())),
        ("walther lg 10m 40 sch 372", (2, 10, 40, Decimal("372"), ())),
        ("walther lg400 10m 40 sch 372", (2, 10, 40, Decimal("372"), ())),
        ("lg 400 10m 40 sch 372", (2, 10, 40, Decimal("372"), ())),
        ("shadow 25m 10 sch", (1, 25, 10, None, ())),
        ("cz 25m 10 sch 109", (1, 25, 10, Decimal("109"), ())),
        ("cz 25m 10 sch 0", (1, 25, 10, Decimal("0"), ())),
        ("CZ-75 25m 10 sch", (1, 25, 10, None, ())),
        ("cz 25m 10 sch 95,0", (1, 25, 10, Decimal("95"), ())),
    ],
)
def test_a_line_is_read(text: str, expected: tuple[Any, ...]) -> None:
    assert fields(one(text)) == expected


def test_the_first_example_in_full() -> None:
    entry = parse_quick("CZ 75 25m 50 schoten 431", ARMOURY, today=TODAY)
    assert entry == QuickEntry(
        occurred_on=TODAY,
        date_problem=None,
        lines=(
            QuickLine(
                text="CZ 75 25m 50 schoten 431",
                weapon_text="CZ 75",
                weapon_id=1,
                candidates=(),
                distance_m=25,
                shots=50,
                score=Decimal("431.0"),
                leftovers=(),
                problems=(),
            ),
        ),
    )
    assert entry.ok


def test_two_entries_in_one_message() -> None:
    entry = parse_quick("walther lg 10m 40 sch 372; glock 25m 20 sch", ARMOURY, today=TODAY)
    assert [fields(line) for line in entry.lines] == [
        (2, 10, 40, Decimal("372"), ()),
        (3, 25, 20, None, ()),
    ]
    assert [line.text for line in entry.lines] == ["walther lg 10m 40 sch 372", "glock 25m 20 sch"]
    assert [line.weapon_text for line in entry.lines] == ["walther lg", "glock"]
    assert entry.ok


def test_yesterday_with_a_decimal_comma() -> None:
    entry = parse_quick("gisteren cz 25 meter 30 shots 280,5", ARMOURY, today=TODAY)
    assert entry.occurred_on == date(2026, 3, 14)
    assert entry.date_problem is None
    assert len(entry.lines) == 1
    assert entry.lines[0].text == "gisteren cz 25 meter 30 shots 280,5"
    assert fields(entry.lines[0]) == (1, 25, 30, Decimal("280.5"), ())
    assert entry.lines[0].leftovers == ()


# --- separators ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "cz 25m 30 sch 280,5; glock 25m 20 sch 180,5",
        "cz 25m 30 sch 280,5, glock 25m 20 sch 180,5",
        "cz 25m 30 sch 280,5,glock 25m 20 sch 180,5",
        "cz 25m 30 sch 280,5\nglock 25m 20 sch 180,5",
        "cz 25m 30 sch 280,5\r\n\r\nglock 25m 20 sch 180,5;;",
        "gisteren\ncz 25m 30 sch 280,5\n glock 25m 20 sch 180,5 ",
    ],
)
def test_separators_and_the_decimal_comma(text: str) -> None:
    entry = parse_quick(text, ARMOURY, today=TODAY)
    assert [fields(line) for line in entry.lines] == [
        (1, 25, 30, Decimal("280.5"), ()),
        (3, 25, 20, Decimal("180.5"), ()),
    ]


def test_a_comma_between_digits_with_two_decimals_is_a_score_problem() -> None:
    line = one("cz 25m 50 sch 50,431")
    assert fields(line) == (1, 25, 50, None, (P.SCORE_RANGE,))
    assert line.leftovers == ("50,431",)


# --- unlabelled numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "leftovers"),
    [
        ("cz 25m 50 431", (1, 25, None, None, (P.NO_SHOTS, P.AMBIGUOUS_NUMBERS)), ("50", "431")),
        ("cz 25m 50", (1, 25, None, None, (P.NO_SHOTS, P.AMBIGUOUS_NUMBERS)), ("50",)),
        ("cz 25m 280,5", (1, 25, None, Decimal("280.5"), (P.NO_SHOTS,)), ()),
        (
            "cz 25m 50 sch 431 12",
            (1, 25, 50, None, (P.AMBIGUOUS_NUMBERS,)),
            ("431", "12"),
        ),
        (
            "cz 25m 50 sch score 431 12",
            (1, 25, 50, Decimal("431"), (P.AMBIGUOUS_NUMBERS,)),
            ("12",),
        ),
        (
            "cz 25 50 sch 431",
            (1, None, 50, None, (P.NO_DISTANCE, P.AMBIGUOUS_NUMBERS)),
            ("25", "431"),
        ),
        (
            "cz 25m 50m 10 sch",
            (1, None, 10, None, (P.AMBIGUOUS_NUMBERS,)),
            ("25m", "50m"),
        ),
        (
            "cz 25m 10 sch 20 sch",
            (1, 25, None, None, (P.AMBIGUOUS_NUMBERS,)),
            ("10 sch", "20 sch"),
        ),
        ("cz 10/95 25m", (1, 25, 10, Decimal("95"), ()), ()),
    ],
)
def test_numbers_are_never_guessed(
    text: str, expected: tuple[Any, ...], leftovers: tuple[str, ...]
) -> None:
    line = one(text)
    assert fields(line) == expected
    assert line.leftovers == leftovers


def test_looks_like_quick_entry() -> None:
    assert looks_like_quick_entry("cz 25m")
    assert looks_like_quick_entry("50 schoten")
    assert looks_like_quick_entry("glock 20")
    assert looks_like_quick_entry("25 m")
    assert not looks_like_quick_entry("hallo")
    assert not looks_like_quick_entry("hoe gaat het?")
    assert not looks_like_quick_entry("")
    assert not looks_like_quick_entry("42")
    assert not looks_like_quick_entry("🎯🎯🎯")


# --- weapons ------------------------------------------------------------------------------


def test_two_glocks_make_glock_ambiguous() -> None:
    glocks = (GLOCK17, GLOCK19)
    line = one("glock 25m 20 sch", glocks)
    assert (line.weapon_text, line.weapon_id, line.candidates) == ("glock", None, (3, 4))
    assert line.problems == (P.AMBIGUOUS_WEAPON,)
    assert (line.distance_m, line.shots) == (25, 20)
    assert one("glock 17 25m 20 sch", glocks).weapon_id == 3
    assert one("glock19 25m 20 sch", glocks).weapon_id == 4


def test_a_nickname_that_is_the_whole_text_wins() -> None:
    cz457 = weapon(6, "CZ 457")
    line = one("cz 50m 10 sch", (CZ, cz457))
    assert (line.weapon_id, line.candidates, line.problems) == (1, (), ())
    assert one("cz 457 50m 10 sch", (CZ, cz457)).weapon_id == 6


@pytest.mark.parametrize(
    ("text", "weapon_text", "problems"),
    [
        ("sig 25m 50 sch", "sig", (P.UNKNOWN_WEAPON,)),  # the only Sig is retired
        ("sig p226 25m 50 sch", "sig p226", (P.UNKNOWN_WEAPON,)),
        ("beretta 92 25m 50 sch", "beretta 92", (P.UNKNOWN_WEAPON,)),
        ("25m 50 sch", None, (P.NO_WEAPON,)),
        ("50 sch 25m glock", None, (P.NO_WEAPON,)),
    ],
)
def test_unknown_and_missing_weapons(
    text: str, weapon_text: str | None, problems: tuple[Problem, ...]
) -> None:
    line = one(text)
    assert (line.weapon_text, line.weapon_id, line.candidates) == (weapon_text, None, ())
    assert line.problems == problems
    assert (line.distance_m, line.shots) == (25, 50)


def test_the_only_weapon_is_not_guessed() -> None:
    line = one("25m 50 sch 431", (CZ,))
    assert (line.weapon_id, line.problems) == (None, (P.NO_WEAPON,))


def test_no_active_weapons_at_all() -> None:
    line = one("cz 25m 50 sch", (OLD_SIG,))
    assert (line.weapon_text, line.weapon_id, line.problems) == ("cz", None, (P.UNKNOWN_WEAPON,))


def test_a_typo_still_finds_the_weapon() -> None:
    assert one("glok 25m 20 sch").weapon_id == 3
    assert one("walter lg 10m 40 sch").weapon_id == 2


def test_a_number_in_the_text_not_in_the_name_is_reported() -> None:
    line = one("glock 19 25m 20 sch 180")  # only a Glock 17 is active
    assert (line.weapon_text, line.weapon_id) == ("glock", 3)
    assert line.problems == (P.AMBIGUOUS_NUMBERS,)
    assert line.leftovers == ("19", "180")


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "today", "occurred_on", "problem"),
    [
        ("vandaag", TODAY, TODAY, None),
        ("today", TODAY, TODAY, None),
        ("gisteren", TODAY, date(2026, 3, 14), None),
        ("Yesterday", TODAY, date(2026, 3, 14), None),
        ("eergisteren", TODAY, date(2026, 3, 13), None),
        ("day before yesterday", TODAY, date(2026, 3, 13), None),
        ("gisteren", date(2026, 1, 1), date(2025, 12, 31), None),
        ("21-11", TODAY, date(2025, 11, 21), None),
        ("21/11", TODAY, date(2025, 11, 21), None),
        ("14-3", TODAY, date(2026, 3, 14), None),
        ("15-03", TODAY, TODAY, None),
        ("21-11-2025", TODAY, date(2025, 11, 21), None),
        ("2025-11-21", TODAY, date(2025, 11, 21), None),
        ("21-11-25", TODAY, date(2025, 11, 21), None),
        ("31-12", date(2026, 1, 2), date(2025, 12, 31), None),
        ("29-02", date(2028, 3, 1), date(2028, 2, 29), None),
        ("29-02-2024", TODAY, date(2024, 2, 29), None),
        ("29-02", TODAY, TODAY, P.BAD_DATE),
        ("31-02", TODAY, TODAY, P.BAD_DATE),
        ("2026-13-01", TODAY, TODAY, P.BAD_DATE),
        ("21-11-2026", TODAY, date(2026, 11, 21), P.FUTURE_DATE),
        ("21-11-26", TODAY, date(2026, 11, 21), P.FUTURE_DATE),
        ("2027-01-01", TODAY, date(2027, 1, 1), P.FUTURE_DATE),
        ("gisteren 14-03", TODAY, date(2026, 3, 14), None),
        ("gisteren 13-03", TODAY, TODAY, P.BAD_DATE),
    ],
)
def test_dates(words: str, today: date, occurred_on: date, problem: Problem | None) -> None:
    entry = parse_quick(f"{words} cz 25m 50 sch", ARMOURY, today=today)
    assert (entry.occurred_on, entry.date_problem) == (occurred_on, problem)
    assert [fields(line) for line in entry.lines] == [(1, 25, 50, None, ())]
    assert entry.lines[0].leftovers == ()
    assert entry.ok is (problem is None)


def test_a_date_anywhere_applies_to_the_whole_session() -> None:
    entry = parse_quick("cz 25m 50 sch; glock 25m 20 sch gisteren", ARMOURY, today=TODAY)
    assert entry.occurred_on == date(2026, 3, 14)
    assert [line.weapon_id for line in entry.lines] == [1, 3]
    assert entry.lines[1].text == "glock 25m 20 sch gisteren"
    assert entry.ok


def test_without_a_date_the_session_is_today() -> None:
    entry = parse_quick("cz 25m 50 sch", ARMOURY, today=TODAY)
    assert (entry.occurred_on, entry.date_problem) == (TODAY, None)


# --- ranges -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "leftovers"),
    [
        ("cz 0m 50 sch", (1, None, 50, None, (P.DISTANCE_RANGE,)), ("0m",)),
        ("cz 2001 m 50 sch", (1, None, 50, None, (P.DISTANCE_RANGE,)), ("2001 m",)),
        ("cz 2000m 50 sch", (1, 2000, 50, None, ()), ()),
        ("cz 1m 50 sch", (1, 1, 50, None, ()), ()),
        ("cz 25,5m 50 sch", (1, None, 50, None, (P.DISTANCE_RANGE,)), ("25,5m",)),
        ("cz 99999999999999999999m 5 sch", (1, None, 5, None, (P.DISTANCE_RANGE,)), None),
        ("cz 25m 0 sch", (1, 25, None, None, (P.SHOTS_RANGE,)), ("0 sch",)),
        ("cz 25m 10001 sch", (1, 25, None, None, (P.SHOTS_RANGE,)), ("10001 sch",)),
        ("cz 25m 10000 sch", (1, 25, 10000, None, ()), ()),
        ("cz 25m 10 sch 110", (1, 25, 10, None, (P.SCORE_RANGE,)), ("110",)),
        ("cz 25m 10 sch 109,0", (1, 25, 10, Decimal("109"), ()), ()),
        ("cz 25m 10 sch 95,55", (1, 25, 10, None, (P.SCORE_RANGE,)), ("95,55",)),
        ("cz 25m 10 sch 9" + "9" * 60, (1, 25, 10, None, (P.SCORE_RANGE,)), None),
    ],
)
def test_out_of_range_values_are_flagged_and_kept_as_text(
    text: str, expected: tuple[Any, ...], leftovers: tuple[str, ...] | None
) -> None:
    line = one(text)
    assert fields(line) == expected
    if leftovers is not None:
        assert line.leftovers == leftovers
    else:
        assert len(line.leftovers) == 1


def test_every_problem_is_covered() -> None:
    seen = {
        *one("25m 50 sch").problems,
        *one("sig 25m 50 sch").problems,
        *one("glock 25m", (GLOCK17, GLOCK19)).problems,
        *one("cz 50 431").problems,
        *one("cz 0m 0 sch 1").problems,
        *one("cz 25m 1 sch 11").problems,
        parse_quick("31-02 cz", ARMOURY, today=TODAY).date_problem,
        parse_quick("1-1-2030 cz", ARMOURY, today=TODAY).date_problem,
    }
    assert seen == set(Problem)


# --- leftovers, odd input -----------------------------------------------------------------


def test_words_not_understood_are_kept_in_order() -> None:
    line = one("CZ 75 25m 50 sch 431 wind van links")
    assert fields(line) == (1, 25, 50, Decimal("431"), ())
    assert line.leftovers == ("wind", "van", "links")


def test_emoji_are_leftovers_not_crashes() -> None:
    line = one("🎯 cz 25m 50 sch 431 👍🏻 top!")
    assert fields(line) == (1, 25, 50, Decimal("431"), ())
    assert line.leftovers == ("🎯", "👍🏻", "top")
    # Digits outside 0-9 are not numbers here: kept as text, never read as a value.
    line = one("👩‍👩‍👧 ٣٤ m 𝟓𝟎")
    assert (line.weapon_text, line.distance_m, line.shots) == ("m", None, None)
    assert line.leftovers == ("👩‍👩‍👧", "٣٤", "𝟓𝟎")
    assert line.problems == (P.UNKNOWN_WEAPON, P.NO_DISTANCE, P.NO_SHOTS)


def test_nothing_to_parse() -> None:
    for text in ("", "   ", ";;\n,", "gisteren"):
        entry = parse_quick(text, ARMOURY, today=TODAY)
        assert entry.lines == ()
        assert not entry.ok


def test_a_long_message_is_capped_and_the_rest_kept() -> None:
    text = "cz 25m 50 sch 431 " + "wind " * 2000  # 10,018 characters
    started = time.perf_counter()
    entry = parse_quick(text, ARMOURY, today=TODAY)
    assert time.perf_counter() - started < 2
    (line,) = entry.lines
    assert fields(line) == (1, 25, 50, Decimal("431"), ())
    assert line.leftovers[-1].startswith("wind wind")
    words = " ".join(line.leftovers).split()
    assert words == ["wind"] * 2000


def test_more_than_twenty_lines_are_capped() -> None:
    text = "\n".join(f"cz 25m {n} sch" for n in range(1, 31))
    entry = parse_quick(text, ARMOURY, today=TODAY)
    assert [line.shots for line in entry.lines] == list(range(1, 21))
    rest = entry.lines[-1].leftovers
    assert rest == ("\n".join(f"cz 25m {n} sch" for n in range(21, 31)),)


def test_a_long_run_without_spaces_does_not_crash() -> None:
    entry = parse_quick("9" * 10_000, ARMOURY, today=TODAY)
    (line,) = entry.lines
    assert line.leftovers == ("9" * 2000, "9" * 8000)
    assert line.problems == (P.NO_WEAPON, P.NO_DISTANCE, P.NO_SHOTS, P.AMBIGUOUS_NUMBERS)


# --- properties ---------------------------------------------------------------------------

PIECES = (
    *("cz", "75", "glock", "17", "25m", "50", "sch", "x", "/", "431", "280,5", ",", ";", "\n"),
    *("gisteren", "21-11", "29-02", "score", "pnt", "99999999999m", "0", "🎯", " ", "."),
)
QUICKISH = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@settings(max_examples=200)
@given(st.one_of(st.text(), QUICKISH))
def test_parse_quick_never_raises_and_keeps_numbers_in_range(text: str) -> None:
    entry = parse_quick(text, (CZ, GLOCK17, GLOCK19, OLD_SIG), today=TODAY)
    assert (entry.date_problem == P.FUTURE_DATE) is (entry.occurred_on > TODAY)
    assert len(entry.lines) <= 20
    for line in entry.lines:
        if line.distance_m is not None:
            assert limits.MIN_DISTANCE_M <= line.distance_m <= limits.MAX_DISTANCE_M
        if line.shots is not None:
            assert 1 <= line.shots <= limits.MAX_SHOTS
        if line.score is not None:
            shots = line.shots or limits.MAX_SHOTS
            assert 0 <= line.score <= Decimal(str(limits.MAX_SCORE_PER_SHOT)) * shots
            assert line.score == line.score.quantize(Decimal("0.1"))
        assert (line.weapon_id is None) is bool(
            {P.NO_WEAPON, P.UNKNOWN_WEAPON, P.AMBIGUOUS_WEAPON} & set(line.problems)
        )
        for value, missing, out_of_range in (
            (line.distance_m, P.NO_DISTANCE, P.DISTANCE_RANGE),
            (line.shots, P.NO_SHOTS, P.SHOTS_RANGE),
        ):
            flagged = bool({missing, out_of_range} & set(line.problems))
            if value is None:  # absent, out of range or given twice: always said so
                assert flagged or P.AMBIGUOUS_NUMBERS in line.problems
            else:
                assert not flagged
    assert entry.ok is (
        entry.date_problem is None
        and bool(entry.lines)
        and all(not line.problems for line in entry.lines)
    )


@settings(max_examples=200)
@given(st.text())
def test_looks_like_quick_entry_never_raises(text: str) -> None:
    assert looks_like_quick_entry(text) in (True, False)
