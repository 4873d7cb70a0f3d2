"""Backup and restore on each backend: every row of every table and every file comes back, and a
restore that cannot complete leaves the previous installation exactly as it was."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import sqlite3
import stat
import tarfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from aimtrack.backup import archive as archive_module
from aimtrack.backup import service
from aimtrack.backup.archive import ArchiveError, BackupError
from aimtrack.backup.postgres_db import PostgresBackend
from aimtrack.backup.service import BackupReport, create_backup, restore_backup
from aimtrack.backup.snapshot import Backend, Snapshot
from aimtrack.backup.sqlite_db import SQLiteBackend, _SQLiteReplacement
from aimtrack.core.model import EntrySpec, SessionSpec, WeaponSpec, WeaponType
from aimtrack.storage import migrate
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import AttachmentRepo, SessionRepo, WeaponRepo
from aimtrack.storage.tables import Base
from tests.helpers.backup_data import (
    NOW,
    Installation,
    Unpacked,
    add_member,
    content,
    every_row,
    everything_in,
    files_under,
    listed,
    pack,
    seed_installation,
    unpack,
    url_of,
    write_file,
)
from tests.helpers.databases import BlankFactory

HEAD = migrate.head_revision()


@pytest.fixture
async def source(db: Database, tmp_path: Path) -> Installation:
    """A running installation with two users' data and their files."""
    await seed_installation(db, tmp_path / "data")
    return Installation(url_of(db), tmp_path / "data")


@pytest.fixture
async def fresh(backend: str, tmp_path: Path, blank_databases: BlankFactory) -> Installation:
    """Somewhere new to restore into: no database file (SQLite) or an empty database, and no
    data directory."""
    if backend == "sqlite":
        folder = tmp_path / "restored"
        return Installation(f"sqlite+aiosqlite:///{folder / 'aimtrack.db'}", folder)
    return Installation((await blank_databases()).url, tmp_path / "restored")


async def previous(target: Installation) -> dict[str, Any]:
    """Give ``target`` data of its own (carol's), and return what it holds."""
    database = Database.from_url(target.url)
    try:
        await migrate.upgrade(database.engine)
        await seed_installation(database, target.data_dir, users=((333, "carol"),))
    finally:
        await database.dispose()
    return await state_of(target)


async def state_of(target: Installation) -> dict[str, Any]:
    """Rows and files; SQLite's own files are compared by their rows (opening a database
    rewrites its header)."""
    files = everything_in(target.data_dir)
    return {
        "rows": await every_row(target.url),
        "files": {name: data for name, data in files.items() if not name.startswith("aimtrack.db")},
    }


def named(rows: dict[str, list[tuple[Any, ...]]], table: str) -> list[dict[str, Any]]:
    columns = [column.name for column in Base.metadata.tables[table].columns]
    return [dict(zip(columns, row, strict=True)) for row in rows[table]]


def hidden(folder: Path) -> list[str]:
    """Dot-files and -folders: what a backup or restore leaves behind by mistake."""
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


def modes(folder: Path) -> set[int]:
    return {stat.S_IMODE(path.stat().st_mode) for path in folder.rglob("*")}


ESCAPE = "escaped-aimtrack-restore-member"  # what hostile member names aim to write


def escaped(tmp_path: Path) -> bool:
    """Did a hostile member name write outside the restore?"""
    return any(tmp_path.rglob(ESCAPE)) or Path("/tmp", ESCAPE).exists()  # noqa: S108


async def backup(source: Installation, archive: Path, **options: Any) -> BackupReport:
    return await create_backup(
        archive, database_url=source.url, data_dir=source.data_dir, now=NOW, **options
    )


async def restore(archive: Path, target: Installation, **options: Any) -> service.RestoreReport:
    return await restore_backup(
        archive, database_url=target.url, data_dir=target.data_dir, **options
    )


async def test_a_restore_brings_back_every_row_of_every_table_and_every_file(
    source: Installation, fresh: Installation, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tar.gz"
    report = await backup(source, archive)
    rows = await every_row(source.url)
    empty = [name for name, found in rows.items() if not found]
    assert not empty, (
        f"seed these tables too (tests/backup_data.py), or nothing checks them: {empty}"
    )
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert hidden(tmp_path) == []  # no temporary file left
    manifest = report.manifest
    assert (manifest.revision, manifest.created_at, manifest.missing_attachments) == (HEAD, NOW, ())
    files = files_under(source.attachments)
    assert {
        m.name.removeprefix("attachments/"): (m.size, m.sha256) for m in manifest.attachments
    } == {name: (len(data), hashlib.sha256(data).hexdigest()) for name, data in files.items()}

    restored = await restore(archive, fresh)

    assert restored.revision == HEAD
    assert await every_row(fresh.url) == rows
    assert files_under(fresh.attachments) == files
    assert hidden(fresh.data_dir) == []  # no staging folder left
    assert modes(fresh.attachments) == {0o700, 0o600}

    # The restored database carries on: new rows get new ids (PostgreSQL's sequences too).
    database = Database.from_url(fresh.url)
    try:
        async with database.transaction() as session:
            user_id = rows["users"][0][0]
            added = await WeaponRepo(session, user_id).add(
                WeaponSpec(name="New after restore", weapon_type=WeaponType.PISTOL)
            )
    finally:
        await database.dispose()
    assert added.id > max(weapon["id"] for weapon in named(rows, "weapons"))


async def test_restore_into_data_refuses_without_force_and_replaces_it_with_force(
    source: Installation, fresh: Installation, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tar.gz"
    await backup(source, archive)
    before = await previous(fresh)

    with pytest.raises(BackupError, match=r"already holds data; .*--force"):
        await restore(archive, fresh)
    assert await state_of(fresh) == before

    await restore(archive, fresh, force=True)
    assert await every_row(fresh.url) == await every_row(source.url)
    assert files_under(fresh.attachments) == files_under(source.attachments)


async def test_files_in_the_attachments_folder_count_as_data(
    source: Installation, fresh: Installation, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tar.gz"
    await backup(source, archive)
    (fresh.attachments / "9").mkdir(parents=True)
    (fresh.attachments / "9" / "left.jpg").write_bytes(b"someone's photo")

    with pytest.raises(BackupError, match=r"attachments is not empty; .*--force"):
        await restore(archive, fresh)
    assert (fresh.attachments / "9" / "left.jpg").exists()

    await restore(archive, fresh, force=True)
    assert files_under(fresh.attachments) == files_under(source.attachments)


def _changed_byte(data: bytes) -> bytes:
    return data[:100] + bytes([data[100] ^ 0x01]) + data[101:]


def _attachment_byte(u: Unpacked) -> None:
    name = u.attachment()
    u.members[name] = _changed_byte(u.members[name])


def _database_byte(u: Unpacked) -> None:
    name = u.manifest["database"]
    u.members[name] = _changed_byte(u.members[name])


def _missing_member(u: Unpacked) -> None:
    del u.members[u.attachment()]


def _listed_not_present(u: Unpacked) -> None:
    u.manifest["members"].append(listed("attachments/1/ghost.jpg", b"boo"))


def _present_not_listed(u: Unpacked) -> None:
    u.members["attachments/1/extra.jpg"] = b"not in the manifest"


def _traversal_listed(u: Unpacked) -> None:
    u.members[f"../{ESCAPE}"] = b"escape"
    u.manifest["members"].append(listed(f"../{ESCAPE}", b"escape"))


def _traversal_hidden_in_a_path(u: Unpacked) -> None:
    name = f"attachments/1/../../../{ESCAPE}"
    u.members[name] = b"escape"
    u.manifest["members"].append(listed(name, b"escape"))


def _absolute(u: Unpacked) -> None:
    u.members[f"/tmp/{ESCAPE}"] = b"escape"  # noqa: S108 - a name in a hostile archive


def _size_lie(u: Unpacked) -> None:
    u.entry(u.attachment())["size"] += 1


def _newer_format(u: Unpacked) -> None:
    u.manifest["format_version"] = 2


def _not_a_backup(u: Unpacked) -> None:
    u.manifest["format"] = "something-else"


TAMPERED: dict[str, tuple[Callable[[Unpacked], None], str]] = {
    "a byte changed in an attachment": (_attachment_byte, "does not match its checksum"),
    "a byte changed in the database": (_database_byte, "does not match its checksum"),
    "a member missing": (_missing_member, "lacks 'attachments/"),
    "the manifest lists a file not present": (_listed_not_present, "lacks 'attachments/1/ghost"),
    "a member the manifest omits": (_present_not_listed, "which the manifest omits"),
    "a member named ../x": (_traversal_listed, "unsafe or unknown name"),
    "a member named attachments/1/../../../x": (_traversal_hidden_in_a_path, "unsafe"),
    "a member with an absolute name": (_absolute, "which the manifest omits"),
    "a size that is not the manifest's": (_size_lie, "another size"),
    "a newer archive format": (_newer_format, "archive format 2, made by a newer AimTrack"),
    "no AimTrack manifest": (_not_a_backup, "not an AimTrack backup"),
}


@pytest.mark.parametrize("kind", list(TAMPERED))
async def test_a_tampered_archive_is_refused_before_anything_is_written(
    kind: str, source: Installation, fresh: Installation, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tar.gz"
    await backup(source, archive)
    tamper, reason = TAMPERED[kind]
    unpacked = unpack(archive)
    tamper(unpacked)
    forged = pack(tmp_path / "forged.tar.gz", unpacked)
    before = await previous(fresh)

    with pytest.raises(ArchiveError, match=reason):
        await restore(forged, fresh, force=True)

    assert await state_of(fresh) == before
    assert hidden(tmp_path) == []
    assert not escaped(tmp_path)


def _flip_a_compressed_byte(archive: Path) -> None:
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))


def _truncate(archive: Path) -> None:
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])


def _not_gzip(archive: Path) -> None:
    archive.write_bytes(b"PK\x03\x04 this is a zip, or anything else")


def _symlink_member(archive: Path) -> None:
    unpacked = unpack(archive)
    unpacked.manifest["members"].append(listed("attachments/1/link.jpg", b""))

    def link(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo("attachments/1/link.jpg")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)

    pack(archive, unpacked, extra=link)


def _manifest_last(archive: Path) -> None:
    pack(archive, unpack(archive), manifest_first=False)


def _member_twice(archive: Path) -> None:
    unpacked = unpack(archive)
    name = unpacked.attachment()
    pack(archive, unpacked, extra=lambda tar: add_member(tar, name, unpacked.members[name]))


DAMAGED: dict[str, tuple[Callable[[Path], None], str]] = {
    "a compressed byte flipped": (_flip_a_compressed_byte, "damaged|checksum|omits|twice|size"),
    "cut in half": (_truncate, "damaged or not a backup archive"),
    "not a gzip file": (_not_gzip, "damaged or not a backup archive"),
    "a symlink member": (_symlink_member, "not a regular file"),
    "the manifest not first": (_manifest_last, "no manifest.json first"),
    "a member twice": (_member_twice, "twice"),
}


@pytest.mark.parametrize("kind", list(DAMAGED))
async def test_a_damaged_archive_is_refused_before_anything_is_written(
    kind: str, source: Installation, fresh: Installation, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tar.gz"
    await backup(source, archive)
    damage, reason = DAMAGED[kind]
    damage(archive)
    before = await previous(fresh)

    with pytest.raises(ArchiveError, match=reason):
        await restore(archive, fresh, force=True)

    assert await state_of(fresh) == before


async def test_a_backup_from_a_newer_schema_is_refused(
    source: Installation, fresh: Installation, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tar.gz"
    await backup(source, archive)
    unpacked = unpack(archive)
    unpacked.manifest["alembic_revision"] = "9999"
    pack(archive, unpacked)
    before = await previous(fresh)

    with pytest.raises(BackupError, match=rf"schema \(9999\) is newer .* \(newest {HEAD}\)"):
        await restore(archive, fresh, force=True)
    assert await state_of(fresh) == before


async def test_a_backup_of_the_other_backend_is_refused_clearly(
    source: Installation, fresh: Installation, backend: str, tmp_path: Path
) -> None:
    """SQLite to PostgreSQL (or back) is not supported: it fails before anything changes."""
    archive = tmp_path / "backup.tar.gz"
    await backup(source, archive)
    unpacked = unpack(archive)
    other = "postgresql" if backend == "sqlite" else "sqlite"
    unpacked.manifest["backend"] = other
    pack(archive, unpacked)
    before = await previous(fresh)

    with pytest.raises(BackupError, match="restoring across database backends is not supported"):
        await restore(archive, fresh, force=True)
    assert await state_of(fresh) == before


async def test_an_older_schema_restores_and_is_upgraded(
    blank_databases: BlankFactory, fresh: Installation, tmp_path: Path
) -> None:
    old = Database.from_url((await blank_databases()).url)
    try:
        await migrate.upgrade(old.engine, "0003")
        users = sa.table(
            "users",
            *(sa.column(name) for name in ("id", "display_name", "language", "timezone")),
            *(sa.column(name) for name in ("is_allowed", "is_admin")),
            sa.column("created_at", sa.DateTime(timezone=True)),
            sa.column("updated_at", sa.DateTime(timezone=True)),
        )
        async with old.engine.begin() as connection:
            await connection.execute(
                users.insert().values(
                    id=7,
                    display_name="from 0003",
                    language="nl",
                    timezone="Europe/Amsterdam",
                    is_allowed=True,
                    is_admin=False,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        source = Installation(url_of(old), tmp_path / "old-data")
        write_file(source.data_dir, "attachments/7/old.jpg")
        archive = tmp_path / "old.tar.gz"
        report = await backup(source, archive)
    finally:
        await old.dispose()
    assert report.manifest.revision == "0003"

    restored = await restore(archive, fresh)

    assert restored.revision == HEAD
    rows = await every_row(fresh.url)
    assert rows["alembic_version"] == [(HEAD,)]
    (user,) = rows["users"]
    columns = [column.name for column in Base.metadata.tables["users"].columns]
    found = dict(zip(columns, user, strict=True))
    assert (found["id"], found["display_name"], found["reminders"]) == (7, "from 0003", False)
    assert files_under(fresh.attachments) == {"7/old.jpg": content("attachments/7/old.jpg")}


async def _writer(
    database: Database,
    *,
    user_id: int,
    weapon_id: int,
    stop: asyncio.Event,
    under_way: asyncio.Event,
    saved: list[int],
) -> None:
    """Save sessions of two entries each, one transaction per session, until told to stop;
    ``under_way`` is set after the third."""
    while not stop.is_set():
        async with database.transaction() as session:
            created = await SessionRepo(session, user_id).create(
                SessionSpec(occurred_on=date(2026, 11, 1)),
                [EntrySpec(weapon_id=weapon_id, distance_m=25, shots=10)] * 2,
            )
        saved.append(created.id)
        if len(saved) == 3:
            under_way.set()
        await asyncio.sleep(0)


async def test_a_backup_taken_while_sessions_are_being_saved_is_consistent(
    db: Database, fresh: Installation, backend: str, tmp_path: Path
) -> None:
    (alice, _bob) = await seed_installation(db, tmp_path / "data")
    source = Installation(url_of(db), tmp_path / "data")
    stop, under_way, saved = asyncio.Event(), asyncio.Event(), list[int]()
    writer = asyncio.create_task(
        _writer(
            db,
            user_id=alice.user_id,
            weapon_id=alice.weapon_used,
            stop=stop,
            under_way=under_way,
            saved=saved,
        )
    )
    await under_way.wait()
    try:
        report = await backup(source, tmp_path / "busy.tar.gz")
    finally:
        stop.set()
        await writer
    if backend == "sqlite":
        unpacked = unpack(tmp_path / "busy.tar.gz")
        copy = tmp_path / "copy.db"
        copy.write_bytes(unpacked.members[report.manifest.database])
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        connection.close()

    await restore(tmp_path / "busy.tar.gz", fresh)

    rows = await every_row(fresh.url)
    sessions = {row["id"] for row in named(rows, "sessions")} - {alice.session, _bob.session}
    entries = [e for e in named(rows, "session_weapon_entries") if e["session_id"] in sessions]
    assert set(saved[:3]) <= sessions <= set(saved)  # what was saved before the backup, at least
    assert len(entries) == 2 * len(sessions)  # every session with both its entries, or none
    if backend == "sqlite":
        restored = fresh.data_dir / "aimtrack.db"
        with sqlite3.connect(restored) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        connection.close()


class _LetsGoOfAFile:
    """A backend whose first snapshot is followed by the bot deleting an attachment: the row
    commits away, then its file is removed, before the files are copied."""

    def __init__(
        self, inner: Backend, database: Database, user_id: int, attachment_id: int, data_dir: Path
    ) -> None:
        self.inner, self.database, self.data_dir = inner, database, data_dir
        self.user_id, self.attachment_id = user_id, attachment_id
        self.name, self.member = inner.name, inner.member
        self.snapshots = 0

    async def snapshot(self, workdir: Path) -> Snapshot:
        taken = await self.inner.snapshot(workdir)
        self.snapshots += 1
        if self.snapshots == 1:
            async with self.database.transaction() as session:
                gone = await AttachmentRepo(session, self.user_id).delete(self.attachment_id)
            (self.data_dir / gone.path).unlink()
        return taken

    async def holds_data(self) -> bool:
        return await self.inner.holds_data()

    async def stage(self, staged: Path, revision: str, workdir: Path) -> Any:
        return await self.inner.stage(staged, revision, workdir)


async def test_a_file_let_go_during_the_backup_makes_it_start_again(
    db: Database, fresh: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (alice, _bob) = await seed_installation(db, tmp_path / "data")
    source = Installation(url_of(db), tmp_path / "data")
    backends: list[_LetsGoOfAFile] = []

    def backend_for(url: str, *, pg_bin: Path | None = None) -> Backend:
        inner = SQLiteBackend(url) if url.startswith("sqlite") else PostgresBackend(url)
        backends.append(
            _LetsGoOfAFile(inner, db, alice.user_id, alice.attachment_weapon, source.data_dir)
        )
        return backends[-1]

    monkeypatch.setattr(service, "backend_for", backend_for)
    report = await backup(source, tmp_path / "backup.tar.gz")
    monkeypatch.undo()

    assert backends[0].snapshots == 2
    assert report.manifest.missing_attachments == ()
    await restore(tmp_path / "backup.tar.gz", fresh)
    assert await every_row(fresh.url) == await every_row(source.url)
    assert files_under(fresh.attachments) == files_under(source.attachments)


async def test_a_file_missing_for_good_is_named_in_the_manifest(
    source: Installation, fresh: Installation, tmp_path: Path
) -> None:
    lost = next(iter(sorted(source.attachments.rglob("*-session.jpg"))))
    lost.unlink()

    report = await backup(source, tmp_path / "backup.tar.gz")

    name = lost.relative_to(source.data_dir).as_posix()
    assert report.manifest.missing_attachments == (name,)
    restored = await restore(tmp_path / "backup.tar.gz", fresh)
    assert restored.manifest.missing_attachments == (name,)
    assert files_under(fresh.attachments) == files_under(source.attachments)


async def test_what_is_no_attachment_is_left_out_and_reported(
    source: Installation, tmp_path: Path
) -> None:
    (source.attachments / "README").write_text("not a user's folder")
    (source.attachments / "1" / ".upload-abc.part").write_bytes(b"being written")
    (source.attachments / "1" / "evil").symlink_to("/etc/passwd")

    report = await backup(source, tmp_path / "backup.tar.gz")

    assert report.skipped == ("attachments/1/evil", "attachments/README")
    names = {m.name for m in report.manifest.members}
    assert not any("upload" in name or "evil" in name or "README" in name for name in names)


async def test_a_full_disk_while_extracting_leaves_the_previous_data_intact(
    source: Installation, fresh: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "backup.tar.gz"
    await backup(source, archive)
    before = await previous(fresh)
    real = archive_module._extract
    calls = 0

    def extract_until_the_disk_is_full(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(*args)

    monkeypatch.setattr(archive_module, "_extract", extract_until_the_disk_is_full)
    with pytest.raises(OSError, match="No space left"):
        await restore(archive, fresh, force=True)

    assert await state_of(fresh) == before


async def test_a_database_that_fails_to_go_in_puts_the_previous_files_back(
    source: Installation,
    fresh: Installation,
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQLite: the rename fails. PostgreSQL: psql fails at the very end of the restore's SQL,
    after every table was dropped and loaded: its one transaction rolls back."""
    archive = tmp_path / "backup.tar.gz"
    await backup(source, archive)
    before = await previous(fresh)
    if backend == "sqlite":

        async def full_disk(_self: Any) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(_SQLiteReplacement, "apply", full_disk)
        failure: tuple[type[Exception], str] = (OSError, "No space left")
    else:
        real_stage = PostgresBackend.stage

        async def stage_a_failing_end(self: PostgresBackend, *args: Any) -> Any:
            replacement = await real_stage(self, *args)
            with replacement.script.open("a") as script:  # type: ignore[attr-defined]
                script.write("\nSELECT 1 / 0;\n")
            return replacement

        monkeypatch.setattr(PostgresBackend, "stage", stage_a_failing_end)
        failure = (BackupError, "psql failed: .*division by zero")

    with pytest.raises(failure[0], match=failure[1]):
        await restore(archive, fresh, force=True)

    assert await state_of(fresh) == before


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_restore_is_refused_while_the_sqlite_database_is_open(
    source: Installation, fresh: Installation, tmp_path: Path
) -> None:
    """(PostgreSQL needs no such check: the restore's one transaction takes its locks.)"""
    archive = tmp_path / "backup.tar.gz"
    await backup(source, archive)
    before = await previous(fresh)
    running = Database.from_url(fresh.url)
    try:
        async with running.engine.connect() as connection:
            await connection.execute(sa.text("SELECT count(*) FROM users"))
            with pytest.raises(BackupError, match="is in use; stop AimTrack"):
                await restore(archive, fresh, force=True)
    finally:
        await running.dispose()
    assert await state_of(fresh) == before


async def test_backup_never_overwrites_unless_told(source: Installation, tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar.gz"
    archive.write_bytes(b"an older backup")

    with pytest.raises(BackupError, match="exists; choose another name or pass --overwrite"):
        await backup(source, archive)
    assert archive.read_bytes() == b"an older backup"

    await backup(source, archive, overwrite=True)
    assert unpack(archive).manifest["alembic_revision"] == HEAD
    assert hidden(tmp_path) == []


async def test_a_failing_backup_leaves_no_file_behind(
    source: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = archive_module._add

    def full_disk(tar: tarfile.TarFile, member: Any, *args: Any) -> None:
        if member.name.startswith("attachments/"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(tar, member, *args)

    monkeypatch.setattr(archive_module, "_add", full_disk)
    folder = tmp_path / "backups"
    folder.mkdir()
    with pytest.raises(OSError, match="No space left"):
        await backup(source, folder / "backup.tar.gz")
    assert list(folder.iterdir()) == []


async def test_nothing_to_back_up_says_so(blank_databases: BlankFactory, tmp_path: Path) -> None:
    blank = Installation((await blank_databases()).url, tmp_path / "data")
    database = Database.from_url(blank.url)
    assert await database.ping()  # the SQLite file exists, empty
    await database.dispose()
    with pytest.raises(BackupError, match="no AimTrack schema yet; nothing to back up"):
        await backup(blank, tmp_path / "backup.tar.gz")
    assert not (tmp_path / "backup.tar.gz").exists()


async def test_a_missing_sqlite_file_is_not_created_by_a_backup(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'none' / 'aimtrack.db'}"
    with pytest.raises(BackupError, match="there is no database at"):
        await backup(Installation(url, tmp_path / "none"), tmp_path / "backup.tar.gz")
    assert not (tmp_path / "none").exists()
    assert not (tmp_path / "backup.tar.gz").exists()
