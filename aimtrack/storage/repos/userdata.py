"""Everything AimTrack keeps of one user, found from the schema itself: to hand it over
(``/mijndata``) or to erase it (``/verwijder``).

The tables come from ``Base.metadata``, not from a list kept by hand: every table with a
``user_id`` column holds a user's rows, and so does ``users``, whose ``id`` is the user. A table
added later is exported and erased with no change here. A table without ``user_id`` holds no
user's data by design and is named in :data:`NOT_USER_DATA` with the reason;
``tests/integration/test_userdata.py`` fails for a table that is in neither group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, Final

import sqlalchemy as sa

from aimtrack.storage.repos.base import UserScopedRepo
from aimtrack.storage.tables import Base, UserRow

USERS: Final = UserRow.__tablename__
NOT_USER_DATA: Final = {
    "processed_updates": (
        "update ids and when they arrived, so a replayed update is handled once: no user id, "
        "no sender, no content"
    ),
}


def user_tables() -> list[sa.Table]:
    """Every table that holds one user's rows, parents before children (``users`` first)."""
    return [
        table
        for table in Base.metadata.sorted_tables
        if table.name == USERS or "user_id" in table.c
    ]


@dataclass(frozen=True, slots=True)
class UserData:
    """Every row of one user, table by table (in :func:`user_tables` order), each row a dict
    of column name to a plain JSON value: dates and times as ISO 8601, enums as their value."""

    user_id: int
    tables: dict[str, list[dict[str, Any]]]

    def count(self, table: str) -> int:
        return len(self.tables.get(table, []))


class UserDataRepo(UserScopedRepo):
    async def export(self) -> UserData:
        """Every row of this user in every table, every column of it."""
        tables: dict[str, list[dict[str, Any]]] = {}
        for table in user_tables():
            result = await self.db.execute(
                sa.select(table).where(self._of_user(table)).order_by(*table.primary_key.columns)
            )
            tables[table.name] = [
                {column: _plain(value) for column, value in row.items()}
                for row in result.mappings()
            ]
        return UserData(self.user_id, tables)

    async def counts(self) -> dict[str, int]:
        """How many rows of this user each table holds."""
        counts: dict[str, int] = {}
        for table in user_tables():
            found = await self.db.scalar(
                sa.select(sa.func.count()).select_from(table).where(self._of_user(table))
            )
            counts[table.name] = int(found or 0)
        return counts

    async def erase(self) -> dict[str, int]:
        """Delete every row of this user, children before parents and the ``users`` row last
        (no foreign key is left to a cascade); returns how many rows went, by table.

        In the caller's transaction: everything goes, or nothing. The files under
        ``attachments/<user_id>/`` are the caller's to remove once it committed.
        """
        erased: dict[str, int] = {}
        for table in reversed(user_tables()):
            result = await self.db.execute(
                sa.delete(table)
                .where(self._of_user(table))
                .execution_options(synchronize_session=False)
            )
            erased[table.name] = int(result.rowcount)  # type: ignore[attr-defined]
        return erased

    def _of_user(self, table: sa.Table) -> sa.ColumnElement[bool]:
        column = table.c.id if table.name == USERS else table.c.user_id
        return column == self.user_id


def _plain(value: Any) -> Any:
    """A column's value as JSON can hold it (JSON columns are plain data already)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | dict | list):
        return value
    return str(value)
