"""Databases in tests: the empty ones that ``tests/conftest.py``'s ``blank_database(s)``
fixtures hand out (``db`` hands out a migrated :class:`~aimtrack.storage.engine.Database`),
and two transactions racing on one database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.storage.engine import Database


class BlankDatabase:
    """An empty database of one backend, created and dropped by the fixture."""

    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        self.url = url


BlankFactory = Callable[[], Awaitable[BlankDatabase]]
"""What ``blank_databases`` yields: each call makes one more empty database of the backend."""


async def wait_until_blocked(db: Database) -> None:
    """Return once another transaction waits on a lock held by ours (PostgreSQL).

    SQLite serialises writers at BEGIN IMMEDIATE, so there the second transaction simply
    waits for the first to commit; there is nothing to observe.
    """
    if db.engine.dialect.name != "postgresql":
        await asyncio.sleep(0.05)
        return
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(400):
        async with db.engine.connect() as probe:
            if await probe.scalar(waiting):
                return
        await asyncio.sleep(0.025)
    pytest.fail("the second transaction never had to wait for the first")


async def racing(
    db: Database,
    first: Callable[[AsyncSession], Awaitable[object]],
    second: Callable[[AsyncSession], Awaitable[object]] | None = None,
) -> tuple[object, object]:
    """Run ``second`` (default: ``first`` again) while ``first``'s transaction is still open.

    Without an atomic upsert, the second reads "no row", then fails on the unique key as soon
    as the first commits (PostgreSQL).
    """

    async def in_own_transaction() -> object:
        async with db.transaction() as session:
            return await (second or first)(session)

    async with db.transaction() as session:
        result = await first(session)
        other = asyncio.create_task(in_own_transaction())
        await wait_until_blocked(db)
    return result, await other
