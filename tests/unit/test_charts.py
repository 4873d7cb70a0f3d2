"""The /stats charts: each renders a sane PNG (phone-sized, with ink on white) for no data, one
point and ten years, in both languages, plus the edge cases (all-zero months, 150 shooting days,
scores of 0 and 10.9, a title with emoji); renders in parallel threads equal single-threaded
ones; Dutch and English differ; month names and date labels are the shooter's. Every render is
written to ``artefacts/charts/`` for a person to look at."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from matplotlib import dates as mdates
from PIL import Image

from aimtrack.charts import DayLabels, licence_chart, month_labels, rounds_chart, score_chart
from aimtrack.core.model import Language

ROOT = Path(__file__).resolve().parents[2]
# Read at import: the autouse fixture in conftest.py clears AIMTRACK_* variables for each test.
ARTEFACTS = Path(os.environ.get("AIMTRACK_ARTEFACTS") or ROOT / "artefacts") / "charts"
TODAY = date(2026, 12, 1)
PNG = b"\x89PNG\r\n\x1a\n"
WINDOW = 5
CASES = ("empty", "one", "ten-years")


# --- data -----------------------------------------------------------------------------------


def moving_average(values: Sequence[Decimal], window: int = WINDOW) -> list[Decimal | None]:
    return [
        None if n + 1 < window else sum(values[n + 1 - window : n + 1], Decimal(0)) / window
        for n in range(len(values))
    ]


def sessions(count: int, *, days: int = 3650, seed: int = 1) -> list[tuple[date, Decimal]]:
    """``count`` sessions spread over ``days`` up to TODAY, improving from 8 to 9 a shot."""
    chance = random.Random(seed)  # noqa: S311 - test data
    first = TODAY - timedelta(days=days - 1)
    return [
        (
            first + timedelta(days=n * days // count),
            Decimal(f"{min(10.9, max(0.0, chance.gauss(8 + n / count, 0.5))):.2f}"),
        )
        for n in range(count)
    ]


def month_starts(count: int) -> list[date]:
    """The first days of the ``count`` months up to TODAY's, oldest first."""
    index = TODAY.year * 12 + TODAY.month - 1
    return [date(m // 12, m % 12 + 1, 1) for m in range(index - count + 1, index + 1)]


def rounds(count: int) -> list[tuple[date, int]]:
    return [(day, (n * 137 + 40) % 600) for n, day in enumerate(month_starts(count))]


def rolling_days(count: int, *, top: int = 30) -> list[tuple[date, int]]:
    """``count`` days up to TODAY with a count that rises to ``top`` and falls back."""
    first = TODAY - timedelta(days=count - 1)
    return [
        (first + timedelta(days=n), round(top * (1 - abs(n / max(count - 1, 1) * 2 - 1))))
        for n in range(count)
    ]


def score(case: str, language: Language) -> bytes:
    points = {"empty": [], "one": [(TODAY, Decimal("8.62"))], "ten-years": sessions(1500)}[case]
    return score_chart(
        points,
        moving_average([value for _, value in points]),
        title="CZ 75 SP-01 · 25 m",
        window=WINDOW,
        language=language,
    )


def rounds_case(case: str, language: Language) -> bytes:
    months = {"empty": [], "one": [(date(2026, 12, 1), 150)], "ten-years": rounds(120)}[case]
    return rounds_chart(months, language=language)


def licence(case: str, language: Language, **counts: int) -> bytes:
    days = {"empty": [], "one": [(TODAY, 1)], "ten-years": rolling_days(3650)}[case]
    return licence_chart(
        days,
        required_days=18,
        year=2026,
        knsa=counts.get("knsa", 2),
        club=counts.get("club", 6),
        required_knsa=3,
        required_club=5,
        language=language,
    )


CHARTS: dict[str, Callable[[str, Language], bytes]] = {
    "score": score,
    "rounds": rounds_case,
    "licence": licence,
}


def check_png(content: bytes, name: str) -> None:
    """A phone-sized PNG with ink on white, saved as ``artefacts/charts/<name>.png``."""
    assert content.startswith(PNG)
    assert 5_000 < len(content) < 1_000_000
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / f"{name}.png").write_bytes(content)
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "PNG"
        width, height = image.size
        extrema = image.convert("L").getextrema()
    assert 900 <= width <= 1600
    assert 600 <= height <= 1300
    assert width > height
    assert isinstance(extrema, tuple)
    darkest, lightest = extrema
    assert isinstance(darkest, int)
    assert darkest < 64  # there is text
    assert lightest == 255  # on white


# --- every chart, every case, both languages ------------------------------------------------


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind", list(CHARTS))
def test_renders_a_phone_sized_png(kind: str, case: str, language: Language) -> None:
    check_png(CHARTS[kind](case, language), f"{kind}-{case}-{language.value}")


@pytest.mark.parametrize(
    ("name", "render"),
    [
        (
            "score-weeks",
            lambda: score_chart(
                sessions(9, days=40),
                moving_average([value for _, value in sessions(9, days=40)]),
                title="Walther GSP · 25 m",
                window=WINDOW,
                language=Language.NL,
            ),
        ),
        (
            "score-0-and-10.9",
            lambda: score_chart(
                [
                    (TODAY - timedelta(days=3 * n), Decimal(n % 2) * Decimal("10.9"))
                    for n in range(30)
                ][::-1],
                moving_average([Decimal(n % 2) * Decimal("10.9") for n in range(30)][::-1]),
                title="Smith & Wesson 686 $5 $6 🔫 met een naam die niet op één regel past",
                window=WINDOW,
                language=Language.NL,
            ),
        ),
        (
            "score-few-no-average",
            lambda: score_chart(
                sessions(3, days=20),
                [None, None, None],
                title="",
                window=10,
                language=Language.EN,
            ),
        ),
        (
            "rounds-zero",
            lambda: rounds_chart([(d, 0) for d in month_starts(12)], language=Language.NL),
        ),
        ("rounds-year", lambda: rounds_chart(rounds(12), language=Language.NL)),
        (
            "rounds-thousands",
            lambda: rounds_chart(
                [(d, 1000 + n * 777) for n, d in enumerate(month_starts(12))], language=Language.NL
            ),
        ),
        ("rounds-two-years", lambda: rounds_chart(rounds(24), language=Language.EN)),
        (
            "licence-year",
            lambda: licence_chart(
                rolling_days(365),
                required_days=18,
                year=2026,
                knsa=2,
                club=6,
                required_knsa=3,
                required_club=5,
                language=Language.NL,
            ),
        ),
        (
            "licence-150",
            lambda: licence_chart(
                rolling_days(365, top=150),
                required_days=18,
                year=2026,
                knsa=12,
                club=30,
                required_knsa=3,
                required_club=5,
                language=Language.NL,
            ),
        ),
        (
            "licence-zero",
            lambda: licence_chart(
                [(TODAY - timedelta(days=n), 0) for n in range(365)][::-1],
                required_days=18,
                year=2026,
                knsa=0,
                club=0,
                required_knsa=3,
                required_club=5,
                language=Language.EN,
            ),
        ),
    ],
)
def test_edge_cases_render(name: str, render: Callable[[], bytes]) -> None:
    check_png(render(), name)  # warnings are errors: a missing glyph or mathtext would fail


# --- determinism, threads, languages --------------------------------------------------------


def test_renders_in_parallel_threads_alike() -> None:
    """Each chart drawn alone, then all of them at once in six threads: the same bytes (so
    also the same bytes twice)."""
    jobs = [
        (kind, case, language)
        for kind in CHARTS
        for case in ("one", "ten-years")
        for language in Language
    ]
    alone = [CHARTS[kind](case, language) for kind, case, language in jobs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda job: CHARTS[job[0]](job[1], job[2]), jobs))
    assert together == alone
    assert len(set(alone)) == len(jobs)  # and every job drew a chart of its own


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind", list(CHARTS))
def test_dutch_and_english_differ(kind: str, case: str) -> None:
    assert CHARTS[kind](case, Language.NL) != CHARTS[kind](case, Language.EN)


def test_licence_counts_change_the_chart() -> None:
    assert licence("one", Language.NL, knsa=2) != licence("one", Language.NL, knsa=3)


def test_png_carries_no_software_or_date() -> None:
    content = score("one", Language.NL)
    assert b"matplotlib" not in content.lower()
    assert b"tIME" not in content


NO_PYPLOT = """
import sys
from datetime import date
from decimal import Decimal

import matplotlib

import aimtrack.charts as c
from aimtrack.core.model import Language


def params():  # rcParams["backend"] would import pyplot to resolve itself: leave it out
    return {k: matplotlib.rcParams[k] for k in matplotlib.rcParams if k != "backend"}


before = params()
c.score_chart([(date(2026, 1, 1), Decimal(9))], [None], title="t", window=5, language=Language.NL)
c.rounds_chart([(date(2026, 1, 1), 9)], language=Language.NL)
c.licence_chart(
    [(date(2026, 1, 1), 9)], required_days=18, year=2026, knsa=1, club=1,
    required_knsa=3, required_club=5, language=Language.NL,
)
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
assert params() == before, "rcParams changed"
"""


def test_no_pyplot_and_no_changed_rcparams() -> None:
    """In a fresh interpreter: rendering imports no pyplot and changes no global setting."""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", NO_PYPLOT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


# --- labels ---------------------------------------------------------------------------------


def test_dutch_month_names() -> None:
    year = [date(2026, month, 1) for month in range(1, 13)]
    assert month_labels(year, Language.NL) == [
        "jan\n2026", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
    ]  # fmt: skip
    assert month_labels(year, Language.EN)[2:5] == ["Mar", "Apr", "May"]


def test_the_year_goes_under_january_not_also_under_the_december_before() -> None:
    labels = month_labels([date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)], Language.NL)
    assert labels == ["nov\n2025", "dec", "jan\n2026"]
    assert month_labels([date(2025, 12, 1), date(2026, 1, 1)], Language.NL) == [
        "dec",
        "jan\n2026",
    ]


def _number(day: date) -> float:
    return float(mdates.date2num(day))  # type: ignore[no-untyped-call]


def _tick_labels(days: Sequence[date], shown_from: date, language: Language) -> list[str]:
    """What DayLabels writes under ticks on ``days`` of an axis that starts at ``shown_from``."""
    formatter = DayLabels(language)
    formatter.create_dummy_axis()
    numbers = [_number(day) for day in days]
    assert formatter.axis is not None
    formatter.axis.set_view_interval(_number(shown_from), numbers[-1])
    return formatter.format_ticks(numbers)


def test_date_ticks_read_day_month_with_the_year_once() -> None:
    days = [date(2026, 2, 26), date(2026, 3, 1), date(2026, 3, 4)]
    assert _tick_labels(days, days[0], Language.NL) == ["26 feb\n2026", "1 mrt", "4 mrt"]
    # a tick left of the axis is not shown: the year goes under the first one that is
    assert _tick_labels(days, days[1], Language.EN) == ["26 Feb", "1 Mar\n2026", "4 Mar"]


def test_date_ticks_for_months_and_years() -> None:
    months = [date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1)]
    assert _tick_labels(months, months[0], Language.NL) == ["okt\n2025", "jan\n2026", "apr"]
    years = [date(2018, 1, 1), date(2020, 1, 1), date(2022, 1, 1)]
    assert _tick_labels(years, years[0], Language.NL) == ["2018", "2020", "2022"]


# --- input errors ---------------------------------------------------------------------------


def test_points_and_average_of_different_length_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        score_chart([(TODAY, Decimal(9))], [], title="CZ", window=WINDOW, language=Language.NL)


@pytest.mark.parametrize(
    "render",
    [
        lambda: score_chart(
            [(TODAY, Decimal(-1))], [None], title="CZ", window=WINDOW, language=Language.NL
        ),
        lambda: score_chart(
            [(TODAY, Decimal("NaN"))], [None], title="CZ", window=WINDOW, language=Language.NL
        ),
        lambda: rounds_chart([(TODAY, -5)], language=Language.NL),
        lambda: licence_chart(
            [(TODAY, -1)],
            required_days=18,
            year=2026,
            knsa=0,
            club=0,
            required_knsa=3,
            required_club=5,
            language=Language.NL,
        ),
        lambda: licence_chart(
            [],
            required_days=18,
            year=2026,
            knsa=-1,
            club=0,
            required_knsa=3,
            required_club=5,
            language=Language.NL,
        ),
    ],
)
def test_negative_numbers_are_refused(render: Callable[[], bytes]) -> None:
    with pytest.raises(ValueError, match=r"negative|finite"):
        render()
