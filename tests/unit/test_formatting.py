"""How AimTrack writes dates, scores, numbers and counted words (aimtrack.core.formatting)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from aimtrack.core import formatting
from aimtrack.core.model import Language

NL, EN = Language.NL, Language.EN


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        (NL, Decimal("9.35"), "9,35"),
        (EN, Decimal("9.35"), "9.35"),
        (NL, Decimal("8.625"), "8,63"),
        (EN, Decimal(10), "10.00"),
        (NL, Decimal("0"), "0,00"),
    ],
)
def test_per_shot(language: Language, value: Decimal, expected: str) -> None:
    assert formatting.per_shot(value, language) == expected


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        (NL, Decimal(431), "431"),
        (NL, Decimal("431.0"), "431"),
        (NL, Decimal("431.50"), "431,5"),
        (EN, Decimal("431.5"), "431.5"),
        (EN, Decimal("109000.0"), "109000"),
        (EN, Decimal("1E+2"), "100"),
    ],
)
def test_score(language: Language, value: Decimal, expected: str) -> None:
    assert formatting.score_in(value, language) == expected
    assert formatting.score(value, comma=language is NL) == expected


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        (NL, date(2026, 11, 23), "23-11-2026"),
        (NL, date(2026, 3, 5), "05-03-2026"),
        (EN, date(2026, 11, 23), "23 Nov 2026"),
        (EN, date(2026, 3, 5), "5 Mar 2026"),
    ],
)
def test_long_day(language: Language, value: date, expected: str) -> None:
    assert formatting.long_day(value, language) == expected


def test_chat_dates_are_day_first_in_both_languages() -> None:
    monday = date(2026, 11, 23)
    assert formatting.day(monday) == "23-11-2026"
    assert formatting.day_month(monday) == "23-11"
    assert formatting.weekday(monday, NL) == "ma 23-11-2026"
    assert formatting.weekday(monday, EN) == "Mon 23-11-2026"
    assert formatting.period(date(2026, 1, 1), monday) == "01-01-2026 \N{EN DASH} 23-11-2026"
    assert formatting.moment(datetime(2026, 11, 23, 18, 5, tzinfo=UTC)) == "23-11-2026 18:05"


def test_register_dates_are_iso_in_english() -> None:
    day, at = date(2026, 3, 5), datetime(2026, 3, 5, 9, 7, tzinfo=UTC)
    assert formatting.register_day(day, NL) == "05-03-2026"
    assert formatting.register_day(day, EN) == "2026-03-05"
    assert formatting.register_moment(at, NL) == "05-03-2026 09:07"
    assert formatting.register_moment(at, EN) == "2026-03-05 09:07"
    assert formatting.clock(time(7, 30)) == "07:30"


@pytest.mark.parametrize(
    ("language", "number", "expected"),
    [(NL, 12000, "12.000"), (EN, 12000, "12,000"), (NL, 999, "999"), (EN, 0, "0")],
)
def test_count(language: Language, number: int, expected: str) -> None:
    assert formatting.count(number, language) == expected


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [(NL, 8.5, "8,5"), (EN, 8.5, "8.5"), (NL, 9.0, "9"), (NL, -0.0001, "0"), (EN, 9.123, "9.12")],
)
def test_axis_number(language: Language, value: float, expected: str) -> None:
    assert formatting.axis_number(value, language) == expected


@pytest.mark.parametrize(
    ("number", "expected"), [(0, "0 schietdagen"), (1, "1 schietdag"), (2, "2 schietdagen")]
)
def test_plural(number: int, expected: str) -> None:
    assert formatting.plural(number, "# schietdag", "# schietdagen") == expected


def test_month_names() -> None:
    assert formatting.MONTHS[NL][2] == "mrt"
    assert formatting.MONTHS[EN][9] == "Oct"
    assert all(len(names) == 12 for names in formatting.MONTHS.values())


def test_a_typed_day_is_read_day_first_or_iso() -> None:
    assert formatting.parse_day("21-11-2026") == date(2026, 11, 21)
    assert formatting.parse_day("1/2/2026") == date(2026, 2, 1)
    assert formatting.parse_day("2026-11-21") == date(2026, 11, 21)
    assert formatting.parse_day("29-02-2025") is None
    assert formatting.parse_day("00-01-2026") is None
    assert formatting.parse_day("21-11-26") is None
    assert formatting.parse_day("٢١-١١-٢٠٢٦") is None  # only ASCII digits


def test_drawable_text_keeps_what_the_font_has() -> None:
    font = {ord(c) for c in "CZ 75é"}
    assert formatting.drawable("CZ\t75é", font) == "CZ 75é"
    assert formatting.drawable("CZ 75 🎯", font) == "CZ 75 ?"
    assert formatting.drawable("C\u200dZ\ufe0f", font) == "CZ"  # joiner, variation selector
    assert formatting.drawable("\x07", font) == "?"
