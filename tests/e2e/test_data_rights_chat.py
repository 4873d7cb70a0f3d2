"""/mijndata and /verwijder in the chat: the conversation core and the real worker, two users
with one of everything (``seed_user``, a job, a used web link) and their files on disk.

/mijndata must hand A every row of A in every table that holds users' rows (compared with a
direct read of the database) and every file of A byte for byte, and nothing of B. /verwijder
must leave no row of A in any such table and no folder of A's files, and change nothing of B;
without the typed word, nothing at all.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from aimtrack.bot.app import build_conversation
from aimtrack.bot.io import Press, Sender
from aimtrack.bot.push import Activity
from aimtrack.core.access import Access
from aimtrack.core.clock import FixedClock
from aimtrack.core.model import Job, JobStatus, Language, ProfileSpec, Transport
from aimtrack.exports.archive import safe_name
from aimtrack.jobs.erase import ERASE_FILES
from aimtrack.jobs.mydata import MYDATA, MyDataJob
from aimtrack.jobs.worker import JobWorker
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import JobQueue, ProfileRepo, UserDirectory
from aimtrack.storage.repos.attachments import user_folder
from tests.helpers.chat import NOW, Chat
from tests.helpers.factories import Seeded, seed_user
from tests.helpers.jobs import drain, job_worker
from tests.helpers.outbox import Outbox, Sent, recording
from tests.helpers.userdata import (
    A_MARK,
    B_MARK,
    owned_tables,
    rows_of,
    seed_everything,
)

A_ID, B_ID = 1001, 2002
FILE_SIZE = 5000


@dataclass
class Rig:
    db: Database
    data_dir: Path
    clock: FixedClock
    worker: JobWorker
    outbox: Outbox
    a: Seeded
    b: Seeded
    chat_a: Chat
    chat_b: Chat

    def folder(self, user: Seeded) -> Path:
        return self.data_dir / user_folder(user.user_id)

    async def delivered(self) -> Sent:
        await drain(self.worker)
        [sent] = self.outbox.sent
        return sent


async def rig(db: Database, data_dir: Path, *, access: Access | None = None) -> Rig:
    async with db.transaction() as s:
        a = await seed_everything(s, telegram_id=A_ID, marker=A_MARK)
        b = await seed_everything(s, telegram_id=B_ID, marker=B_MARK)
    for user in (a, b):
        await write_files(db, data_dir, user)
    clock = FixedClock(NOW)
    access = access or Access(console=False)
    conversation = build_conversation(db, clock=clock, data_dir=data_dir, access=access)
    messengers, outbox = recording(Transport.TELEGRAM)
    worker = job_worker(db, clock=clock, data_dir=data_dir, messengers=messengers, access=access)

    def chat(telegram_id: int) -> Chat:
        sender = Sender("telegram", str(telegram_id), f"dm-{telegram_id}", display_name="X")
        return Chat(conversation, sender)

    return Rig(db, data_dir, clock, worker, outbox, a, b, chat(A_ID), chat(B_ID))


async def write_files(db: Database, data_dir: Path, user: Seeded) -> None:
    """The files of the user's attachment rows: their marker, padded to FILE_SIZE bytes."""
    for row in (await rows_of(db, user.user_id))["attachments"]:
        path = data_dir / row["path"]
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        head = f"{user.marker} file {row['id']} ".encode()
        path.write_bytes(head + bytes(range(256)) * (FILE_SIZE // 256) + b"x" * (FILE_SIZE % 256))


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def archive_of(sent: Sent) -> zipfile.ZipFile:
    [(_name, content)] = sent.files
    return zipfile.ZipFile(io.BytesIO(content))


async def jobs_of(db: Database) -> list[Job]:
    async with db.transaction(read_only=True) as s:
        return await JobQueue(s).list_jobs()


def without_the_export_job(tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The tables, the /mijndata job's own row cut down to what does not change as it runs
    (it was running when it read itself, and has succeeded since)."""
    stable = ("id", "kind", "user_id", "payload", "max_attempts", "created_at", "idempotency_key")
    jobs = [
        {k: v for k, v in row.items() if k in stable} if row["kind"] == MYDATA else row
        for row in tables["jobs"]
    ]
    return {**tables, "jobs": jobs}


# --- /mijndata --------------------------------------------------------------------------------


async def test_mydata_holds_every_row_and_file_of_the_user_and_nothing_else(
    db: Database, tmp_path: Path
) -> None:
    r = await rig(db, tmp_path)
    await r.chat_a.say("/mijndata")
    assert "verzamel alles wat ik van je bewaar" in r.chat_a.text
    assert r.outbox.sent == []  # the turn only queued it

    sent = await r.delivered()
    assert sent.chat_id == f"dm-{A_ID}"
    assert "(sessies: 1, wapens: 2, foto's en pdf's: 3)" in sent.text
    assert sent.files[0][0] == "aimtrack-mijndata-2026-11-23.zip"
    archive = archive_of(sent)
    names = archive.namelist()
    assert names[:2] == ["README.txt", "data.json"]
    assert all(safe_name(n) == n and not n.startswith("/") and ".." not in n for n in names)
    data = json.loads(archive.read("data.json"))
    assert (data["format"], data["version"], data["user_id"]) == (
        "aimtrack-mydata",
        1,
        r.a.user_id,
    )

    # every row of A in every table that holds users' rows, every column, as the database has it
    direct = await rows_of(db, r.a.user_id)
    assert set(data["tables"]) == set(owned_tables())
    assert all(direct[name] for name in owned_tables()), "every table holds a row of A"
    assert without_the_export_job(data["tables"]) == without_the_export_job(direct)
    assert data["tables"]["weapons"][0]["serial_number"] == f"{A_MARK}-SERIAL"

    # every file of A, byte for byte, named by its attachment row
    listed = {entry["attachment_id"]: entry for entry in data["files"]}
    assert set(listed) == {row["id"] for row in direct["attachments"]}
    for row in direct["attachments"]:
        entry = listed[row["id"]]
        assert entry["status"] == "included"
        assert archive.read(entry["name"]) == (tmp_path / row["path"]).read_bytes()
    assert len(names) == 2 + len(direct["attachments"])

    # and nothing of B anywhere
    for name in names:
        assert B_MARK.encode() not in archive.read(name), name
    assert A_MARK.encode() in archive.read("data.json")

    assert Activity.UPLOADING_DOCUMENT in r.outbox.activities
    assert not any((tmp_path / "tmp").iterdir())  # the job's own copy is gone
    export = next(job for job in await jobs_of(db) if job.kind == MYDATA)
    assert (export.status, export.user_id, export.sent_message_id) == (
        JobStatus.SUCCEEDED,
        r.a.user_id,
        "m1",
    )


async def test_mydata_in_english_and_asked_twice_is_one_archive(
    db: Database, tmp_path: Path
) -> None:
    r = await rig(db, tmp_path)
    async with db.transaction() as s:
        await ProfileRepo(s, r.a.user_id).update(
            ProfileSpec(display_name="A", language=Language.EN)
        )
    await r.chat_a.say("/mydata")
    await r.chat_a.say("/mydata")
    assert "I am gathering everything" in r.chat_a.text
    sent = await r.delivered()  # exactly one
    assert sent.files[0][0] == "aimtrack-mydata-2026-11-23.zip"
    assert "All your data in AimTrack on 23-11-2026" in sent.text
    assert "All your data in AimTrack" in archive_of(sent).read("README.txt").decode()


async def test_files_over_the_limit_are_left_out_and_the_message_says_so(
    db: Database, tmp_path: Path
) -> None:
    r = await rig(db, tmp_path)
    export = r.worker.handlers[MYDATA]
    assert isinstance(export, MyDataJob)
    r.worker.handlers[MYDATA] = MyDataJob(export.jobs, limit=3 * FILE_SIZE - 1)
    await r.chat_a.say("/mijndata")
    sent = await r.delivered()
    assert "zonder je foto's en pdf's" in sent.text
    assert f"attachments/{r.a.user_id}" in sent.text
    assert "aimtrack backup" in sent.text
    archive = archive_of(sent)
    assert archive.namelist() == ["README.txt", "data.json"]
    data = json.loads(archive.read("data.json"))
    assert {entry["status"] for entry in data["files"]} == {"left_out"}
    assert len(data["tables"]["attachments"]) == 3  # the rows are all there


async def test_data_too_large_for_one_file_gets_a_message_only(
    db: Database, tmp_path: Path
) -> None:
    r = await rig(db, tmp_path)
    export = r.worker.handlers[MYDATA]
    assert isinstance(export, MyDataJob)
    r.worker.handlers[MYDATA] = MyDataJob(export.jobs, limit=100)
    await r.chat_a.say("/mijndata")
    sent = await r.delivered()
    assert "passen niet in één bestand" in sent.text
    assert "aimtrack backup" in sent.text
    assert sent.files == []
    assert not any((tmp_path / "tmp").iterdir())


async def test_a_missing_file_or_a_link_out_of_the_folder_is_not_packed(
    db: Database, tmp_path: Path
) -> None:
    r = await rig(db, tmp_path)
    first, second, _third = sorted(r.folder(r.a).iterdir())
    first.unlink()
    b_file = next(r.folder(r.b).iterdir())
    second.unlink()
    second.symlink_to(b_file)  # a link to B's file must not be followed
    await r.chat_a.say("/mijndata")
    sent = await r.delivered()
    assert "Niet op de schijf gevonden, dus niet in het zip-bestand: 2 bestanden" in sent.text
    archive = archive_of(sent)
    data = json.loads(archive.read("data.json"))
    assert sorted(entry["status"] for entry in data["files"]) == ["included", "missing", "missing"]
    assert len(archive.namelist()) == 3
    for name in archive.namelist():
        assert B_MARK.encode() not in archive.read(name)


# --- /verwijder -------------------------------------------------------------------------------


async def test_erase_removes_every_row_and_file_of_the_user_and_nothing_of_another(
    db: Database, tmp_path: Path
) -> None:
    r = await rig(db, tmp_path)
    b_rows, b_files = await rows_of(db, r.b.user_id), files_of(r.folder(r.b))
    assert len(files_of(r.folder(r.a))) == 3

    await r.chat_a.say("/verwijder")
    asked = r.chat_a.text
    for line in (
        "sessies: 1 (wapenregels: 1)",
        "wapens: 2, met serienummers",
        "foto's en pdf's: 3",
        "AI-reflecties en wapeninzichten: 2",
        "coachgesprekken: 1 (berichten: 2)",
        "Typ VERWIJDER om alles te wissen",
    ):
        assert line in asked
    assert r.chat_a.labels() == ["Nee, niets verwijderen"]
    await r.chat_a.say("  verwijder ")
    assert "Alles is verwijderd" in r.chat_a.text
    assert "sessies: 1, wapens: 2, foto's en pdf's: 3" in r.chat_a.text
    assert "leeg account" in r.chat_a.text

    # the rows went with the turn; the files go with the job it queued
    assert {name: rows for name, rows in (await rows_of(db, r.a.user_id)).items() if rows} == {}
    await drain(r.worker)
    assert not r.folder(r.a).exists()
    assert (tmp_path / "attachments").is_dir()

    assert await rows_of(db, r.b.user_id) == b_rows
    assert files_of(r.folder(r.b)) == b_files
    [cleanup] = [job for job in await jobs_of(db) if job.kind == ERASE_FILES]
    assert (cleanup.status, cleanup.user_id, cleanup.payload) == (
        JobStatus.SUCCEEDED,
        None,
        {"user_id": r.a.user_id},
    )


@pytest.mark.parametrize("typed", ["ja", "VERWIJDEREN", "verwijder alles", "/annuleer", "Nee"])
async def test_anything_but_the_word_deletes_nothing(
    db: Database, tmp_path: Path, typed: str
) -> None:
    r = await rig(db, tmp_path)
    before, files = await rows_of(db, r.a.user_id), files_of(r.folder(r.a))
    await r.chat_a.say("/verwijder")
    if typed == "Nee":
        await r.chat_a.press(typed)
    else:
        await r.chat_a.say(typed)
    assert "niets verwijderd" in r.chat_a.text
    await r.chat_a.say("VERWIJDER")  # the question is over: now it is just a text
    assert "niets verwijderd" not in r.chat_a.text
    await drain(r.worker)
    assert await rows_of(db, r.a.user_id) == before
    assert files_of(r.folder(r.a)) == files


async def test_no_button_erases_and_nobody_else_can(db: Database, tmp_path: Path) -> None:
    r = await rig(db, tmp_path)
    a_before, b_before = await rows_of(db, r.a.user_id), await rows_of(db, r.b.user_id)
    await r.chat_a.say("/verwijder")
    stale = r.chat_a.button("Nee").split(":")[0]
    for action in ("yes", "confirm", "erase", f"erase:{r.a.user_id}", "VERWIJDER", "del"):
        seq = r.chat_a.button("Nee").split(":")[0]
        await r.chat_a.do(Press(f"{seq}:{action}"))
        assert "Typ VERWIJDER" in r.chat_a.text  # asked again, nothing more
    await r.chat_a.do(Press(f"{stale}:yes"))  # a button of an older message
    assert r.chat_a.last.notice is not None
    assert "verlopen" in r.chat_a.last.notice
    await r.chat_a.do(Press(f"!erase:{r.a.user_id}"))  # no such action outside a flow
    assert "verlopen" in (r.chat_a.last.notice or "")

    # B forges A's id and types the word without being asked
    for data in (f"{stale}:yes", f"!erase:{r.a.user_id}", f"1:erase:{r.a.user_id}"):
        await r.chat_b.do(Press(data))
    await r.chat_b.say("VERWIJDER")
    await r.chat_b.say("/verwijder")
    await r.chat_b.do(Press(f"{r.chat_b.button('Nee').split(':')[0]}:erase:{r.a.user_id}"))
    await drain(r.worker)
    for user, before in ((r.a, a_before), (r.b, b_before)):
        after = await rows_of(db, user.user_id)
        assert without_conversations(after) == without_conversations(before)
    assert len(files_of(r.folder(r.a))) == 3


def without_conversations(tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A user's rows but for where their chats are (a /verwijder question is open)."""
    return {name: rows for name, rows in tables.items() if name != "conversation_states"}


async def test_a_late_word_or_one_on_the_command_deletes_nothing(
    db: Database, tmp_path: Path
) -> None:
    r = await rig(db, tmp_path)
    before = await rows_of(db, r.a.user_id)
    await r.chat_a.say("/verwijder VERWIJDER")
    assert "Typ VERWIJDER om alles te wissen" in r.chat_a.text
    r.clock.advance(timedelta(minutes=10, seconds=1))
    await r.chat_a.say("VERWIJDER")
    assert "meer dan 10 minuten na de vraag" in r.chat_a.text
    await drain(r.worker)
    assert await rows_of(db, r.a.user_id) == before


async def test_a_file_sent_while_asked_is_not_kept_and_the_word_still_works(
    db: Database, tmp_path: Path
) -> None:
    r = await rig(db, tmp_path)
    await r.chat_a.say("/verwijder")
    await r.chat_a.photo()
    assert "Dit bestand heb ik niet bewaard" in r.chat_a.text
    assert len(files_of(r.folder(r.a))) == 3
    await r.chat_a.say("VERWIJDER")
    assert "Alles is verwijderd" in r.chat_a.text
    await drain(r.worker)
    assert not r.folder(r.a).exists()


async def test_a_copy_on_its_way_is_mentioned(db: Database, tmp_path: Path) -> None:
    r = await rig(db, tmp_path)
    await r.chat_a.say("/mijndata")
    await r.chat_a.say("/verwijder")
    assert "Je kopie (/mijndata) is nog niet verstuurd" in r.chat_a.text
    await drain(r.worker)
    await r.chat_a.say("/verwijder")
    assert "nog niet verstuurd" not in r.chat_a.text


async def test_after_erasing_an_allowlisted_id_starts_afresh(db: Database, tmp_path: Path) -> None:
    r = await rig(db, tmp_path, access=Access(telegram_ids=frozenset({A_ID}), console=False))
    await r.chat_a.say("/verwijder")
    await r.chat_a.say("VERWIJDER")
    await drain(r.worker)
    await r.chat_a.say("/start")
    assert "Welkom bij AimTrack" in r.chat_a.text
    async with db.transaction(read_only=True) as s:
        account = await UserDirectory(s).find("telegram", str(A_ID))
    assert account is not None
    fresh = await rows_of(db, account.user_id)
    assert {name for name, rows in fresh.items() if rows} == {"users", "user_identities"}
    assert fresh["users"][0]["knsa_number"] is None


async def test_after_erasing_an_id_allowed_only_by_the_owner_is_refused(
    db: Database, tmp_path: Path
) -> None:
    r = await rig(db, tmp_path)  # A was allowed in the database (aimtrack users allow)
    await r.chat_a.say("/verwijder")
    await r.chat_a.say("VERWIJDER")
    await r.chat_a.say("/start")
    assert f"aimtrack users allow {A_ID}" in r.chat_a.text
    async with db.transaction(read_only=True) as s:
        assert await UserDirectory(s).find("telegram", str(A_ID)) is None


async def test_an_id_given_to_a_new_account_before_the_files_went_keeps_its_files(
    db: Database, tmp_path: Path
) -> None:
    """On SQLite the newest user's id goes to the next new account: B (the newest) erases,
    and C signs up before the worker ran. C's files stay, B's go (on PostgreSQL C has an id
    of its own and B's folder goes as a whole)."""
    r = await rig(db, tmp_path)
    old = {p: p.stat().st_mtime_ns for p in r.folder(r.b).iterdir()}
    for path in old:  # written a while ago
        os.utime(path, (1_700_000_000, 1_700_000_000))
    await r.chat_b.say("/verwijder")
    await r.chat_b.say("VERWIJDER")
    async with db.transaction() as s:
        c = await seed_user(s, telegram_id=3003, marker="charlie-C-mark")
    await write_files(db, tmp_path, c)
    c_files = {
        path.name: path.read_bytes()
        for path in (tmp_path / user_folder(c.user_id)).iterdir()
        if path not in old
    }
    assert len(c_files) == 3
    await drain(r.worker)
    assert files_of(tmp_path / user_folder(c.user_id)) == c_files
    assert not any(path.exists() for path in old)
    if c.user_id != r.b.user_id:
        assert not r.folder(r.b).exists()
