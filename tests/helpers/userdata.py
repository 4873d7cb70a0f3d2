"""Every row of a user, seeded and read back directly: for the tests of exporting and erasing a
user's data (``UserDataRepo``, ``/mijndata``, ``/verwijder``).

The tables are found from ``Base.metadata``, independently of the repository: a table with a
``user_id`` column (or ``users`` itself) holds a user's rows.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.storage.engine import Database
from aimtrack.storage.repos import JobQueue, WebLinkLog
from aimtrack.storage.tables import Base
from tests.helpers.factories import STAMP, Seeded, seed_user

A_MARK, B_MARK = "alpha-A-mark", "bravo-B-mark"


def owned_tables() -> dict[str, sa.Table]:
    """Every table with a user's rows, by the tests' own reading of the schema."""
    return {
        table.name: table
        for table in Base.metadata.sorted_tables
        if table.name == "users" or "user_id" in table.c
    }


def plain(value: Any) -> Any:
    """A column value as JSON holds it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


async def rows_of(database: Database, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of one user in every table, read directly, as JSON would hold it."""
    found: dict[str, list[dict[str, Any]]] = {}
    async with database.transaction(read_only=True) as db:
        for name, table in owned_tables().items():
            column = table.c.id if name == "users" else table.c.user_id
            result = await db.execute(
                sa.select(table).where(column == user_id).order_by(*table.primary_key.columns)
            )
            found[name] = [{k: plain(v) for k, v in row.items()} for row in result.mappings()]
    return found


async def seed_everything(db: AsyncSession, *, telegram_id: int, marker: str) -> Seeded:
    """``seed_user``, plus what it leaves out: a job and a used web link."""
    seeded = await seed_user(db, telegram_id=telegram_id, marker=marker)
    await JobQueue(db).enqueue(  # a kind no worker runs: it stays as it is
        "test_only", user_id=seeded.user_id, payload={"note": marker}, now=STAMP
    )
    await WebLinkLog(db).use(f"{marker}-nonce", user_id=seeded.user_id, expires_at=STAMP, now=STAMP)
    return seeded
