"""The /stats charts (``aimtrack.charts``): what importing matplotlib costs, and each chart's
render time and memory for ten years of one shooter's data.

Import: wall time of ``import aimtrack.charts`` (matplotlib, numpy, Pillow and the font list)
in this process, and how much VmRSS (/proc/self/status) grew. The first render is timed apart
(fonts are loaded then). Renders: best and median of ``--repeat`` runs, tracemalloc peak of a
separate traced run. Data: 1,500 sessions over ten years (score), 12 and 120 months (rounds),
365 and 3,650 days (licence). Last, ``--threads`` workers render the set at once, to see how
much the bot's worker threads (``asyncio.to_thread``) overlap, and after ``--steady`` more
renders VmRSS shows whether memory settles.

Run: .venv/bin/python -m bench.charts [--repeat 5] [--threads 4] [--steady 240]
Record the figures in bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType

from aimtrack.core.model import Language
from aimtrack.exports import texts  # noqa: F401 - loaded before timing the import of charts

TODAY = date(2026, 11, 30)
WINDOW = 5


def vm_rss() -> float:
    """This process's resident set size now, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def max_rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def import_charts() -> ModuleType:
    already = sorted(name for name in ("matplotlib", "numpy", "PIL") if name in sys.modules)
    before = vm_rss()
    started = time.perf_counter()
    module = importlib.import_module("aimtrack.charts")
    seconds = time.perf_counter() - started
    after = vm_rss()
    print(
        f"{'import aimtrack.charts':<34} {seconds:6.3f} s  VmRSS {before:5.1f} -> {after:5.1f} MiB"
        f" (+{after - before:.1f} MiB); loaded before: {', '.join(already) or 'none'}"
    )
    return module


def sessions(count: int) -> list[tuple[date, Decimal]]:
    chance = random.Random(1)
    first = TODAY - timedelta(days=3649)
    return [
        (
            first + timedelta(days=n * 3650 // count),
            Decimal(f"{min(10.9, max(0.0, chance.gauss(8 + n / count, 0.5))):.2f}"),
        )
        for n in range(count)
    ]


def moving_average(values: list[Decimal]) -> list[Decimal | None]:
    return [
        None if n + 1 < WINDOW else sum(values[n + 1 - WINDOW : n + 1], Decimal(0)) / WINDOW
        for n in range(len(values))
    ]


def months(count: int) -> list[tuple[date, int]]:
    index = TODAY.year * 12 + TODAY.month - 1
    return [
        (date(m // 12, m % 12 + 1, 1), (m * 137 + 40) % 600)
        for m in range(index - count + 1, index + 1)
    ]


def days(count: int) -> list[tuple[date, int]]:
    first = TODAY - timedelta(days=count - 1)
    return [(first + timedelta(days=n), 10 + n % 25) for n in range(count)]


def renders(charts: ModuleType) -> dict[str, Callable[[], bytes]]:
    points = sessions(1500)
    average = moving_average([value for _, value in points])

    def licence(count: int) -> Callable[[], bytes]:
        return lambda: charts.licence_chart(
            days(count),
            required_days=18,
            year=2026,
            knsa=2,
            club=6,
            required_knsa=3,
            required_club=5,
            language=Language.NL,
        )

    return {
        "score_chart, 1,500 sessions": lambda: charts.score_chart(
            points, average, title="CZ 75 · 25 m", window=WINDOW, language=Language.NL
        ),
        "rounds_chart, 12 months": lambda: charts.rounds_chart(months(12), language=Language.NL),
        "rounds_chart, 120 months": lambda: charts.rounds_chart(months(120), language=Language.NL),
        "licence_chart, 365 days": licence(365),
        "licence_chart, 3,650 days": licence(3650),
        "score_chart, no data": lambda: charts.score_chart(
            [], [], title="CZ 75 · 25 m", window=WINDOW, language=Language.NL
        ),
    }


def timed(run: Callable[[], bytes], repeat: int) -> tuple[float, float, int]:
    timings, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = len(run())
        timings.append(time.perf_counter() - started)
    return min(timings), statistics.median(timings), size


def traced(run: Callable[[], bytes]) -> float:
    """Peak traced memory of one run, in MiB above what was allocated before it."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        run()
        return (tracemalloc.get_traced_memory()[1] - base) / 2**20
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--steady", type=int, default=240, help="renders before the last VmRSS")
    args = parser.parse_args()
    print(f"{platform.python_version()} on {platform.machine()}, {platform.platform()}")
    charts = import_charts()
    import matplotlib  # noqa: PLC0415 - loaded by now; only its version is read

    print(f"matplotlib {matplotlib.__version__}")
    jobs = renders(charts)
    first = next(iter(jobs.values()))
    started = time.perf_counter()
    first()
    print(f"{'first render (score_chart)':<34} {time.perf_counter() - started:6.3f} s")
    for label, run in jobs.items():
        best, median, size = timed(run, args.repeat)
        peak = traced(run)
        print(
            f"{label:<34} best={best:6.3f} s  median={median:6.3f} s"
            f"  tracemalloc peak={peak:5.1f} MiB  png={size / 1024:5.0f} KiB"
            f"  ru_maxrss={max_rss():4.0f} MiB"
        )
    batch = list(jobs.values()) * 2
    started = time.perf_counter()
    for run in batch:
        run()
    alone = time.perf_counter() - started
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        started = time.perf_counter()
        list(pool.map(lambda run: run(), batch))
        together = time.perf_counter() - started
    print(
        f"{len(batch)} renders: one after another {alone:.2f} s,"
        f" {args.threads} threads {together:.2f} s  (ru_maxrss={max_rss():.0f} MiB)"
    )
    for _ in range(args.steady // len(batch)):
        for run in batch:
            run()
    print(f"VmRSS after {args.steady} more renders: {vm_rss():.1f} MiB")


if __name__ == "__main__":
    main()
