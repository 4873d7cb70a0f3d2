"""``aimtrack backup`` and ``aimtrack restore``: the order of the steps is what makes them safe
(docs/backup.md).

Backup: the database is copied first (a consistent snapshot), then the attachment files. A file
is written before the row that names it commits and removed only after the commit that drops
that row, so every file the snapshot names exists when the copy starts, unless a later commit
let it go in the meantime; then the whole backup is taken again (up to :data:`ATTEMPTS` times).
All files are copied, also those no row names yet (a draft's photos, an upload whose turn has
not committed): they cost a little space and make the restore complete.

Restore: the manifest is checked (format, backend, schema revision), then the target (empty
unless ``force``), then every member is extracted into a staging folder inside the data
directory and verified. The database is staged and checked (SQLite: migrated too) before
anything live changes; then the attachments folder is swapped by renames and the database
replaced; if that fails, the previous attachments are put back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from sqlalchemy.engine import make_url

from aimtrack import __version__
from aimtrack.backup.archive import (
    BackupError,
    Manifest,
    Member,
    SourceChanged,
    extract_verified,
    file_digest,
    fsync_dir,
    is_attachment_name,
    read_manifest,
    write_archive,
)
from aimtrack.backup.postgres_db import PostgresBackend
from aimtrack.backup.snapshot import Backend, Replacement, known_revisions
from aimtrack.backup.sqlite_db import SQLiteBackend
from aimtrack.storage import migrate

ATTEMPTS: Final = 3
ATTACHMENTS: Final = "attachments"
_DIR_MODE: Final = 0o700
_LABELS: Final = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    size_bytes: int
    manifest: Manifest
    skipped: tuple[str, ...]  # what lies under attachments/ but is no attachment: left out


@dataclass(frozen=True, slots=True)
class RestoreReport:
    manifest: Manifest
    revision: str | None  # the schema after the restore (and any upgrade)


def backend_for(database_url: str, *, pg_bin: Path | None = None) -> Backend:
    name = make_url(database_url).get_backend_name()
    if name == "sqlite":
        return SQLiteBackend(database_url)
    if name == "postgresql":
        return PostgresBackend(database_url, bindir=pg_bin)
    raise BackupError(f"cannot back up or restore a {name} database")


# --- backup ---------------------------------------------------------------------------------


async def create_backup(
    target: Path,
    *,
    database_url: str,
    data_dir: Path,
    now: datetime,
    overwrite: bool = False,
    pg_bin: Path | None = None,
) -> BackupReport:
    """Write one archive of the database and the attachment files to ``target``."""
    backend = backend_for(database_url, pg_bin=pg_bin)
    await asyncio.to_thread(_check_target, target, overwrite=overwrite)
    for attempt in range(1, ATTEMPTS + 1):
        last = attempt == ATTEMPTS
        with tempfile.TemporaryDirectory(prefix=".aimtrack-backup-", dir=target.parent) as work:
            snapshot = await backend.snapshot(Path(work))
            files, skipped = await asyncio.to_thread(_attachment_files, data_dir)
            sources = {backend.member: snapshot.path, **files}
            members = await asyncio.to_thread(_digests, sources, backend.member)
            missing = sorted(snapshot.named - {member.name for member in members})
            if missing and not last:
                continue  # a file the snapshot names went after it was taken: take it again
            manifest = Manifest(
                created_at=now,
                aimtrack_version=__version__,
                backend=backend.name,
                revision=snapshot.revision,
                database=backend.member,
                members=members,
                missing_attachments=tuple(missing),
            )
            try:
                size = await asyncio.to_thread(
                    write_archive, target, manifest, sources, overwrite=overwrite
                )
            except SourceChanged:
                if last:
                    raise
                continue
            return BackupReport(target, size, manifest, tuple(skipped))
    raise AssertionError("unreachable")  # pragma: no cover - the last attempt returns or raises


def _check_target(target: Path, *, overwrite: bool) -> None:
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists; choose another name or pass --overwrite")


def _attachment_files(data_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """Every attachment file (``attachments/<user>/<file>``) and what else lies there."""
    root = data_dir / ATTACHMENTS
    files: dict[str, Path] = {}
    skipped: list[str] = []
    try:
        with os.scandir(root) as listing:
            users = sorted(listing, key=lambda entry: entry.name)
    except FileNotFoundError:
        return files, skipped
    for user in users:
        if user.name.startswith("."):
            continue
        if not user.is_dir(follow_symlinks=False):
            skipped.append(f"{ATTACHMENTS}/{user.name}")
            continue
        try:
            with os.scandir(user.path) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except FileNotFoundError:  # the folder went with its user
            continue
        for entry in entries:
            name = f"{ATTACHMENTS}/{user.name}/{entry.name}"
            if entry.name.startswith("."):
                continue  # an upload being written (.upload-*.part): not yet anybody's
            if entry.is_file(follow_symlinks=False) and is_attachment_name(name):
                files[name] = Path(entry.path)
            else:
                skipped.append(name)
    return files, skipped


def _digests(sources: dict[str, Path], database: str) -> tuple[Member, ...]:
    """The database first, then every attachment still there."""
    members = []
    for name in [database, *sorted(set(sources) - {database})]:
        try:
            size, digest = file_digest(sources[name])
        except FileNotFoundError:
            if name == database:
                raise
            continue  # removed since it was listed
        members.append(Member(name, size, digest))
    return tuple(members)


# --- restore --------------------------------------------------------------------------------


async def restore_backup(
    archive: Path,
    *,
    database_url: str,
    data_dir: Path,
    force: bool = False,
    pg_bin: Path | None = None,
) -> RestoreReport:
    """Replace the database and the attachment files with the archive's."""
    backend = backend_for(database_url, pg_bin=pg_bin)
    manifest = await asyncio.to_thread(read_manifest, archive)
    _check_compatible(manifest, backend)
    live = data_dir / ATTACHMENTS
    if await asyncio.to_thread(live.is_symlink):
        raise BackupError(f"{live} is a symbolic link; restore needs a real folder there")
    if not force:
        if await backend.holds_data():
            msg = (
                "the database already holds data; restore replaces it only with --force"
                " (back it up first: aimtrack backup FILE)"
            )
            raise BackupError(msg)
        if await asyncio.to_thread(_holds_files, live):
            raise BackupError(f"{live} is not empty; restore replaces it only with --force")

    created, staging = await asyncio.to_thread(_make_staging, data_dir)
    replacement: Replacement | None = None
    done = False
    try:
        extracted = staging / "archive"
        extracted.mkdir(mode=_DIR_MODE)
        await asyncio.to_thread(extract_verified, archive, extracted, manifest)
        staged = extracted.joinpath(*manifest.database.split("/"))
        replacement = await backend.stage(staged, manifest.revision, staging)
        previous = staging / "previous-attachments"
        await asyncio.to_thread(_swap, extracted / ATTACHMENTS, live, previous)
        try:
            await replacement.apply()
        except BaseException:
            await asyncio.to_thread(_swap, live, staging / "failed-attachments", None)
            await asyncio.to_thread(_swap, previous, live, None)
            raise
        applied, done = replacement, True
    finally:
        if not done and replacement is not None:
            await replacement.discard()
        await asyncio.to_thread(shutil.rmtree, staging, ignore_errors=True)
        if not done and created:
            await asyncio.to_thread(_remove_if_empty, data_dir)
    return RestoreReport(manifest, await applied.finish())


def _make_staging(data_dir: Path) -> tuple[bool, Path]:
    """A private folder for the restore inside the data directory (created if need be): on
    the same file system, so that putting things in place is a rename."""
    created = not data_dir.exists()
    data_dir.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    return created, Path(tempfile.mkdtemp(prefix=".aimtrack-restore-", dir=data_dir))


def _check_compatible(manifest: Manifest, backend: Backend) -> None:
    if manifest.backend != backend.name:
        msg = (
            f"this backup holds a {_LABELS[manifest.backend]} database and AimTrack is set up"
            f" for {_LABELS[backend.name]}; restoring across database backends is not supported"
        )
        raise BackupError(msg)
    if manifest.revision not in known_revisions():
        msg = (
            f"the backup's database schema ({manifest.revision}) is newer than this AimTrack"
            f" knows (newest {migrate.head_revision()}); restore it with AimTrack"
            f" {manifest.aimtrack_version} or newer"
        )
        raise BackupError(msg)


def _holds_files(folder: Path) -> bool:
    if not folder.exists():
        return False
    if not folder.is_dir():
        return True
    return any(not path.is_dir() or path.is_symlink() for path in folder.rglob("*"))


def _swap(source: Path, target: Path, displaced: Path | None) -> None:
    """Rename ``source`` to ``target``, first moving an existing ``target`` to ``displaced``
    (with ``displaced`` None, ``target`` must be free). A missing ``source`` leaves
    ``target`` absent."""
    if displaced is not None and target.exists():
        target.rename(displaced)
    try:
        if source.exists():
            source.rename(target)
    except BaseException:
        if displaced is not None and displaced.exists():
            displaced.rename(target)
        raise
    fsync_dir(target.parent)


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()
