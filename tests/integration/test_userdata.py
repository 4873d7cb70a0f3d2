"""UserDataRepo: every table that holds a user's rows is found from the schema, exported in
full and erased in full, and nothing of another user is read or touched.

The tables are discovered by the tests too (``tests/helpers/userdata.py``), from
``Base.metadata``, independently of the repository:
a new table must either carry ``user_id`` (and is then covered) or be named as holding no
user's data, or ``test_every_table_is_user_data_or_named_as_not`` fails.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from aimtrack.storage.engine import Database
from aimtrack.storage.repos import UserDataRepo
from aimtrack.storage.repos.userdata import NOT_USER_DATA, user_tables
from aimtrack.storage.tables import Base
from tests.helpers.factories import Seeded
from tests.helpers.userdata import A_MARK, B_MARK, owned_tables, rows_of, seed_everything


async def everything(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (for "nothing else changed")."""
    async with database.transaction(read_only=True) as db:
        return {
            table.name: [
                tuple(row)
                for row in await db.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


async def seed_two(database: Database) -> tuple[Seeded, Seeded]:
    async with database.transaction() as db:
        a = await seed_everything(db, telegram_id=1001, marker=A_MARK)
        b = await seed_everything(db, telegram_id=2002, marker=B_MARK)
    return a, b


def test_every_table_is_user_data_or_named_as_not() -> None:
    tables = {table.name for table in Base.metadata.sorted_tables}
    found = {table.name for table in user_tables()}
    assert found == set(owned_tables())
    assert found | set(NOT_USER_DATA) == tables, "a table is neither user data nor named"
    assert not found & set(NOT_USER_DATA)
    for name in NOT_USER_DATA:  # really without a user: no user_id, no key to users
        table = Base.metadata.tables[name]
        assert "user_id" not in table.c
        assert not any(fk.column.table.name == "users" for fk in table.foreign_keys)
    assert user_tables()[0].name == "users"  # parents first, for erase's order


async def test_export_holds_every_row_of_the_user_and_nothing_of_another(db: Database) -> None:
    a, _b = await seed_two(db)
    async with db.transaction(read_only=True) as s:
        data = await UserDataRepo(s, a.user_id).export()
    assert data.user_id == a.user_id
    assert data.tables == await rows_of(db, a.user_id)
    assert all(data.tables[name] for name in owned_tables()), "seed a row in every table"
    assert data.tables["weapons"][0]["serial_number"] == f"{A_MARK}-SERIAL"
    text = json.dumps(data.tables, ensure_ascii=False)  # JSON as it stands, and nothing of B
    assert A_MARK in text
    assert B_MARK not in text


async def test_counts_are_the_users_own(db: Database) -> None:
    a, b = await seed_two(db)
    async with db.transaction() as s:
        await UserDataRepo(s, b.user_id).erase()
    async with db.transaction(read_only=True) as s:
        counts = await UserDataRepo(s, a.user_id).counts()
    expected = {name: len(rows) for name, rows in (await rows_of(db, a.user_id)).items()}
    assert counts == expected
    assert counts["sessions"] == 1
    assert counts["weapons"] == 2
    assert counts["attachments"] == 3


async def test_erase_removes_every_row_of_the_user_and_nothing_else(db: Database) -> None:
    a, b = await seed_two(db)
    before = await everything(db)
    b_before = await rows_of(db, b.user_id)
    async with db.transaction() as s:
        erased = await UserDataRepo(s, a.user_id).erase()
    mine = await rows_of(db, a.user_id)
    assert {name: rows for name, rows in mine.items() if rows} == {}
    assert await rows_of(db, b.user_id) == b_before
    after = await everything(db)
    for name, rows in before.items():  # what went is exactly A's rows, counted right
        assert all(row in rows for row in after[name]), name
        assert len(rows) - len(after[name]) == erased.get(name, 0), name
    assert erased["users"] == 1
    assert erased["sessions"] == 1
    assert erased["attachments"] == 3


async def test_an_erase_that_rolls_back_removes_nothing(db: Database) -> None:
    a, _b = await seed_two(db)
    before = await everything(db)

    async def erase_then_fail() -> None:
        async with db.transaction() as s:
            await UserDataRepo(s, a.user_id).erase()
            raise RuntimeError("the turn failed after the erase")

    with pytest.raises(RuntimeError):
        await erase_then_fail()
    assert await everything(db) == before


async def test_an_unknown_user_has_nothing(db: Database) -> None:
    await seed_two(db)
    async with db.transaction() as s:
        repo = UserDataRepo(s, 999_999)
        assert (await repo.export()).tables == {name: [] for name in owned_tables()}
        assert set((await repo.erase()).values()) == {0}
