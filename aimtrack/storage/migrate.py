"""Run Alembic migrations from async code on one shared connection.

``env.py`` picks up the connection from ``Config.attributes``; outside AimTrack (a developer
running ``alembic`` by hand) it builds its own engine from the settings.

On SQLite, batch mode changes a table by copying it and dropping the original. With foreign
keys enforced, that drop would cascade and silently delete child rows, and SQLite ignores
``PRAGMA foreign_keys`` inside a transaction. So the pragma is switched off on the raw
connection *before* the migration's transaction begins, ``PRAGMA foreign_key_check`` must come
back empty before it commits, and the connection is discarded afterwards, never pooled.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aimtrack.core.errors import AimTrackError
from aimtrack.storage.engine import READ_ONLY

MIGRATIONS = Path(str(files("aimtrack.storage") / "migrations"))


class MigrationError(AimTrackError):
    """A migration would leave the database inconsistent; nothing was committed."""


class SchemaNotReady(AimTrackError):
    """The database is empty or at an older schema than this AimTrack needs."""


async def require_current_schema(engine: AsyncEngine) -> None:
    """Refuse to work on a database that ``aimtrack db upgrade`` has not brought up to date."""
    current, head = await current_revision(engine), head_revision()
    if current is None:
        msg = "the database has no AimTrack schema yet; run: aimtrack db upgrade"
        raise SchemaNotReady(msg)
    if current != head:
        msg = (
            f"the database is at schema {current}, this AimTrack needs {head};"
            " run: aimtrack db upgrade"
        )
        raise SchemaNotReady(msg)


def alembic_config(script_location: Path = MIGRATIONS) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    return config


def head_revision(script_location: Path = MIGRATIONS) -> str | None:
    return ScriptDirectory.from_config(alembic_config(script_location)).get_current_head()


async def upgrade(
    engine: AsyncEngine, revision: str = "head", *, script_location: Path = MIGRATIONS
) -> None:
    await _run(engine, script_location, lambda config: command.upgrade(config, revision))


async def downgrade(
    engine: AsyncEngine, revision: str, *, script_location: Path = MIGRATIONS
) -> None:
    await _run(engine, script_location, lambda config: command.downgrade(config, revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        await connection.execution_options(**READ_ONLY)
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def _run(
    engine: AsyncEngine, script_location: Path, action: Callable[[Config], None]
) -> None:
    def apply(connection: Connection) -> None:
        config = alembic_config(script_location)
        config.attributes["connection"] = connection
        action(config)
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                msg = f"migration left rows without their parent: {broken[:5]}; rolled back"
                raise MigrationError(msg)

    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        try:
            if sqlite:
                await _sqlite_foreign_keys_off(connection)
            async with connection.begin():
                await connection.run_sync(apply)
        finally:
            if sqlite:
                # Never hand a connection with foreign keys off back to the pool, whatever
                # happened (an error, a cancellation): discard it; new ones get the pragmas.
                await connection.invalidate()


async def _sqlite_foreign_keys_off(connection: AsyncConnection) -> None:
    """Set the pragma outside any transaction, on the driver connection itself."""
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None  # noqa: S101 - an open pooled connection always has one
    await driver.execute("PRAGMA foreign_keys=OFF")
