"""Alembic environment: async engine, batch mode for SQLite, shared connection when given."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from aimtrack.storage.tables import Base
from aimtrack.storage.types import UTCDateTime

target_metadata = Base.metadata


def _render_item(kind: str, item: Any, _autogen: AutogenContext) -> str | Literal[False]:
    """Keep migrations free of application types: they must not change when the app does."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(item, sa.Enum):
        return f"sa.String(length={item.length})  # + a CHECK constraint: write it out"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone() -> None:
    from aimtrack.config import load_settings  # noqa: PLC0415 - only for hand-run alembic
    from aimtrack.storage.engine import create_engine  # noqa: PLC0415

    engine = create_engine(load_settings().resolved_database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_configure)
    finally:
        await engine.dispose()


def run() -> None:
    if context.is_offline_mode():
        msg = "offline (--sql) migrations are not supported; run `aimtrack db upgrade`"
        raise SystemExit(msg)
    shared = context.config.attributes.get("connection")
    if shared is not None:
        _configure(shared)
    else:
        asyncio.run(_run_standalone())


run()
