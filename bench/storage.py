"""Save latency of one logged session (a transaction with two entries), SQLite FULL vs NORMAL.

Run: .venv/bin/python -m bench.storage [--sessions 500] [--postgres URL]
Prints one line per configuration; record the figures in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event

from aimtrack.core.model import EntrySpec, SessionSpec, WeaponSpec
from aimtrack.storage import migrate
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import SessionRepo, UserDirectory, WeaponRepo


async def measure(database: Database, sessions: int) -> list[float]:
    await migrate.upgrade(database.engine)
    async with database.transaction() as db:
        uid = (await UserDirectory(db).register("telegram", "1", allowed=True)).user_id
        weapon = (await WeaponRepo(db, uid).add(WeaponSpec(name="CZ 75"))).id
    timings: list[float] = []
    for number in range(sessions):
        spec = SessionSpec(occurred_on=date(2020, 1, 1) + timedelta(days=number), club="SV")
        entries = [
            EntrySpec(weapon_id=weapon, distance_m=25, shots=50, score=Decimal("431.5")),
            EntrySpec(weapon_id=weapon, distance_m=50, shots=20),
        ]
        started = time.perf_counter()
        async with database.transaction() as db:
            await SessionRepo(db, uid).create(spec, entries)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def report(label: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"{label:<28} n={len(timings)}  mean={statistics.mean(timings):6.2f} ms"
        f"  p50={statistics.median(timings):6.2f} ms  p95={p95:6.2f} ms"
        f"  => {1000 / statistics.mean(timings):6.0f} saves/s"
    )


async def sqlite_run(synchronous: str, sessions: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        database = Database.from_url(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        if synchronous != "FULL":

            @event.listens_for(database.engine.sync_engine, "connect")
            def _relax(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA synchronous={synchronous}")
                cursor.close()

        try:
            return await measure(database, sessions)
        finally:
            await database.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--postgres", help="postgresql+asyncpg URL of an empty database")
    args = parser.parse_args()
    for mode in ("FULL", "NORMAL"):
        report(f"sqlite synchronous={mode}", await sqlite_run(mode, args.sessions))
    if args.postgres:
        database = Database.from_url(args.postgres)
        try:
            report("postgresql (asyncpg)", await measure(database, args.sessions))
        finally:
            await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
