"""Migrations keep the data they find: the next migration of a seeded database loses nothing.

Batch mode on SQLite rebuilds a table (copy, drop, rename). If foreign keys were enforced
during that drop, the cascade would silently delete children; these tests add such a
migration on top of the real ones and check every row survives.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from aimtrack.storage import migrate
from aimtrack.storage.engine import Database
from tests.helpers.databases import BlankDatabase
from tests.helpers.factories import count_rows, seed_user

COUNTED = (
    "users",
    "weapons",
    "sessions",
    "session_weapon_entries",
    "attachments",
    "ai_reflections",
    "ai_weapon_insights",
    "coach_threads",
    "coach_messages",
    "conversation_states",
)


def _migration(upgrade: str, downgrade: str = "pass") -> str:
    """A migration 9001 on top of the real head, with the given function bodies."""
    return f"""
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{migrate.head_revision()}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
"""


def _alter_weather(length: int) -> str:
    return (
        'with op.batch_alter_table("sessions", recreate="auto") as batch_op:\n'
        f'        batch_op.alter_column("weather", type_=sa.String(length={length}))'
    )


REBUILD_SESSIONS = _migration(_alter_weather(300), _alter_weather(200))
ORPHAN_ENTRIES = _migration('op.execute("DELETE FROM weapons")')


def _scripts(tmp_path: Path, body: str) -> Path:
    """The real migrations plus one more on top."""
    location = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "versions" / "9001_test.py").write_text(body)
    return location


async def _seeded(url: str) -> Database:
    database = Database.from_url(url)
    await migrate.upgrade(database.engine)
    async with database.transaction() as session:
        await seed_user(session, telegram_id=1, marker="A")
        await seed_user(session, telegram_id=2, marker="B")
    return database


async def test_rebuilding_a_parent_table_keeps_every_child_row(
    blank_database: BlankDatabase, tmp_path: Path
) -> None:
    database = await _seeded(blank_database.url)
    scripts = _scripts(tmp_path, REBUILD_SESSIONS)
    try:
        before = await count_rows(database)
        assert all(before[table] for table in COUNTED)
        await migrate.upgrade(database.engine, script_location=scripts)
        assert await migrate.current_revision(database.engine) == "9001"
        assert await count_rows(database) == before
        await migrate.downgrade(database.engine, "-1", script_location=scripts)
        assert await count_rows(database) == before
        if blank_database.backend == "sqlite":
            async with database.engine.connect() as connection:
                enforced = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            assert enforced == 1
    finally:
        await database.dispose()


async def test_a_migration_that_orphans_rows_is_refused_and_rolled_back(
    blank_database: BlankDatabase, tmp_path: Path
) -> None:
    database = await _seeded(blank_database.url)
    scripts = _scripts(tmp_path, ORPHAN_ENTRIES)
    try:
        before = await count_rows(database)
        expected = migrate.MigrationError if blank_database.backend == "sqlite" else IntegrityError
        with pytest.raises(expected):
            await migrate.upgrade(database.engine, script_location=scripts)
        assert await migrate.current_revision(database.engine) == migrate.head_revision()
        assert await count_rows(database) == before
    finally:
        await database.dispose()


async def test_a_cancelled_migration_never_pools_a_connection_without_foreign_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    original = migrate._sqlite_foreign_keys_off

    async def switch_off_then_get_cancelled(connection: AsyncConnection) -> None:
        await original(connection)
        raise asyncio.CancelledError

    monkeypatch.setattr(migrate, "_sqlite_foreign_keys_off", switch_off_then_get_cancelled)
    try:
        with pytest.raises(asyncio.CancelledError):
            await migrate.upgrade(database.engine)
        async with database.transaction() as session:
            enforced = (await session.execute(sa.text("PRAGMA foreign_keys"))).scalar()
        assert enforced == 1
    finally:
        await database.dispose()
