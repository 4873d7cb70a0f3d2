"""Test harness: every test gets a migrated database that holds no other test's rows.

SQLite always runs. PostgreSQL runs when ``AIMTRACK_TEST_DATABASE_URL`` points at a server
(``scripts/test`` starts a throwaway one when PostgreSQL is installed); with ``CI=true`` a
missing server is an error, never a skip. Which tests run on PostgreSQL too: see
:func:`pytest_generate_tests`.

On SQLite each test copies a migrated template file (one per test process). On PostgreSQL each
test process has one migrated database, emptied before every test that takes it (no rows, no
connection left, id sequences restarted), since creating a database a test cost far more.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import hypothesis
import pytest
from sqlalchemy.engine import make_url

from aimtrack.storage import migrate
from aimtrack.storage.engine import Database, create_engine
from aimtrack.storage.tables import Base
from tests.helpers.databases import BlankDatabase, BlankFactory
from tests.helpers.web import Site, serving

PG_ENV = "AIMTRACK_TEST_DATABASE_URL"

# Locally hypothesis explores new examples every run; CI replays a fixed set, so a red CI is
# never a coin toss (what it finds locally becomes an explicit regression test).
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    hypothesis.settings.load_profile("ci")
BACKENDS = ("sqlite", "postgres")


def _one_tls_context_for_each_kind() -> None:
    """Every httpx client the tests make (PTB's for each bot, the ``openai`` SDK's, the tests'
    own) builds a TLS context and reads the whole CA bundle into it: about 50 ms of CPU each on
    the 2-core machine, more than a test's own work in many of them. Every test speaks plain
    HTTP to 127.0.0.1, so a test process builds each kind of context once. Child processes
    build their own."""
    cached = functools.cache(ssl.create_default_context)
    ssl.create_default_context = cached  # type: ignore[assignment]


_one_tls_context_for_each_kind()


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") == "true" and not os.environ.get(PG_ENV):
        msg = f"CI=true but {PG_ENV} is not set: the PostgreSQL half of the suite would not run"
        raise pytest.UsageError(msg)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's .env or AIMTRACK_* variables, or writes to ./data."""
    for name in list(os.environ):
        if name.startswith("AIMTRACK_") and name != PG_ENV:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _pg_admin_dsn() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL not available: set {PG_ENV} or install Debian's postgresql")
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_url(database: str, driver: str = "postgresql+asyncpg") -> str:
    """SQLAlchemy's URL of ``database`` on the test server (``driver="postgresql"``: the DSN
    that asyncpg takes)."""
    url = make_url(os.environ[PG_ENV]).set(drivername=driver, database=database)
    return url.render_as_string(hide_password=False)


async def _pg_admin(statement: str, *args: object) -> None:
    connection = await asyncpg.connect(_pg_admin_dsn())
    try:
        await connection.execute(statement, *args)
    finally:
        await connection.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that needs a database runs on both backends when it tests storage itself (every
    test under tests/integration, and one marked ``storage``), else on SQLite alone: the
    conversation, the jobs, the transports and the CLI reach the database through the
    repositories, and those are tested on both. A test that names its backends itself
    (``parametrize("backend", ..., indirect=True)``) keeps them."""
    if "backend" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if "backend" in (names.replace(" ", "").split(",") if isinstance(names, str) else names):
            return
    path = Path(str(metafunc.definition.path))
    storage = "integration" in path.parts or metafunc.definition.get_closest_marker("storage")
    metafunc.parametrize("backend", BACKENDS if storage else ("sqlite",), indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgres":
        _pg_admin_dsn()  # skips with a reason when no server is configured
    return name


@pytest.fixture
async def blank_databases(backend: str, tmp_path: Path) -> AsyncIterator[BlankFactory]:
    """Make as many empty databases of this backend as a test needs; all dropped after."""
    created: list[str] = []

    async def make() -> BlankDatabase:
        name = f"aimtrack_blank_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return BlankDatabase(backend, f"sqlite+aiosqlite:///{tmp_path / name}.db")
        await _pg_admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return BlankDatabase(backend, _pg_url(name))

    try:
        yield make
    finally:
        for name in created:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def blank_database(blank_databases: BlankFactory) -> BlankDatabase:
    return await blank_databases()


def run_in_own_loop(work: Callable[[], Awaitable[None]]) -> None:
    """Run async set-up from a session fixture, which may be requested inside a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, work()).result()  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    run_in_own_loop(lambda: _migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """This test process's migrated PostgreSQL database, which ``db`` empties before each test
    that takes it: deleting the few rows a test leaves takes milliseconds, where a fresh
    ``CREATE DATABASE … TEMPLATE`` took about 0.4 s of the server's time a test."""
    _pg_admin_dsn()
    name = f"aimtrack_t_{uuid.uuid4().hex[:12]}"
    run_in_own_loop(lambda: _pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        run_in_own_loop(lambda: _migrate(_pg_url(name)))
        yield name
    finally:
        run_in_own_loop(lambda: _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_head_revision = functools.cache(migrate.head_revision)  # read from the scripts once


async def _pg_empty(name: str) -> None:
    """Make ``name`` as the migrations left it: no connection of an earlier test (a child
    process it started, say), no row in any table, every id sequence at its start."""
    await _pg_admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = $1 AND pid <> pg_backend_pid()",
        name,
    )
    connection = await asyncpg.connect(_pg_url(name, "postgresql"))
    try:
        revision = await connection.fetchval("SELECT version_num FROM alembic_version")
        assert revision == _head_revision(), "a test changed the schema of `db`"
        sequences = await connection.fetch(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        )
        async with connection.transaction():
            for table in reversed(Base.metadata.sorted_tables):  # children before parents
                await connection.execute(f'DELETE FROM "{table.name}"')  # noqa: S608 (our names)
            for row in sequences:
                await connection.execute(f'ALTER SEQUENCE "{row["sequencename"]}" RESTART')
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def db(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Database]:
    """A migrated database of its own for this test."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "aimtrack.db"
        for source in (template, template.with_name(template.name + "-wal")):
            if source.exists():
                shutil.copyfile(
                    source, path.with_name(path.name + source.name[len(template.name) :])
                )
        database = Database.from_url(f"sqlite+aiosqlite:///{path}")
        try:
            yield database
        finally:
            await database.dispose()
        return
    name: str = request.getfixturevalue("pg_database")
    await _pg_empty(name)
    database = Database.from_url(_pg_url(name))
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def site(db: Database) -> AsyncIterator[Site]:
    """The web page of ``db``, with Anna and Bob seeded, served on 127.0.0.1 (the integration
    tier's HTTP tests and the e2e tier's browser tests)."""
    async with serving(db) as served:
        yield served
