"""Abuse through the real PTB stack against the fake Bot API (docs/abuse.md).

- ``POST /telegram`` without Telegram's secret token (or with a wrong one) is refused and
  reaches nothing: no update claimed, no user registered, no reply sent.
- Updates from users who are not allowed — strangers, and users the owner denied — get the
  "not allowed; your id is N" answer and nothing else, in polling and in webhook mode: no row
  is stored for them, no file is downloaded, no flow or button action runs.
- One user flooding the bot is cut down to the rate limit and told once, while another user
  is still answered promptly; ``run_telegram`` gives the core the limits of the settings.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from aimtrack.bot.conversation import Limits
from aimtrack.bot.transports.telegram.service import webhook_secret
from aimtrack.core.model import EntrySpec, SessionSpec, Transport, WeaponSpec
from aimtrack.core.ratelimit import RateLimit, RateLimiter
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ProfileRepo, SessionRepo, UserDirectory, WeaponRepo
from aimtrack.storage.tables import (
    ConversationRow,
    IdentityRow,
    JobRow,
    ProcessedUpdateRow,
    UserRow,
)
from tests.helpers.chat import jpeg
from tests.helpers.fakebotapi import FakeBotAPI, callback, document, message, photo
from tests.helpers.telegram import (
    ANNA,
    BOB,
    HEADER,
    HOOK_URL,
    SECRET,
    STRANGER,
    conversation_for,
    count,
    polling,
    running,
    until,
)

DENIED = 333

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def refusal(telegram_id: int) -> str:
    return (
        f"Deze AimTrack is privé. Geef je Telegram-id {telegram_id} aan de beheerder; die kan je "
        f"toevoegen met: aimtrack users allow {telegram_id}"
    )


async def settle(api: FakeBotAPI) -> None:
    """Give the bot time to do whatever it would still do, then a little more."""
    calls = -1
    while calls != len(api.calls):
        calls = len(api.calls)
        await asyncio.sleep(0.3)


# --- the webhook's secret token -----------------------------------------------------------


async def test_a_webhook_post_without_the_secret_token_reaches_nothing(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    secret = webhook_secret(SECRET)
    forged = [
        {},
        {HEADER: ""},
        {HEADER: "nope"},
        {HEADER: secret[:-1]},
        {HEADER: secret.upper()},
        {HEADER: webhook_secret(SECRET + "-another-installation")},
    ]
    update = {"update_id": 700, **message(ANNA, "/help")}
    async with running(api, db, tmp_path, webhook_url=HOOK_URL) as bot:
        statuses = [
            (await bot.client.post("/telegram", json=update, headers=headers)).status_code
            for headers in forged
        ]
        await settle(api)
        assert statuses == [403] * len(forged)
        assert api.sent_texts(ANNA) == []
        # Nothing reached the core: Anna (allowed by id) would have been registered on first
        # contact, and the update id would have been claimed.
        for table in (ProcessedUpdateRow, UserRow, IdentityRow, ConversationRow):
            assert await count(db, table) == 0
        # The same update with the secret is handled: it had not been claimed by the forgeries.
        accepted = await bot.client.post("/telegram", json=update, headers={HEADER: secret})
        assert accepted.status_code == 200
        await until(lambda: any("/sessie" in t for t in api.sent_texts(ANNA)), "the help text")
    assert await count(db, ProcessedUpdateRow) == 1


# --- users who are not allowed ------------------------------------------------------------


async def _anna_and_denied(db: Database) -> dict[str, int]:
    """Anna, allowed, with a weapon and a session; a user the owner allowed, who logged a
    session with reminders on, and was then denied."""
    ids: dict[str, int] = {}
    async with db.transaction() as s:
        users = UserDirectory(s)
        for name, telegram_id in (("anna", ANNA), ("denied", DENIED)):
            account = await users.allow_telegram(telegram_id)
            weapon = await WeaponRepo(s, account.user_id).add(WeaponSpec(name=f"{name} CZ"))
            session = await SessionRepo(s, account.user_id).create(
                SessionSpec(occurred_on=date(2026, 11, 1), club=f"{name}'s baan"),
                [EntrySpec(weapon_id=weapon.id, distance_m=25, shots=50)],
            )
            await ProfileRepo(s, account.user_id).set_reminders(on=True)
            ids[f"{name}_user"], ids[f"{name}_weapon"] = account.user_id, weapon.id
            ids[f"{name}_session"] = session.id
        await users.deny_telegram(DENIED)
    return ids


def _forgeries(api: FakeBotAPI, who: int, ids: dict[str, int]) -> list[dict[str, Any]]:
    """Everything an outsider could send: commands, texts, files, and presses carrying
    real ids (theirs, Anna's), flow-independent actions and sequence-numbered buttons."""
    file_id, unique = api.add_file(jpeg((64, 48)))
    doc_id, doc_unique = api.add_file(b"%PDF-1.4\n%%EOF\n")
    updates: list[dict[str, Any]] = [
        message(who, "/start"),
        message(who, "/sessie"),
        message(who, "/coach waarom links?"),
        message(who, "/verwijder"),
        message(who, "VERWIJDER"),
        message(who, "CZ 75 25m 50 schoten 431"),
        photo(who, [(file_id, unique, 64, 48, 2000)]),
        document(who, doc_id, doc_unique, "kaart.pdf", "application/pdf", 15),
    ]
    for name in ("anna", "denied"):
        session, weapon = ids[f"{name}_session"], ids[f"{name}_weapon"]
        updates += [
            callback(who, data, message_id=1)
            for data in (
                f"!r:{session}",
                f"!c:{session}",
                f"!t:{weapon}",
                "!n:off",
                f"1:v:{session}",
                f"1:w:{weapon}",
                "1:yes",
                "1:save",
                "1:ok",
            )
        ]
    return updates


async def _assert_nothing_happened(api: FakeBotAPI, db: Database, who: int, sent: int) -> None:
    answers = api.sent_texts(who, plain=True)
    assert answers == [refusal(who)] * sent
    assert api.calls_to("getFile") == []
    assert all(c.params.get("text") is None for c in api.calls_to("answerCallbackQuery"))
    assert await count(db, UserRow) == 2  # Anna and the denied user, no one else
    assert await count(db, IdentityRow) == 2
    for table in (ProcessedUpdateRow, ConversationRow, JobRow):
        assert await count(db, table) == 0
    async with db.transaction() as s:
        for account in await UserDirectory(s).list_users():
            profile = await ProfileRepo(s, account.user_id).get()
            assert profile.reminders, "a forged !n:off switched someone's reminders off"
            assert await SessionRepo(s, account.user_id).count() == 1
            assert len(await WeaponRepo(s, account.user_id).list_weapons()) == 1


@pytest.mark.parametrize("who", [STRANGER, DENIED], ids=["stranger", "denied"])
async def test_an_outsider_gets_their_id_and_reaches_no_flow_and_no_action_polling(
    api: FakeBotAPI, db: Database, tmp_path: Path, who: int
) -> None:
    ids = await _anna_and_denied(db)
    updates = _forgeries(api, who, ids)
    async with polling(api, conversation_for(db, tmp_path)):
        for update in updates:
            api.push_update(update)
        await until(lambda: len(api.sent_texts(who)) >= len(updates), "a refusal for each")
        await settle(api)
    await _assert_nothing_happened(api, db, who, len(updates))
    presses = sum(1 for u in updates if "callback_query" in u)
    assert len(api.calls_to("answerCallbackQuery")) == presses


async def test_an_outsider_gets_their_id_and_reaches_nothing_through_the_webhook(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    ids = await _anna_and_denied(db)
    updates = _forgeries(api, STRANGER, ids)
    # A burst that takes them all: the stranger is rate-limited too (see the flood test).
    async with running(api, db, tmp_path, webhook_url=HOOK_URL, user_message_burst=100) as bot:
        for number, update in enumerate(updates):
            response = await bot.client.post(
                "/telegram",
                json={"update_id": 5000 + number, **update},
                headers={HEADER: webhook_secret(SECRET)},
            )
            assert response.status_code == 200
        await until(lambda: len(api.sent_texts(STRANGER)) >= len(updates), "the refusals")
        await settle(api)
    await _assert_nothing_happened(api, db, STRANGER, len(updates))


# --- the rate limit -----------------------------------------------------------------------


async def test_a_flood_from_one_user_is_cut_and_another_is_answered_promptly(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    frozen = RateLimiter(RateLimit(per_minute=30, burst=20), now=lambda: 0.0)
    conversation = conversation_for(db, tmp_path, limits=Limits(messages=frozen))
    async with polling(api, conversation):
        for number in range(500):  # Bob floods: texts and button presses
            if number % 5 == 4:
                api.push_update(callback(BOB, "!n:off", message_id=1, first_name="Bob"))
            else:
                api.push_update(message(BOB, "/help", first_name="Bob"))
        started = asyncio.get_running_loop().time()
        api.push_update(message(ANNA, "/help"))
        await until(lambda: bool(api.sent_texts(ANNA)), "Anna's answer", timeout=8)
        waited = asyncio.get_running_loop().time() - started
        await settle(api)
    bob = api.sent_texts(BOB, plain=True)
    assert "Wat ik kan" in api.sent_texts(ANNA, plain=True)[0]
    assert waited < 8
    # 20 handled (16 help texts, 4 reminder switches: 1 message each), then the one notice.
    assert len(bob) == 21
    assert bob[-1] == (
        "Rustig aan: je stuurt meer dan 30 berichten per minuut; ik sla er even een paar over."
    )
    assert sum(1 for text in bob if text.startswith("Rustig aan")) == 1
    assert len(api.calls_to("answerCallbackQuery")) == 4  # dropped presses get no answer
    assert await count(db, ProcessedUpdateRow) == 20 + 1  # Bob's handled ones and Anna's


async def test_run_telegram_limits_its_users_as_the_settings_say(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running(
        api,
        db,
        tmp_path,
        webhook_url=None,
        user_messages_per_minute=1,
        user_message_burst=3,
        ai_requests_per_hour=2,
        ai_requests_per_day=4,
    ) as bot:
        limits = bot.conversation.limits[Transport.TELEGRAM]
        assert limits.ai is not None
        assert (limits.ai.per_hour, limits.ai.per_day) == (2, 4)
        for _ in range(6):
            api.push_update(message(ANNA, "/help"))
        await until(lambda: len(api.sent_texts(ANNA)) >= 4, "three answers and the notice")
        await settle(api)
    texts = api.sent_texts(ANNA, plain=True)
    assert len(texts) == 4
    assert texts[-1].startswith("Rustig aan: je stuurt meer dan 1 berichten per minuut")
