"""The real PTB Application over real HTTP against the fake Bot API server on 127.0.0.1.

Every call the bot makes is recorded by the fake and validated against the Bot API 10.1 spec
(``../shared/refs/telegram-bot-api.json``) at the end of each test.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image
from telegram import Update

from aimtrack.bot.app import build_conversation, command_menu
from aimtrack.bot.transports.telegram.application import build_application, set_commands
from aimtrack.core.access import Access
from aimtrack.core.clock import FixedClock
from aimtrack.core.model import EntrySpec, SessionSpec, WeaponSpec
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import SessionRepo, UserDirectory, WeaponRepo
from aimtrack.storage.tables import IdentityRow, ProcessedUpdateRow, SessionRow, UserRow
from tests import botapi_spec
from tests.chat import NOW, jpeg
from tests.fakebotapi import FakeBotAPI, callback, message, photo

ANNA, BOB, STRANGER = 111, 222, 999


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake
    spec = botapi_spec.load_spec()
    if spec is not None:  # the spec check itself is a separate, skippable test below
        assert botapi_spec.validate_calls(spec, fake.calls) == []


@asynccontextmanager
async def running_bot(api: FakeBotAPI, db: Database, data_dir: Path) -> AsyncIterator[Any]:
    conversation = build_conversation(
        db,
        clock=FixedClock(NOW),
        data_dir=data_dir,
        access=Access(telegram_ids=frozenset({ANNA, BOB}), console=False),
    )
    application = build_application(
        conversation, token=api.token, base_url=api.base_url.removesuffix("/bot")
    )
    async with application:
        await set_commands(application, command_menu)
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


async def until(condition: Callable[[], bool]) -> None:
    """Wait (up to 10 s) for the bot to have done something the fake recorded."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 -- the fake server has no event per call
            await asyncio.sleep(0.02)


async def say(api: FakeBotAPI, update: dict[str, Any], chat: int = ANNA) -> str:
    """Push an update and wait for the bot's next message to that chat; return its text."""
    before = len(api.sent_texts(chat))
    api.push_update(update)
    await until(lambda: len(api.sent_texts(chat)) > before)
    await asyncio.sleep(0.05)  # let the rest of a multi-message answer arrive
    return "\n".join(api.sent_texts(chat, plain=True)[before:])


def button(api: FakeBotAPI, label: str, chat: int = ANNA) -> str:
    found = [data for row in api.last_keyboard(chat) for text, data in row if label in text]
    assert len(found) == 1, api.last_keyboard(chat)
    assert found[0] is not None
    return found[0]


async def tap(api: FakeBotAPI, label: str, chat: int = ANNA) -> str:
    return await say(api, callback(chat, button(api, label, chat), message_id=1), chat)


async def count(db: Database, table: type, **where: object) -> int:
    async with db.transaction() as s:
        query = sa.select(sa.func.count()).select_from(table).filter_by(**where)
        return int(await s.scalar(query) or 0)


def test_every_recorded_call_is_validated_against_the_bot_api_spec() -> None:
    if botapi_spec.load_spec() is None:
        pytest.skip("Bot API spec ../shared/refs/telegram-bot-api.json is absent: cannot validate")


async def test_a_typical_session_by_quick_entry_with_a_photo(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path):
        welcome = await say(api, message(ANNA, "/start"))
        assert "Welkom bij AimTrack" in welcome
        text = await say(api, message(ANNA, "CZ 75 25m 50 schoten 431 <wind> & regen"))
        assert "'CZ 75' staat niet bij je wapens" in text
        text = await tap(api, "toevoegen")
        assert "Klopt dit?" in text
        assert "wind" in text
        assert "regen" in text
        assert "&lt;" in api.calls_to("sendMessage")[-1].params["text"]  # escaped as HTML
        file_id, unique = api.add_file(jpeg((800, 600)))
        text = await say(api, photo(ANNA, [(file_id, unique, 800, 600, 5000)]))
        assert "Foto toegevoegd (1)" in text
        text = await tap(api, "Opslaan")
        assert "Opgeslagen" in text
        assert "CZ 75 — 25 m, 50 schoten, 431" in text
        listing = await say(api, message(ANNA, "/sessies"))
        assert "Je sessies (1–1 van 1)" in listing
    commands = api.calls_to("setMyCommands")
    assert {c.params.get("language_code") for c in commands} == {None, "nl", "en"}
    english = next(c for c in commands if c.params.get("language_code") == "en")
    assert "session" in {command["command"] for command in english.params["commands"]}
    assert await count(db, SessionRow) == 1


async def test_a_user_not_on_the_allowlist_is_told_their_id_and_nothing_is_stored(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path):
        text = await say(api, message(STRANGER, "/start"), chat=STRANGER)
        text += await say(api, message(STRANGER, "CZ 75 25m 50 sch"), chat=STRANGER)
    assert "999" in text
    assert "aimtrack users allow 999" in text
    assert await count(db, UserRow) == 0
    assert await count(db, IdentityRow) == 0
    assert await count(db, ProcessedUpdateRow) == 0


async def test_a_replayed_update_is_handled_once(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path) as application:
        data = {"update_id": 4242, **message(ANNA, "/help")}
        await application.process_update(Update.de_json(data, application.bot))
        await application.process_update(Update.de_json(data, application.bot))
        await asyncio.sleep(0.1)
    assert len(api.sent_texts(ANNA)) == 1


async def test_logging_survives_a_restart_of_the_bot(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    await _weapons(db, ANNA)
    async with running_bot(api, db, tmp_path):
        await say(api, message(ANNA, "/sessie"))
        await tap(api, "CZ 75")
    async with running_bot(api, db, tmp_path):  # a new Application: nothing in memory
        text = await say(api, message(ANNA, "25"))
        assert "aantal schoten en score" in text
        await say(api, message(ANNA, "50 431"))
        text = await tap(api, "Opslaan")
    assert "Opgeslagen" in text


async def test_a_forged_callback_for_another_users_session_reveals_nothing(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    anna_session = await _session(db, ANNA, club="Anna's geheime baan")
    await _session(db, BOB, club="Bobs baan")
    async with running_bot(api, db, tmp_path):
        await say(api, message(BOB, "/sessies"), chat=BOB)
        seq = button(api, "Bobs baan", chat=BOB).split(":", 1)[0]
        text = await say(api, callback(BOB, f"{seq}:v:{anna_session}", message_id=1), chat=BOB)
    assert "kon ik niet vinden" in text
    assert "geheime" not in " ".join(api.sent_texts(BOB))


async def test_an_oversized_photo_is_refused_without_downloading(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path):
        file_id, unique = api.add_file(b"x", file_size=25 * 2**20)
        text = await say(api, photo(ANNA, [(file_id, unique, 9000, 9000, 25 * 2**20)]))
    assert "te groot" in text
    assert api.calls_to("getFile") == []


async def test_a_png_decompression_bomb_is_refused(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, "PNG")
    bomb = buffer.getvalue()
    async with running_bot(api, db, tmp_path):
        file_id, unique = api.add_file(bomb)
        text = await say(api, photo(ANNA, [(file_id, unique, 20_000, 20_000, len(bomb))]))
    assert "te veel pixels" in text
    assert await count(db, SessionRow) == 0
    assert not list(tmp_path.rglob("*.png"))  # noqa: ASYNC240 -- after the bot stopped


async def test_a_long_reply_is_split_and_every_part_fits(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    await _weapons(db, ANNA)
    async with running_bot(api, db, tmp_path):
        await say(api, message(ANNA, "/sessie"))
        await tap(api, "CZ 75")
        await say(api, message(ANNA, "25"))
        await say(api, message(ANNA, "50 431"))
        await tap(api, "Notities")
        for _ in range(2):
            await say(api, message(ANNA, "<&>" * 1300))
    sent = [c.params["text"] for c in api.calls_to("sendMessage")]
    assert max(len(text) for text in sent) <= 4096
    assert any("&lt;&amp;&gt;" in text for text in sent)


async def _weapons(db: Database, telegram_id: int) -> int:
    async with db.transaction() as s:
        account = await UserDirectory(s).allow_telegram(telegram_id)
        await WeaponRepo(s, account.user_id).add(WeaponSpec(name="CZ 75 Shadow 2"))
        return account.user_id


async def _session(db: Database, telegram_id: int, *, club: str) -> int:
    async with db.transaction() as s:
        account = await UserDirectory(s).allow_telegram(telegram_id)
        weapon = await WeaponRepo(s, account.user_id).add(WeaponSpec(name="Walther"))
        created = await SessionRepo(s, account.user_id).create(
            SessionSpec(occurred_on=date(2026, 11, 1), club=club),
            [EntrySpec(weapon_id=weapon.id, distance_m=10, shots=40)],
        )
        return created.id
