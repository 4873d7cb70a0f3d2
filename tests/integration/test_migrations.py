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
from aimtrack.storage.tables import Base, CoachMessageRow, CoachThreadRow, JobRow, UserRow
from tests.helpers.databases import BlankDatabase, BlankFactory


def _drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _check_constraints(connection: Connection) -> dict[str, dict[str, str]]:
    """Every CHECK constraint by table and name, with its condition as the database keeps it."""
    inspector = sa.inspect(connection)
    return {
        table: {
            str(ck["name"]): " ".join(str(ck["sqltext"]).split())
            for ck in inspector.get_check_constraints(table)
        }
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }


async def _schema_from_models(url: str) -> dict[str, dict[str, str]]:
    """The CHECK constraints of a database built straight from the models (create_all)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
            return await connection.run_sync(_check_constraints)
    finally:
        await engine.dispose()


async def _schema_report(url: str) -> tuple[list[Any], dict[str, dict[str, str]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            drift = await connection.run_sync(_drift)
            checks = await connection.run_sync(_check_constraints)
    finally:
        await engine.dispose()
    return drift, checks


async def test_blank_database_upgrades_to_head_without_drift(
    blank_databases: BlankFactory,
) -> None:
    blank_database = await blank_databases()
    engine = create_engine(blank_database.url)
    try:
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()

    drift, checks = await _schema_report(blank_database.url)
    assert drift == []
    # Alembic compares no CHECK conditions: compare them with a schema built from the models.
    from_models = await _schema_from_models((await blank_databases()).url)
    assert sum(len(names) for names in from_models.values()) >= 20
    assert checks == from_models


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


async def test_0002_keeps_coach_messages_and_jobs_both_ways(
    blank_database: BlankDatabase,
) -> None:
    """0002 rebuilds coach_messages on SQLite (a new CHECK): the rows must come through."""
    messages = sa.select(CoachMessageRow.content).order_by(CoachMessageRow.id)
    engine = create_engine(blank_database.url)
    try:
        await migrate.upgrade(engine, "0001")
        async with engine.begin() as connection:
            uid = await connection.scalar(
                sa.insert(UserRow).values(timezone="UTC").returning(UserRow.id)
            )
            thread = await connection.scalar(
                sa.insert(CoachThreadRow)
                .values(user_id=uid, title="grip")
                .returning(CoachThreadRow.id)
            )
            for role, content in (("user", "Why left?"), ("assistant", "Trigger slap.")):
                await connection.execute(
                    sa.insert(CoachMessageRow).values(
                        user_id=uid, thread_id=thread, role=role, content=content
                    )
                )
            await connection.execute(sa.insert(JobRow).values(kind="reflect", user_id=uid))

        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            upgraded = (
                await connection.execute(
                    sa.select(
                        CoachMessageRow.content, CoachMessageRow.status, CoachMessageRow.error
                    ).order_by(CoachMessageRow.id)
                )
            ).all()
            jobs = (await connection.execute(sa.select(JobRow.kind, JobRow.sent_message_id))).all()
        assert [tuple(row) for row in upgraded] == [
            ("Why left?", None, None),
            ("Trigger slap.", None, None),
        ]
        assert [tuple(row) for row in jobs] == [("reflect", None)]

        await migrate.downgrade(engine, "0001")
        async with engine.connect() as connection:
            kept = list(await connection.scalars(messages))
            job_count = await connection.scalar(sa.select(sa.func.count()).select_from(JobRow))
        assert (kept, job_count) == (["Why left?", "Trigger slap."], 1)
    finally:
        await engine.dispose()


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
