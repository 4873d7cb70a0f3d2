"""What both database backends share: the snapshot they hand over, the attachment paths its
rows name, the revisions this AimTrack knows, and whether a target database holds data."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from aimtrack.storage import migrate

ATTACHMENT_PATHS = "SELECT path FROM attachments"
DRAFTS = "SELECT draft FROM conversation_states"
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A consistent copy of the database, with what was read from that same state."""

    path: Path  # the file that goes into the archive
    revision: str
    named: frozenset[str]  # attachment paths its rows name


class Replacement(Protocol):
    """A restored database, staged and checked, ready to take the live one's place."""

    async def apply(self) -> None:
        """Put it in place; on failure the live database is as it was."""

    async def discard(self) -> None:
        """Remove what staging left outside the staging folder (after a failure)."""

    async def finish(self) -> str | None:
        """After ``apply``: bring the schema up to date; return the revision now."""


class Backend(Protocol):
    name: str  # "sqlite" or "postgresql", as in the manifest
    member: str  # the database's member name in the archive

    async def snapshot(self, workdir: Path) -> Snapshot: ...

    async def holds_data(self) -> bool: ...

    async def stage(self, staged: Path, revision: str, workdir: Path) -> Replacement: ...


def named_paths(attachment_paths: Iterable[str], drafts: Iterable[object]) -> frozenset[str]:
    """Attachment rows' paths, and the paths of photos held by drafts not yet saved (which
    have no attachment row until the session is)."""
    named = set(attachment_paths)
    for draft in drafts:
        value = json.loads(draft) if isinstance(draft, str | bytes) else draft
        named.update(_strings_under_attachments(value))
    return frozenset(named)


def _strings_under_attachments(value: object) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith("attachments/"):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_under_attachments(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_under_attachments(item)


def known_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return frozenset(revision.revision for revision in script.walk_revisions())


async def engine_holds_data(engine: AsyncEngine) -> bool:
    """True when any table but Alembic's holds a row."""
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        for name in sorted(set(tables) - {VERSION_TABLE}):
            query = sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)
            if await connection.scalar(query) is not None:
                return True
    return False
