"""Migrations build exactly the schema the models describe, both ways, on both backends."""

from __future__ import annotations

import stat
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from aimtrack.storage import migrate
from aimtrack.storage.engine import create_engine
from aimtrack.storage.tables import Base
from tests.conftest import BlankDatabase


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _check_constraints(connection: Connection) -> dict[str, set[str]]:
    inspector = sa.inspect(connection)
    return {
        table: {str(ck["name"]) for ck in inspector.get_check_constraints(table)}
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }


def _model_check_constraints() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table in Base.metadata.sorted_tables:
        names = {
            str(constraint.name)
            for constraint in table.constraints
            if isinstance(constraint, sa.CheckConstraint)
        }
        # Enum columns carry their CHECK on the type, not the table, until DDL is compiled.
        for column in table.columns:
            if isinstance(column.type, sa.Enum) and column.type.name:
                names.add(f"ck_{table.name}_{column.type.name}")
        found[table.name] = names
    return found


async def _schema_report(url: str) -> tuple[list[Any], dict[str, set[str]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            drift = await connection.run_sync(_drift)
            checks = await connection.run_sync(_check_constraints)
    finally:
        await engine.dispose()
    return drift, checks


async def test_blank_database_upgrades_to_head_without_drift(blank_database: BlankDatabase) -> None:
    engine = create_engine(blank_database.url)
    try:
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()

    drift, checks = await _schema_report(blank_database.url)
    assert drift == []
    assert checks == _model_check_constraints()


async def test_downgrade_to_base_and_upgrade_again(blank_database: BlankDatabase) -> None:
    engine = create_engine(blank_database.url)
    try:
        await migrate.upgrade(engine)
        await migrate.downgrade(engine, "base")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        assert set(tables) <= {"alembic_version"}
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()

    drift, _ = await _schema_report(blank_database.url)
    assert drift == []


async def test_upgrade_twice_is_a_no_op(blank_database: BlankDatabase) -> None:
    engine = create_engine(blank_database.url)
    try:
        await migrate.upgrade(engine)
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [("journal_mode", "wal"), ("foreign_keys", 1), ("synchronous", 2), ("busy_timeout", 10_000)],
)
async def test_sqlite_is_opened_for_durability(
    tmp_path: Any, pragma: str, expected: object
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        async with engine.connect() as connection:
            value = (await connection.exec_driver_sql(f"PRAGMA {pragma}")).scalar()
    finally:
        await engine.dispose()
    assert value == expected


async def test_sqlite_data_dir_is_created(tmp_path: Any) -> None:
    target = tmp_path / "nested" / "dir" / "aimtrack.db"
    engine = create_engine(f"sqlite+aiosqlite:///{target}")
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    assert target.exists()
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
