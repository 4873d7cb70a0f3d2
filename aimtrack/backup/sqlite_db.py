"""SQLite: ``VACUUM INTO`` makes the snapshot; a restore checks and migrates a copy, then
renames it over the live file.

``VACUUM INTO`` reads one consistent state (a read transaction, which in WAL mode neither
waits for nor blocks the bot's writer) and writes it as a fresh, compact database in rollback
mode: one self-contained file, without the free pages in which deleted rows linger.

A restore never writes into the live database. The copy from the archive passes
``PRAGMA integrity_check``, is upgraded to the newest schema and switched to rollback mode
while it is still a separate file; only then is the live database released (switching it out
of WAL needs every other connection closed, so a running AimTrack is noticed and the restore
refused, and it folds the live WAL into the file so no stale ``-wal`` can be replayed onto
the new one) and the copy renamed over it in one atomic step.
"""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Final

from sqlalchemy.engine import make_url

from aimtrack.backup.archive import ArchiveError, BackupError, fsync_dir
from aimtrack.backup.snapshot import (
    ATTACHMENT_PATHS,
    DRAFTS,
    VERSION_TABLE,
    Replacement,
    Snapshot,
    engine_holds_data,
    named_paths,
)
from aimtrack.storage import migrate
from aimtrack.storage.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine

RELEASE_TIMEOUT_S: Final = 2.0
_FILE_MODE: Final = 0o600
_DIR_MODE: Final = 0o700


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _connect(
    path: Path, mode: str, timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000
) -> sqlite3.Connection:
    """A stdlib connection that never creates the file (``mode=rw`` or ``ro``)."""
    return sqlite3.connect(
        f"{path.resolve().as_uri()}?mode={mode}", uri=True, isolation_level=None, timeout=timeout
    )


def _revision(connection: sqlite3.Connection) -> str | None:
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
    ).fetchone()
    if found is None:
        return None
    row = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()  # noqa: S608
    return None if row is None else str(row[0])


def _integrity(connection: sqlite3.Connection) -> str:
    rows = connection.execute("PRAGMA integrity_check").fetchall()
    return "ok" if rows == [("ok",)] else str(rows[0][0])


class SQLiteBackend:
    name = "sqlite"
    member = "database/aimtrack.sqlite3"

    def __init__(self, url: str) -> None:
        database = make_url(url).database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            raise BackupError("backup and restore need a SQLite database file")
        self.path = Path(database)

    async def snapshot(self, workdir: Path) -> Snapshot:
        copy = workdir / "aimtrack.sqlite3"
        await asyncio.to_thread(_vacuum_into, self.path, copy)
        revision, named = await asyncio.to_thread(_read_snapshot, copy)
        return Snapshot(copy, revision, named)

    async def holds_data(self) -> bool:
        if not self.path.exists():
            return False
        engine = create_engine(_sqlite_url(self.path))
        try:
            return await engine_holds_data(engine)
        finally:
            await engine.dispose()

    async def stage(self, staged: Path, revision: str, workdir: Path) -> Replacement:
        await asyncio.to_thread(_check_copy, staged, revision)
        if revision != migrate.head_revision():
            engine = create_engine(_sqlite_url(staged))
            try:
                await migrate.upgrade(engine)
            finally:
                await engine.dispose()
        await asyncio.to_thread(_make_standalone, staged)
        placed = await asyncio.to_thread(_place_beside, staged, self.path)
        try:
            await asyncio.to_thread(_release, self.path)
        except BaseException:
            placed.unlink(missing_ok=True)
            raise
        return _SQLiteReplacement(placed, self.path)


class _SQLiteReplacement:
    def __init__(self, placed: Path, target: Path) -> None:
        self.placed = placed
        self.target = target

    async def apply(self) -> None:
        await asyncio.to_thread(_replace, self.placed, self.target)

    async def discard(self) -> None:
        self.placed.unlink(missing_ok=True)

    async def finish(self) -> str | None:
        return await asyncio.to_thread(_revision_of, self.target)


def _vacuum_into(source: Path, copy: Path) -> None:
    if not source.is_file():
        raise BackupError(f"there is no database at {source}; nothing to back up")
    try:
        connection = _connect(source, "rw")
        try:
            connection.execute("VACUUM INTO ?", (str(copy),))
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy the database {source}: {exc}") from None


def _read_snapshot(copy: Path) -> tuple[str, frozenset[str]]:
    connection = _connect(copy, "ro")
    try:
        problem = _integrity(connection)
        if problem != "ok":
            raise BackupError(f"the copy of the database fails its integrity check: {problem}")
        revision = _revision(connection)
        if revision is None:
            raise BackupError("the database has no AimTrack schema yet; nothing to back up")
        paths = [row[0] for row in connection.execute(ATTACHMENT_PATHS)]
        drafts = [row[0] for row in connection.execute(DRAFTS)]
    finally:
        connection.close()
    return revision, named_paths(paths, drafts)


def _check_copy(staged: Path, revision: str) -> None:
    try:
        connection = _connect(staged, "ro")
        try:
            problem = _integrity(connection)
            found = _revision(connection)
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise ArchiveError(f"the database in the backup cannot be read: {exc}") from None
    if problem != "ok":
        raise ArchiveError(f"the database in the backup fails its integrity check: {problem}")
    if found != revision:
        msg = f"the database in the backup is at revision {found}, its manifest says {revision}"
        raise ArchiveError(msg)


def _make_standalone(path: Path) -> None:
    """Rollback mode, no ``-wal`` beside it, on disk: ready to be renamed anywhere."""
    connection = _connect(path, "rw")
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()
    with path.open("rb+") as file:
        os.fsync(file.fileno())


def _place_beside(staged: Path, target: Path) -> Path:
    """Move (or, across file systems, copy) the staged file next to the target."""
    folder = target.parent
    folder.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.restore-", dir=folder)
    placed = Path(name)
    try:
        try:
            os.close(fd)
            staged.replace(placed)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            with staged.open("rb") as source, placed.open("wb") as copy:
                shutil.copyfileobj(source, copy)
                copy.flush()
                os.fsync(copy.fileno())
        placed.chmod(_FILE_MODE)
        fsync_dir(folder)
    except BaseException:
        placed.unlink(missing_ok=True)
        raise
    return placed


def _sidecars(path: Path) -> tuple[Path, Path, Path]:
    return tuple(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))  # type: ignore[return-value]


def _release(path: Path) -> None:
    """Make the live database a single closed file, or refuse when something has it open."""
    wal, shm, journal = _sidecars(path)
    if path.exists():
        in_use = BackupError(
            f"the database {path} is in use; stop AimTrack (and anything else using it)"
            " before restoring"
        )
        try:
            connection = _connect(path, "rw", timeout=RELEASE_TIMEOUT_S)
            try:
                mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            finally:
                connection.close()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise in_use from None
            raise BackupError(f"cannot open the database {path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a database this restore can replace: {exc}") from None
        if mode != "delete" or journal.exists():
            raise in_use
    else:
        journal.unlink(missing_ok=True)  # a journal without its database belongs to nothing
    # With the live file closed and out of WAL, a -wal or -shm left here belongs to nothing;
    # renamed over, the new file would have it replayed onto it.
    wal.unlink(missing_ok=True)
    shm.unlink(missing_ok=True)


def _replace(placed: Path, target: Path) -> None:
    placed.replace(target)
    fsync_dir(target.parent)


def _revision_of(path: Path) -> str | None:
    connection = _connect(path, "ro")
    try:
        return _revision(connection)
    finally:
        connection.close()
