"""/mijndata and /verwijder on Telegram, end to end: ``run_telegram`` (real PTB, its JobQueue
ticking the worker) against the fake Bot API, which validates every call against the Bot API
spec (the ``api`` fixture). The archive arrives through sendDocument after an upload_document
chat action; the erasure takes the typed word, and the files go with the job it queued.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import sqlalchemy as sa

from aimtrack.storage.engine import Database
from aimtrack.storage.repos.userdata import user_tables
from aimtrack.storage.tables import SessionRow, UserRow
from tests.helpers.chat import jpeg
from tests.helpers.fakebotapi import FakeBotAPI, message, photo
from tests.helpers.telegram import ANNA, reflections, running_bot, say, tap, until


async def log_with_a_photo(api: FakeBotAPI) -> bytes:
    """A quick entry with a target photo, saved; returns the photo's bytes."""
    unknown, confirm = "staat niet bij je wapens", "Klopt dit?"
    if unknown in await say(api, message(ANNA, "CZ 75 25m 50 schoten 431"), unknown, confirm):
        await tap(api, "toevoegen", confirm)
    content = jpeg((800, 600))
    file_id, unique = api.add_file(content)
    # The photo is acknowledged, then the confirm step comes again with new buttons: wait for
    # those, or "Opslaan" below would press the old ones.
    shown = await say(api, photo(ANNA, [(file_id, unique, 800, 600, len(content))]), confirm)
    assert "Foto toegevoegd" in shown
    await tap(api, "Opslaan", "Opgeslagen")
    # The session's reflection comes next, so its buttons are not the latest ones later.
    await until(lambda: len(reflections(api)) == 1, "the reflection")
    return content


async def test_mydata_arrives_as_a_zip_document(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path, coach=None):
        content = await log_with_a_photo(api)
        await say(api, message(ANNA, "/mijndata"), "verzamel alles wat ik van je bewaar")
        await until(lambda: bool(api.calls_to("sendDocument")), "the archive")

    [sent] = api.calls_to("sendDocument")
    assert sent.status == 200
    assert str(sent.params["chat_id"]) == str(ANNA)
    upload = sent.files["document"]
    assert re.fullmatch(r"aimtrack-mijndata-\d{4}-\d{2}-\d{2}\.zip", upload.filename)
    archive = zipfile.ZipFile(io.BytesIO(upload.content))
    data = json.loads(archive.read("data.json"))
    tables = data["tables"]
    assert set(tables) == {table.name for table in user_tables()}
    assert [identity["external_id"] for identity in tables["user_identities"]] == [str(ANNA)]
    [entry] = tables["session_weapon_entries"]
    assert (entry["distance_m"], entry["shots"], entry["score_tenths"]) == (25, 50, 4310)
    assert [weapon["name"] for weapon in tables["weapons"]] == ["CZ 75"]
    assert len(tables["ai_reflections"]) == 1
    [listed] = data["files"]
    assert listed["status"] == "included"
    assert archive.read(listed["name"]) == content
    actions = [call.params["action"] for call in api.calls_to("sendChatAction")]
    assert "upload_document" in actions
    texts = api.sent_texts(ANNA, plain=True)
    assert any("Al je gegevens uit AimTrack op" in text for text in texts)


async def test_erase_takes_the_typed_word_and_a_new_message_starts_afresh(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path, coach=None):
        await log_with_a_photo(api)
        [folder] = (tmp_path / "attachments").iterdir()
        assert len(list(folder.iterdir())) == 1

        asked = await say(api, message(ANNA, "/verwijder"), "Typ VERWIJDER")
        assert "sessies: 1 (wapenregels: 1)" in asked
        assert "foto's en pdf's: 1" in asked
        kept = await tap(api, "Nee, niets verwijderen", "niets verwijderd")
        assert "Goed, er is niets verwijderd." in kept
        assert folder.exists()

        await say(api, message(ANNA, "/verwijder"), "Typ VERWIJDER")
        done = await say(api, message(ANNA, "VERWIJDER"), "Alles is verwijderd")
        assert "sessies: 1, wapens: 1, foto's en pdf's: 1" in done
        await until(lambda: not folder.exists(), "the files to go")
        erased_id = int(folder.name)

        # ANNA is on the allowlist of the settings: the next message opens an empty account
        await say(api, message(ANNA, "/start"), "Welkom bij AimTrack")

    async with db.transaction(read_only=True) as s:
        for table in user_tables():
            column = table.c.id if table.name == "users" else table.c.user_id
            query = sa.select(sa.func.count()).select_from(table).where(column == erased_id)
            left = await s.scalar(query)
            # on SQLite the fresh account may get the same id: then only its own two rows
            assert left == 0 or table.name in {"users", "user_identities"}, table.name
        assert await s.scalar(sa.select(sa.func.count()).select_from(SessionRow)) == 0
        assert await s.scalar(sa.select(sa.func.count()).select_from(UserRow)) == 1
