"""The web page as the tests serve it: a real uvicorn on 127.0.0.1 in the test's loop, on a
database with two seeded users, and an HTTP client to it (the ``site`` fixture,
``tests/conftest.py``)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from aimtrack.core.clock import FixedClock
from aimtrack.storage.engine import Database
from aimtrack.web.app import COOKIE, WebConfig, Webhook, build_app
from aimtrack.web.health import TelegramStatus
from aimtrack.web.links import WebKeys
from tests.helpers.chat import NOW
from tests.helpers.factories import Seeded, seed_user
from tests.helpers.localserver import LocalServer
from tests.helpers.telegram import SECRET

ANNA_TG, BOB_TG = 111, 222


@dataclass
class Site:
    """The web page of one database, served by uvicorn, with two seeded users."""

    db: Database
    clock: FixedClock
    keys: WebKeys
    client: httpx.AsyncClient
    anna: Seeded
    bob: Seeded
    telegram: TelegramStatus
    webhook: Webhook
    delivered: list[dict[str, Any]] = field(default_factory=list)

    def token(self, who: Seeded, *, at: datetime | None = None) -> str:
        token, _ = self.keys.links.issue(who.user_id, now=at or self.clock.now())
        return token

    async def sign_in(self, who: Seeded) -> str:
        """Open a fresh link of ``who``; returns the session cookie it set."""
        response = await self.client.get(f"/web/{self.token(who)}")
        assert response.status_code == 303, response.text
        cookie = response.cookies[COOKIE]
        self.client.cookies.clear()  # every request says whose cookie it sends
        return cookie

    async def get(self, path: str, cookie: str | None = None) -> httpx.Response:
        return await self.client.get(path, headers=_cookie(cookie))

    async def post(self, path: str, data: dict[str, Any], cookie: str | None) -> httpx.Response:
        return await self.client.post(path, data=data, headers=_cookie(cookie))

    async def csrf(self, cookie: str) -> str:
        page = await self.get("/web", cookie)
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert found is not None, page.text
        return found.group(1)


def _cookie(cookie: str | None) -> dict[str, str]:
    return {} if cookie is None else {"cookie": f"{COOKIE}={cookie}"}


async def seed_anna_and_bob(db: Database) -> tuple[Seeded, Seeded]:
    async with db.transaction() as session:
        anna = await seed_user(session, telegram_id=ANNA_TG, marker="A")
        bob = await seed_user(session, telegram_id=BOB_TG, marker="B")
    return anna, bob


@asynccontextmanager
async def serving(db: Database, *, config: WebConfig | None = None) -> AsyncIterator[Site]:
    """The web page of ``db`` (Anna and Bob seeded) on uvicorn, until the block ends."""
    anna, bob = await seed_anna_and_bob(db)
    clock = FixedClock(NOW)
    keys = WebKeys(SECRET)
    telegram = TelegramStatus(clock)
    webhook = Webhook()
    app = build_app(db, clock=clock, keys=keys, config=config, telegram=telegram, webhook=webhook)
    server = LocalServer(app, name="AimTrack web")
    port = await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield Site(db, clock, keys, client, anna, bob, telegram, webhook)
    finally:
        await server.stop()
