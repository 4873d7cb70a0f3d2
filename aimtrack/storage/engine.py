"""Engine and transactions.

SQLite is opened for a small server that must not lose a logged session:

* ``journal_mode=WAL``: readers never block the writer;
* ``synchronous=FULL``: a commit survives power loss, not only a crash (docs/adr/0003);
* ``foreign_keys=ON``: SQLite ignores them otherwise;
* ``busy_timeout``: a second writer waits instead of failing at once;
* SQLAlchemy, not the driver, emits ``BEGIN IMMEDIATE``: the write lock is taken at the
  start, so a read-then-write transaction waits for the busy timeout instead of failing
  with ``SQLITE_BUSY`` halfway, and DDL in migrations is transactional. Read-only work
  (``Database.transaction(read_only=True)``, ``ping``) begins ``DEFERRED`` instead and never
  waits for a writer: in WAL mode readers see the last committed state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 10_000
READ_ONLY = {"sqlite_begin": "DEFERRED"}  # execution options for a read-only transaction
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url``; for a SQLite file its folder is created (0700) if missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            # A folder we create holds weapon registers: private to the service's user.
            Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        if mode not in {"IMMEDIATE", "DEFERRED"}:
            msg = f"unknown sqlite_begin mode {mode!r}"
            raise ValueError(msg)
        connection.exec_driver_sql(f"BEGIN {mode}")


def redact_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    """Owns the engine and hands out transactions (one unit of work each)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(create_engine(url, **kwargs))

    @asynccontextmanager
    async def transaction(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """Commit when the block ends normally, roll back when it raises.

        ``read_only`` transactions do not take SQLite's write lock, so a long read (an
        export, a health check) neither waits for nor blocks a writer.
        """
        async with self._sessions() as session, session.begin():
            if read_only:
                await session.connection(execution_options=READ_ONLY)
            yield session

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as connection:
                await connection.execution_options(**READ_ONLY)
                await connection.execute(sa.text("SELECT 1"))
        except (sa.exc.SQLAlchemyError, OSError):
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
