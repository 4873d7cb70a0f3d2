"""Telegram and the web page in one process, as ``aimtrack run`` wires them: ``run_telegram``
(the real PTB Application against the fake Bot API) with the web page on uvicorn in the same
loop (``tests/helpers/telegram.py``: ``running``). Webhook mode sets the webhook itself and takes
updates on the web page's ``POST /telegram``; polling mode records its last good ``getUpdates``
for ``/health``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from aimtrack.assembly import assemble, telegram_options
from aimtrack.bot.app import command_menu
from aimtrack.bot.transports.telegram.service import TransportError, run_telegram, webhook_secret
from aimtrack.config import Settings
from aimtrack.core.clock import SystemClock
from aimtrack.storage.engine import Database
from aimtrack.web.app import Webhook
from tests.helpers.fakebotapi import FakeBotAPI, message
from tests.helpers.telegram import ANNA, HEADER, HOOK_URL, SECRET, running, until

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def health(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/health")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_webhook_mode_sets_the_webhook_and_takes_updates_on_the_web_page(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running(api, db, tmp_path, webhook_url=HOOK_URL) as bot:
        (call,) = api.calls_to("setWebhook")
        secret = webhook_secret(SECRET)
        assert call.params["url"] == HOOK_URL
        assert call.params["secret_token"] == secret
        assert api.calls_to("getUpdates") == []
        assert (await health(bot.client))["telegram"] == {"last_poll_ok_at": None}

        update = {"update_id": 900, **message(ANNA, "/help")}
        wrong = await bot.client.post("/telegram", json=update, headers={HEADER: "nope"})
        assert wrong.status_code == 403
        accepted = await bot.client.post("/telegram", json=update, headers={HEADER: secret})
        assert accepted.status_code == 200
        await until(lambda: any("/sessie" in t for t in api.sent_texts(ANNA)), "the help text")
        assert (await health(bot.client))["telegram"]["last_poll_ok_at"] is not None

        garbled = await bot.client.post(
            "/telegram", json={"update_id": 901, "message": "x"}, headers={HEADER: secret}
        )
        assert garbled.status_code == 400
        replied = len(api.sent_texts(ANNA))
        # Telegram re-delivers an update it got no answer for: handled once.
        again = await bot.client.post("/telegram", json=update, headers={HEADER: secret})
        assert again.status_code == 200
    assert len(api.sent_texts(ANNA)) == replied
    assert bot.webhook.deliver is None  # closed on shutdown


async def test_polling_mode_records_the_last_good_poll(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running(api, db, tmp_path, webhook_url=None) as bot:
        await until(lambda: bot.status.last_ok_at is not None, "a successful getUpdates")
        shown = (await health(bot.client))["telegram"]["last_poll_ok_at"]
        assert shown is not None
        assert shown.endswith("+00:00")
        assert (await bot.client.post("/telegram", json={})).status_code == 404
        api.push_update(message(ANNA, "/help"))
        await until(lambda: any("/sessie" in t for t in api.sent_texts(ANNA)), "the help text")


async def test_webhook_mode_needs_the_web_page(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    settings = Settings(
        telegram_token=api.token,
        telegram_base_url=api.base_url.removesuffix("/bot"),
        webhook_url=HOOK_URL,
        secret_key=SECRET,
    )
    bot = assemble(db, clock=SystemClock(), data_dir=tmp_path)
    parts = (bot.conversation, bot.worker, bot.messengers)
    with pytest.raises(TransportError, match="web page"):
        await run_telegram(telegram_options(settings), *parts, menu=command_menu)
    no_key = settings.model_copy(update={"secret_key": None})
    with pytest.raises(TransportError, match="AIMTRACK_SECRET_KEY"):
        await run_telegram(telegram_options(no_key), *parts, menu=command_menu, webhook=Webhook())
    assert api.calls == []
