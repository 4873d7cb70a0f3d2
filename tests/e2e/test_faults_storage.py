"""Faults of the machine's storage, end to end through the real PTB Application and the fake
Bot API: the disk filling up while an attachment is written, and SQLite's write lock held by
another connection. What must hold: the user is told plainly (in their language) what
happened, nothing is left half-written (no partial file, no attachment row without its file),
the draft stays as it was, and it all works again once the fault is gone (docs/faults.md).
"""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
import stat
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from aimtrack.bot import files
from aimtrack.core.model import Language, ProfileSpec
from aimtrack.storage import engine
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ProfileRepo
from aimtrack.storage.tables import (
    AttachmentRow,
    ConversationRow,
    ProcessedUpdateRow,
    SessionRow,
)
from tests.helpers.chat import jpeg
from tests.helpers.fakebotapi import FakeBotAPI, callback, message, photo
from tests.helpers.telegram import (
    ANNA,
    add_weapon,
    button,
    count,
    reply,
    running_application,
    tap_reply,
    until,
)

CONFIRM = "Klopt dit?"
DISK_FULL = "De schijf is vol"
FAILED = "Er ging iets mis aan mijn kant; er is niets veranderd. Probeer het zo nog eens."


# --- a disk that fills up -------------------------------------------------------------------


class _FillingFile:
    """An upload's temporary file on a disk that fills up halfway through the write."""

    def __init__(self, file: Any) -> None:
        self._file = file

    def write(self, data: bytes) -> int:
        self._file.write(data[: len(data) // 2])  # what fitted is really on disk
        self._file.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self) -> _FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class FullDisk:
    """``os`` as :mod:`aimtrack.bot.files` sees it, on a full disk: writing an upload fails
    halfway (``write``) or its fsync does (``fsync``: the bytes were accepted, but the disk
    cannot hold them). Everything else is the real ``os``."""

    def __init__(self, fails_at: str) -> None:
        self.fails_at = fails_at
        self.failures = 0

    def fdopen(self, fd: int, *args: Any, **kwargs: Any) -> Any:
        file = os.fdopen(fd, *args, **kwargs)
        if self.fails_at != "write":
            return file
        self.failures += 1
        return _FillingFile(file)

    def fsync(self, fd: int) -> None:
        if self.fails_at == "fsync" and not stat.S_ISDIR(os.fstat(fd).st_mode):
            self.failures += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        os.fsync(fd)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def stored_files(data_dir: Path) -> list[Path]:
    """Every file under the attachments folder, temporary ones included."""
    root = data_dir / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def drafts(db: Database) -> list[tuple[str, str, dict[str, Any]]]:
    async with db.transaction(read_only=True) as s:
        rows = (await s.execute(sa.select(ConversationRow))).scalars()
        return [(row.flow, row.step, dict(row.draft)) for row in rows]


async def attachment_paths(db: Database) -> list[str]:
    async with db.transaction(read_only=True) as s:
        return list((await s.execute(sa.select(AttachmentRow.path))).scalars())


async def send_photo(api: FakeBotAPI, *expected: str) -> str:
    """Send a photo and wait until the replies show everything ``expected``."""
    file_id, unique = api.add_file(jpeg((800, 600)))
    before = len(api.sent_texts(ANNA))
    api.push_update(photo(ANNA, [(file_id, unique, 800, 600, 5000)]))

    def since() -> str:
        return "\n".join(api.sent_texts(ANNA, plain=True)[before:])

    await until(lambda: all(text in since() for text in expected))
    return since()


@pytest.mark.storage
@pytest.mark.parametrize("fails_at", ["write", "fsync"])
async def test_a_full_disk_is_said_plainly_and_leaves_no_file_and_the_draft_intact(
    api: FakeBotAPI,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fails_at: str,
) -> None:
    await add_weapon(db, ANNA)
    disk = FullDisk(fails_at)
    async with running_application(api, db, tmp_path):
        monkeypatch.setattr(files, "os", disk)
        # A photo without a session would start a draft: not when it cannot be kept.
        text = await send_photo(api, DISK_FULL)
        assert "Er is niets opgeslagen" in text
        assert await drafts(db) == []
        # A photo for the session being logged: the draft stays as it was.
        assert CONFIRM in await reply(api, message(ANNA, "CZ 75 25m 50 schoten 431"))
        before = await drafts(db)
        await send_photo(api, DISK_FULL)
        assert disk.failures == 2
        assert stored_files(tmp_path) == []  # no partial file, no temporary file
        assert await count(db, AttachmentRow) == 0
        assert await drafts(db) == before

        monkeypatch.setattr(files, "os", os)  # space was made
        assert "Foto toegevoegd (1)" in await send_photo(api, "Foto toegevoegd", CONFIRM)
        text = await tap_reply(api, "Opslaan")

    assert "Opgeslagen" in text
    assert "📷 1 foto" in text
    [path] = await attachment_paths(db)
    assert stored_files(tmp_path) == [tmp_path / path]
    assert await count(db, SessionRow) == 1


@pytest.mark.storage
async def test_a_full_disk_is_said_in_english_to_an_english_user(
    api: FakeBotAPI, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id = await add_weapon(db, ANNA)
    async with db.transaction() as s:
        await ProfileRepo(s, user_id).update(ProfileSpec(display_name="Anna", language=Language.EN))
    async with running_application(api, db, tmp_path):
        monkeypatch.setattr(files, "os", FullDisk("write"))
        text = await send_photo(api, "The disk is full")
    assert "Nothing was saved" in text
    assert stored_files(tmp_path) == []


# --- a database that is busy ----------------------------------------------------------------


@asynccontextmanager
async def write_lock(db: Database) -> AsyncIterator[sqlite3.Connection]:
    """Another connection holding SQLite's write lock (``BEGIN IMMEDIATE``) until the block
    ends; taken in a thread, as it may have to wait for the bot's own writer."""
    path = db.engine.url.database
    assert path is not None
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await asyncio.to_thread(connection.execute, "BEGIN IMMEDIATE")
        yield connection
        await asyncio.to_thread(connection.execute, "ROLLBACK")
    finally:
        connection.close()


def opslaan(api: FakeBotAPI) -> dict[str, Any]:
    """A press on the "Opslaan" button of the latest message."""
    return callback(ANNA, button(api, "Opslaan"), message_id=1)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_turn_waits_for_a_write_lock_released_within_the_busy_timeout(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    held_s = 1.5  # well inside the 10 s busy timeout
    await add_weapon(db, ANNA)
    async with running_application(api, db, tmp_path):
        assert CONFIRM in await reply(api, message(ANNA, "CZ 75 25m 50 schoten 431"))
        before = len(api.sent_texts(ANNA))
        async with write_lock(db):
            pressed = time.monotonic()
            api.push_update(opslaan(api))
            await asyncio.sleep(held_s)
            assert len(api.sent_texts(ANNA)) == before  # the turn waits
        await until(lambda: len(api.sent_texts(ANNA)) > before)
        answered = time.monotonic()

    assert "Opgeslagen" in api.sent_texts(ANNA, plain=True)[before]
    assert answered - pressed >= held_s
    assert await count(db, SessionRow) == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_write_lock_held_past_the_busy_timeout_asks_to_try_again_and_saves_nothing(
    api: FakeBotAPI, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the busy timeout at 1 s (instead of 10) to keep the test short; the database
    connects lazily, so every connection of this test gets it."""
    pragmas = tuple(
        "PRAGMA busy_timeout=1000" if p.startswith("PRAGMA busy_timeout") else p
        for p in engine.SQLITE_PRAGMAS
    )
    monkeypatch.setattr(engine, "SQLITE_PRAGMAS", pragmas)
    await add_weapon(db, ANNA)
    async with running_application(api, db, tmp_path):
        assert CONFIRM in await reply(api, message(ANNA, "CZ 75 25m 50 schoten 431"))
        before = await drafts(db)
        updates = await count(db, ProcessedUpdateRow)
        async with write_lock(db):
            text = await reply(api, opslaan(api))
            assert text == FAILED
        assert await count(db, SessionRow) == 0
        assert await drafts(db) == before
        assert await count(db, ProcessedUpdateRow) == updates  # not claimed: not handled

        text = await reply(api, opslaan(api))  # the same button, now the lock is gone

    assert "Opgeslagen" in text
    assert await count(db, SessionRow) == 1
