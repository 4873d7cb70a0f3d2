"""The real PTB Application over real HTTP against the fake Bot API server on 127.0.0.1.

Every call the bot makes is recorded by the fake and validated against the Bot API 10.1 spec
(``tests/helpers/refs/telegram-bot-api.json``) at the end of each test, by the ``api`` fixture.
"""

from __future__ import annotations

import asyncio
import io
from datetime import date
from pathlib import Path

from PIL import Image
from telegram import Update

from aimtrack.core.model import EntrySpec, SessionSpec, WeaponSpec
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import SessionRepo, UserDirectory, WeaponRepo
from aimtrack.storage.tables import IdentityRow, ProcessedUpdateRow, SessionRow, UserRow
from tests.helpers.chat import jpeg
from tests.helpers.fakebotapi import FakeBotAPI, callback, message, photo
from tests.helpers.telegram import (
    ANNA,
    BOB,
    STRANGER,
    add_weapon,
    button,
    count,
    reply,
    running_application,
    tap_reply,
)


async def test_a_typical_session_by_quick_entry_with_a_photo(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_application(api, db, tmp_path):
        welcome = await reply(api, message(ANNA, "/start"))
        assert "Welkom bij AimTrack" in welcome
        text = await reply(api, message(ANNA, "CZ 75 25m 50 schoten 431 <wind> & regen"))
        assert "'CZ 75' staat niet bij je wapens" in text
        text = await tap_reply(api, "toevoegen")
        assert "Klopt dit?" in text
        assert "wind" in text
        assert "regen" in text
        assert "&lt;" in api.calls_to("sendMessage")[-1].params["text"]  # escaped as HTML
        file_id, unique = api.add_file(jpeg((800, 600)))
        text = await reply(api, photo(ANNA, [(file_id, unique, 800, 600, 5000)]))
        assert "Foto toegevoegd (1)" in text
        text = await tap_reply(api, "Opslaan")
        assert "Opgeslagen" in text
        assert "CZ 75 — 25 m, 50 schoten, 431" in text
        listing = await reply(api, message(ANNA, "/sessies"))
        assert "Je sessies (1–1 van 1)" in listing
    commands = api.calls_to("setMyCommands")
    assert {c.params.get("language_code") for c in commands} == {None, "nl", "en"}
    english = next(c for c in commands if c.params.get("language_code") == "en")
    assert "session" in {command["command"] for command in english.params["commands"]}
    assert await count(db, SessionRow) == 1


async def test_a_user_not_on_the_allowlist_is_told_their_id_and_nothing_is_stored(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_application(api, db, tmp_path):
        text = await reply(api, message(STRANGER, "/start"), chat=STRANGER)
        text += await reply(api, message(STRANGER, "CZ 75 25m 50 sch"), chat=STRANGER)
    assert "999" in text
    assert "aimtrack users allow 999" in text
    assert await count(db, UserRow) == 0
    assert await count(db, IdentityRow) == 0
    assert await count(db, ProcessedUpdateRow) == 0


async def test_a_replayed_update_is_handled_once(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_application(api, db, tmp_path) as application:
        data = {"update_id": 4242, **message(ANNA, "/help")}
        await application.process_update(Update.de_json(data, application.bot))
        await application.process_update(Update.de_json(data, application.bot))
        await asyncio.sleep(0.1)
    assert len(api.sent_texts(ANNA)) == 1


async def test_logging_survives_a_restart_of_the_bot(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    await add_weapon(db, ANNA)
    async with running_application(api, db, tmp_path):
        await reply(api, message(ANNA, "/sessie"))
        await tap_reply(api, "CZ 75")
    async with running_application(api, db, tmp_path):  # a new Application: nothing in memory
        text = await reply(api, message(ANNA, "25"))
        assert "aantal schoten en score" in text
        await reply(api, message(ANNA, "50 431"))
        text = await tap_reply(api, "Opslaan")
    assert "Opgeslagen" in text


async def test_a_forged_callback_for_another_users_session_reveals_nothing(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    anna_session = await _session(db, ANNA, club="Anna's geheime baan")
    await _session(db, BOB, club="Bobs baan")
    async with running_application(api, db, tmp_path):
        await reply(api, message(BOB, "/sessies"), chat=BOB)
        seq = button(api, "Bobs baan", chat=BOB).split(":", 1)[0]
        text = await reply(api, callback(BOB, f"{seq}:v:{anna_session}", message_id=1), chat=BOB)
    assert "kon ik niet vinden" in text
    assert "geheime" not in " ".join(api.sent_texts(BOB))


async def test_an_oversized_photo_is_refused_without_downloading(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_application(api, db, tmp_path):
        file_id, unique = api.add_file(b"x", file_size=25 * 2**20)
        text = await reply(api, photo(ANNA, [(file_id, unique, 9000, 9000, 25 * 2**20)]))
    assert "te groot" in text
    assert api.calls_to("getFile") == []


async def test_a_png_decompression_bomb_is_refused(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, "PNG")
    bomb = buffer.getvalue()
    async with running_application(api, db, tmp_path):
        file_id, unique = api.add_file(bomb)
        text = await reply(api, photo(ANNA, [(file_id, unique, 20_000, 20_000, len(bomb))]))
    assert "te veel pixels" in text
    assert await count(db, SessionRow) == 0
    assert not list(tmp_path.rglob("*.png"))  # noqa: ASYNC240 -- after the bot stopped


async def test_a_long_reply_is_split_and_every_part_fits(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    await add_weapon(db, ANNA)
    async with running_application(api, db, tmp_path):
        await reply(api, message(ANNA, "/sessie"))
        await tap_reply(api, "CZ 75")
        await reply(api, message(ANNA, "25"))
        await reply(api, message(ANNA, "50 431"))
        await tap_reply(api, "Notities")
        for _ in range(2):
            await reply(api, message(ANNA, "<&>" * 1300))
    sent = [c.params["text"] for c in api.calls_to("sendMessage")]
    assert max(len(text) for text in sent) <= 4096
    assert any("&lt;&amp;&gt;" in text for text in sent)


async def _session(db: Database, telegram_id: int, *, club: str) -> int:
    async with db.transaction() as s:
        account = await UserDirectory(s).allow_telegram(telegram_id)
        weapon = await WeaponRepo(s, account.user_id).add(WeaponSpec(name="Walther"))
        created = await SessionRepo(s, account.user_id).create(
            SessionSpec(occurred_on=date(2026, 11, 1), club=club),
            [EntrySpec(weapon_id=weapon.id, distance_m=10, shots=40)],
        )
        return created.id
