"""An installation to back up (two users with everything, their files on disk) and the means to
compare two installations row by row and byte by byte, or to tamper with an archive."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from aimtrack.core.model import ConversationState
from aimtrack.storage import migrate
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ConversationRepo, JobQueue
from aimtrack.storage.repos.updates import UpdateLog
from aimtrack.storage.repos.web_links import WebLinkLog
from aimtrack.storage.tables import AttachmentRow, Base
from tests.helpers.factories import Seeded, seed_user

NOW = datetime(2026, 12, 1, 20, tzinfo=UTC)


def url_of(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


@dataclass(frozen=True)
class Installation:
    """Where an AimTrack keeps its data: a database and a data directory."""

    url: str
    data_dir: Path

    @property
    def attachments(self) -> Path:
        return self.data_dir / "attachments"


def content(path: str) -> bytes:
    """Distinct bytes for every file, binary and not too small."""
    return hashlib.sha256(path.encode()).digest() * 64 + bytes(range(256)) + path.encode()


def write_file(data_dir: Path, path: str) -> None:
    target = data_dir / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content(path))


async def seed_installation(
    database: Database, data_dir: Path, *, users: tuple[tuple[int, str], ...] | None = None
) -> list[Seeded]:
    """Users with one of everything (tests/factories.py), a row in every other table, and
    their files on disk: each attachment row's file, a draft photo no row names yet, and a
    stray PDF no row names at all."""
    seeded: list[Seeded] = []
    async with database.transaction() as session:
        for telegram_id, marker in users or ((111, "alice"), (222, "bob")):
            user = await seed_user(session, telegram_id=telegram_id, marker=marker)
            seeded.append(user)
            draft_photo = f"attachments/{user.user_id}/{marker}-draft.jpg"
            await ConversationRepo(session, user.user_id).save(
                ConversationState(
                    transport="console",
                    chat_id=f"{marker}-console",
                    flow="session",
                    step="photos",
                    draft={"photos": [{"path": draft_photo, "mime": "image/jpeg"}]},
                )
            )
            await JobQueue(session).enqueue(
                "reflection", user_id=user.user_id, payload={"session_id": user.session}, now=NOW
            )
            await UpdateLog(session).claim("telegram", telegram_id * 1000)
            await WebLinkLog(session).use(
                f"{marker}-nonce",
                user_id=user.user_id,
                expires_at=NOW + timedelta(hours=1),
                now=NOW,
            )
        paths = list(await session.scalars(sa.select(AttachmentRow.path)))
    for user in seeded:
        paths += [
            f"attachments/{user.user_id}/{user.marker}-draft.jpg",
            f"attachments/{user.user_id}/{user.marker}-stray.pdf",
        ]
    for path in paths:
        write_file(data_dir, path)
    return seeded


async def every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the models know (so a new table is covered too), in primary
    key order, and the schema revision."""
    database = Database.from_url(url)
    try:
        rows: dict[str, list[tuple[Any, ...]]] = {}
        async with database.transaction(read_only=True) as session:
            for table in Base.metadata.sorted_tables:
                result = await session.execute(
                    sa.select(table).order_by(*table.primary_key.columns)
                )
                rows[table.name] = [tuple(row) for row in result]
        rows["alembic_version"] = [(await migrate.current_revision(database.engine),)]
        return rows
    finally:
        await database.dispose()


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` by its relative path, with its bytes."""
    if not folder.exists():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def everything_in(folder: Path) -> dict[str, bytes | None]:
    """Every entry below ``folder`` (folders as None): what a refused restore must not change."""
    if not folder.exists():
        return {}
    return {
        path.relative_to(folder).as_posix(): None if path.is_dir() else path.read_bytes()
        for path in sorted(folder.rglob("*"))
    }


# --- tampering with archives ----------------------------------------------------------------


@dataclass
class Unpacked:
    """An archive's manifest (as JSON data) and its other members, in order."""

    manifest: dict[str, Any]
    members: dict[str, bytes]

    def entry(self, name: str) -> dict[str, Any]:
        return next(m for m in self.manifest["members"] if m["name"] == name)

    def attachment(self) -> str:
        return next(name for name in self.members if name.startswith("attachments/"))


def unpack(archive: Path) -> Unpacked:
    with tarfile.open(archive, "r:gz") as tar:
        members = {}
        for info in tar:
            extracted = tar.extractfile(info)
            assert extracted is not None
            members[info.name] = extracted.read()
    manifest = json.loads(members.pop("manifest.json"))
    return Unpacked(manifest, members)


def pack(
    target: Path,
    unpacked: Unpacked,
    *,
    extra: Callable[[tarfile.TarFile], None] | None = None,
    manifest_first: bool = True,
) -> Path:
    """Write ``unpacked`` as an archive (manifest first unless told), plus what ``extra`` adds."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        manifest = json.dumps(unpacked.manifest).encode()
        items = [("manifest.json", manifest), *unpacked.members.items()]
        if not manifest_first:
            items = [*items[1:], items[0]]
        for name, data in items:
            add_member(tar, name, data)
        if extra is not None:
            extra(tar)
    target.write_bytes(buffer.getvalue())
    return target


def add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def listed(name: str, data: bytes) -> dict[str, Any]:
    """A manifest entry that matches ``data``."""
    return {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def gunzipped(archive: Path) -> bytes:
    return gzip.decompress(archive.read_bytes())
