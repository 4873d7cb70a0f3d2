"""PostgreSQL: ``pg_dump`` (custom format) makes the snapshot; ``psql`` restores it in one
transaction.

The snapshot: one ``REPEATABLE READ`` transaction exports its snapshot, reads the schema
revision and the attachment paths, and keeps it open while ``pg_dump --snapshot`` dumps
exactly that state, so the manifest, the file list and the dump agree.

The restore: ``pg_restore`` turns the dump into SQL (nothing is connected yet), then ``psql
--single-transaction`` drops every table and sequence in the target's schema and runs that
SQL; it commits as a whole or not at all. Migrations to the newest schema run afterwards in a
transaction of their own.

The connection settings travel to the tools in libpq's environment variables (``PGHOST``,
``PGPASSWORD``, ...), never on the command line, where other users could see them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from asyncio.subprocess import DEVNULL, PIPE
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from aimtrack.backup.archive import BackupError
from aimtrack.backup.snapshot import (
    ATTACHMENT_PATHS,
    DRAFTS,
    VERSION_TABLE,
    Replacement,
    Snapshot,
    engine_holds_data,
    named_paths,
)
from aimtrack.config import ENV_PREFIX
from aimtrack.storage import migrate
from aimtrack.storage.engine import create_engine

PG_LIB: Final = Path("/usr/lib/postgresql")  # Debian and Ubuntu: one bin/ per major version
_SSL_MODES: Final = {
    mode: mode for mode in ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
} | {"true": "require", "false": "disable"}
_MAX_ERROR: Final = 300

# Run first in the restore's transaction: the target's schema loses every table and
# sequence (also those a newer schema added, which the dump would not replace).
DROP_EVERYTHING: Final = """
SET LOCAL client_min_messages = warning;
DO $$
DECLARE item record;
BEGIN
  FOR item IN SELECT schemaname, tablename FROM pg_tables
              WHERE schemaname = current_schema() LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I.%I CASCADE', item.schemaname, item.tablename);
  END LOOP;
  FOR item IN SELECT schemaname, sequencename FROM pg_sequences
              WHERE schemaname = current_schema() LOOP
    EXECUTE format('DROP SEQUENCE IF EXISTS %I.%I CASCADE', item.schemaname, item.sequencename);
  END LOOP;
END $$;
"""


def find_tool(
    name: str,
    bindir: Path | None = None,
    *,
    search_path: str | None = None,
    fallback_root: Path = PG_LIB,
) -> Path:
    """``bindir/name`` when a folder is given; else the one on PATH; else the newest
    ``/usr/lib/postgresql/<version>/bin/name``."""
    if bindir is not None:
        candidate = bindir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
        raise BackupError(f"{name} not found in {bindir} (the folder given with --pg-bin)")
    found = shutil.which(name, path=search_path)
    if found:
        return Path(found)
    for folder in sorted(fallback_root.glob("*/bin"), key=_major_version, reverse=True):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    msg = (
        f"{name} not found: install the PostgreSQL client tools"
        " (Debian: apt install postgresql-client) or name their folder with --pg-bin"
    )
    raise BackupError(msg)


def _major_version(folder: Path) -> int:
    version = folder.parent.name
    return int(version) if version.isdecimal() else 0


def libpq_environment(url: str) -> dict[str, str]:
    """The connection of a SQLAlchemy URL as libpq environment variables."""
    parsed = make_url(url)
    query = {
        key: value if isinstance(value, str) else value[0] for key, value in parsed.query.items()
    }
    values = {
        "PGHOST": parsed.host or query.get("host"),
        "PGPORT": str(parsed.port) if parsed.port else query.get("port"),
        "PGUSER": parsed.username or query.get("user"),
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
    }
    ssl = query.get("sslmode") or query.get("ssl")
    if ssl:
        values["PGSSLMODE"] = _SSL_MODES.get(ssl.lower(), "require")
    env = {"PGAPPNAME": "aimtrack-backup", "PGCONNECT_TIMEOUT": "30"}
    env.update({key: str(value) for key, value in values.items() if value})
    return env


async def run_tool(tool: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
    """Run a client tool; a failure is a :class:`BackupError` naming its first error line."""
    secret = (env or {}).get("PGPASSWORD")
    process = await asyncio.create_subprocess_exec(
        str(tool),
        *args,
        stdin=DEVNULL,
        stdout=DEVNULL,
        stderr=PIPE,
        env=_environment(env),
    )
    try:
        _, errors = await process.communicate()
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    if process.returncode:
        detail = _first_error(errors.decode("utf-8", "replace"), process.returncode)
        if secret:
            detail = detail.replace(secret, "***")
        raise BackupError(f"{tool.name} failed: {detail}")


def _environment(libpq: Mapping[str, str] | None) -> dict[str, str]:
    """What the tools inherit (HOME for ~/.pgpass, PATH, the locale) plus the connection, but
    not AimTrack's own settings: the bot token and the keys are none of their business."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    return {**inherited, **(libpq or {})}


def _first_error(text: str, status: int) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "ERROR" in line or "FATAL" in line or "error:" in line:
            return line[:_MAX_ERROR]
    return lines[0][:_MAX_ERROR] if lines else f"exit status {status}"


async def _revision(connection: AsyncConnection) -> str | None:
    if await connection.scalar(sa.text(f"SELECT to_regclass('{VERSION_TABLE}')")) is None:
        return None
    found = await connection.scalar(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608
    return None if found is None else str(found)


class PostgresBackend:
    name = "postgresql"
    member = "database/aimtrack.pgdump"

    def __init__(self, url: str, *, bindir: Path | None = None) -> None:
        self.url = url
        self.bindir = bindir
        self.env = libpq_environment(url)

    async def snapshot(self, workdir: Path) -> Snapshot:
        pg_dump = find_tool("pg_dump", self.bindir)
        dump = workdir / "aimtrack.pgdump"
        engine = create_engine(self.url)
        try:
            async with engine.connect() as connection:
                await connection.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
                async with connection.begin():
                    exported = await connection.scalar(sa.text("SELECT pg_export_snapshot()"))
                    revision = await _revision(connection)
                    if revision is None:
                        msg = "the database has no AimTrack schema yet; nothing to back up"
                        raise BackupError(msg)
                    paths = (await connection.scalars(sa.text(ATTACHMENT_PATHS))).all()
                    drafts = (await connection.scalars(sa.text(DRAFTS))).all()
                    await run_tool(
                        pg_dump,
                        "--format=custom",
                        "--no-password",
                        f"--snapshot={exported}",
                        f"--file={dump}",
                        env=self.env,
                    )
        finally:
            await engine.dispose()
        return Snapshot(dump, revision, named_paths(paths, drafts))

    async def holds_data(self) -> bool:
        engine = create_engine(self.url)
        try:
            return await engine_holds_data(engine)
        finally:
            await engine.dispose()

    async def stage(self, staged: Path, revision: str, workdir: Path) -> Replacement:
        pg_restore = find_tool("pg_restore", self.bindir)
        psql = find_tool("psql", self.bindir)
        script = workdir / "restore.sql"
        await run_tool(pg_restore, "--no-owner", "--no-privileges", f"--file={script}", str(staged))
        engine = create_engine(self.url)
        try:  # the server answers (with --force nothing has asked it yet) before anything moves
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        finally:
            await engine.dispose()
        return _PostgresReplacement(self, psql, script, revision)


class _PostgresReplacement:
    def __init__(self, backend: PostgresBackend, psql: Path, script: Path, revision: str) -> None:
        self.backend = backend
        self.psql = psql
        self.script = script
        self.revision = revision

    async def apply(self) -> None:
        await run_tool(
            self.psql,
            "--no-psqlrc",
            "--quiet",
            "--no-password",
            "--set=ON_ERROR_STOP=1",
            "--single-transaction",
            f"--command={DROP_EVERYTHING}",
            f"--file={self.script}",
            env=self.backend.env,
        )

    async def discard(self) -> None:
        """The script lives in the staging folder, which the caller removes."""

    async def finish(self) -> str | None:
        engine = create_engine(self.backend.url)
        try:
            try:
                await migrate.upgrade(engine)
            except (SQLAlchemyError, OSError) as exc:
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                msg = (
                    f"the backup was restored at schema {self.revision}, but upgrading it"
                    f" failed ({reason}); fix the cause and run: aimtrack db upgrade"
                )
                raise BackupError(msg) from None
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()
