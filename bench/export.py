"""Register export of 10 years of one shooter's log (CSV and PDF) through the real service.

Seeds a temporary SQLite database through the real repositories (default: 5,000 sessions with
12,000 entries on 6 weapons over 10 years), then times ``export_register`` end to end and its
parts: loading (``load_register``: one read transaction and ``build_register``) and rendering
alone. Wall times are the best and the median of ``--repeat`` runs without tracing; peak memory
is measured in a separate traced run (tracemalloc peak) and as the process's ru_maxrss.

Run: .venv/bin/python -m bench.export [--sessions 5000] [--entries 12000] [--repeat 3]
Goal: CSV under 1 s, PDF under 5 s. Record the figures in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import platform
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from aimtrack.core.model import (
    CompetitionType,
    EntrySpec,
    Language,
    ProfileSpec,
    SessionSpec,
    WeaponSpec,
    WeaponType,
)
from aimtrack.exports import register_csv, register_pdf
from aimtrack.exports.service import ExportFormat, ExportRequest, export_register, load_register
from aimtrack.storage import migrate
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ProfileRepo, SessionRepo, UserDirectory, WeaponRepo

NOW = datetime(2026, 12, 1, 11, tzinfo=UTC)
LAST = date(2026, 11, 30)
FIRST = date(2016, 12, 1)  # ten years up to LAST
BATCH = 250  # sessions per seeding transaction
WEAPONS = (
    ("CZ 75 SP-01 Shadow", WeaponType.PISTOL, "9mm"),
    ("Walther GSP", WeaponType.PISTOL, ".22 LR"),
    ("Smith & Wesson 686", WeaponType.REVOLVER, ".357 Magnum"),
    ("Ruger 10/22", WeaponType.RIFLE, ".22 LR"),
    ("Tikka T3x", WeaponType.RIFLE, ".308 Win"),
    ("Feinwerkbau 800", WeaponType.AIR_RIFLE, "4,5mm"),
)
CLUBS = ("SV Ons Genoegen", "Schietsportvereniging De Vrije Schutter", "KSV Utrecht", "SV Één")


async def seed(database: Database, sessions: int, entries: int) -> int:
    """One user with 6 weapons and ``sessions`` saved sessions holding ``entries`` entries."""
    await migrate.upgrade(database.engine)
    async with database.transaction() as db:
        uid = (await UserDirectory(db).register("telegram", "1", allowed=True)).user_id
        await ProfileRepo(db, uid).update(
            ProfileSpec(
                display_name="Anouk de Vries",
                language=Language.NL,
                knsa_number="KNSA-123456",
                club=CLUBS[0],
                licence_number="WM4-2026-0042",
                licence_expiry=date(2027, 3, 1),
            )
        )
        weapon_ids = [
            (
                await WeaponRepo(db, uid).add(
                    WeaponSpec(
                        name=name, weapon_type=kind, caliber=caliber, serial_number=f"SN-{n:06d}"
                    )
                )
            ).id
            for n, (name, kind, caliber) in enumerate(WEAPONS)
        ]
    span = (LAST - FIRST).days + 1
    extra = entries - 2 * sessions  # every session has 2 entries, the first `extra` have 3
    done = 0
    while done < sessions:
        async with database.transaction() as db:
            repo = SessionRepo(db, uid)
            for number in range(done, min(done + BATCH, sessions)):
                day = FIRST + timedelta(days=number * span // sessions)
                start = datetime(day.year, day.month, day.day, 18, tzinfo=UTC)
                spec = SessionSpec(
                    occurred_on=day,
                    club=CLUBS[number % len(CLUBS)],
                    location="Utrecht",
                    started_at=start + timedelta(minutes=number % 120),
                    ammunition_brand="Geco",
                )
                count = 3 if number < extra else 2
                await repo.create(spec, [_entry(number, k, weapon_ids) for k in range(count)])
            done = min(done + BATCH, sessions)
    return uid


def _entry(number: int, k: int, weapon_ids: list[int]) -> EntrySpec:
    competition = CompetitionType.NONE
    if k == 0 and number % 40 == 0:
        competition = CompetitionType.KNSA
    elif k == 0 and number % 25 == 0:
        competition = CompetitionType.CLUB
    shots = 20 + (number * 7 + k) % 41
    return EntrySpec(
        weapon_id=weapon_ids[(number + k) % len(weapon_ids)],
        distance_m=(25, 50, 100, 10)[(number + k) % 4],
        shots=shots,
        score=None if (number + k) % 5 == 0 else Decimal(shots * 8) + Decimal("0.5"),
        discipline=("Precisie", "Snelvuur", "Sport", None)[k % 4],
        competition=competition,
    )


def _timed(run: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        timings.append(time.perf_counter() - started)
    return min(timings), statistics.median(timings), result


def _traced(run: Callable[[], Any]) -> float:
    """Peak traced memory of one run, in MiB above what was allocated before it."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        run()
        return (tracemalloc.get_traced_memory()[1] - base) / 2**20
    finally:
        tracemalloc.stop()


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def report(label: str, best: float, median: float, peak: float | None, extra: str = "") -> None:
    memory = "" if peak is None else f"  tracemalloc peak={peak:7.1f} MiB"
    print(
        f"{label:<30} best={best:6.3f} s  median={median:6.3f} s{memory}"
        f"  ru_maxrss={_rss():6.0f} MiB{extra}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--entries", type=int, default=12000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{platform.python_version()} on {platform.machine()}, {platform.platform()}")
    with tempfile.TemporaryDirectory() as folder:
        database = Database.from_url(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            started = time.perf_counter()
            uid = await seed(database, args.sessions, args.entries)
            seconds = time.perf_counter() - started
            print(f"seeded {args.sessions} sessions, {args.entries} entries in {seconds:.1f} s")
            await _measure(database, uid, args.repeat)
        finally:
            await database.dispose()


async def _measure(database: Database, uid: int, repeat: int) -> None:
    requests = {
        fmt: ExportRequest(period_from=FIRST, period_to=LAST, format=fmt) for fmt in ExportFormat
    }
    # load only
    timings = []
    register = None
    for _ in range(repeat):
        started = time.perf_counter()
        register = await load_register(database, uid, requests[ExportFormat.CSV], now=NOW)
        timings.append(time.perf_counter() - started)
    assert register is not None
    rows = len(register.rows)
    best, median = min(timings), statistics.median(timings)
    report("load_register (read + build)", best, median, None, f"  rows={rows}")
    # render only
    for label, render in (
        ("render_csv", register_csv.render_csv),
        ("render_pdf", register_pdf.render_pdf),
    ):
        run = functools.partial(render, register)
        best, median, content = _timed(run, repeat)
        peak = _traced(run)
        report(label, best, median, peak, f"  size={len(content) / 2**20:.3f} MiB")
    # end to end, through the service (a worker thread renders)
    for fmt, request in requests.items():
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            exported = await export_register(database, uid, request, now=NOW)
            timings.append(time.perf_counter() - started)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        await export_register(database, uid, request, now=NOW)
        peak = (tracemalloc.get_traced_memory()[1] - base) / 2**20
        tracemalloc.stop()
        size = f"  size={len(exported.content) / 2**20:.3f} MiB"
        report(f"export_register {fmt.value}", min(timings), statistics.median(timings), peak, size)


if __name__ == "__main__":
    asyncio.run(main())
