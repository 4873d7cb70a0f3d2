"""The web page through a real uvicorn on 127.0.0.1, on both backends: /health, the Telegram
webhook, the security headers on every response, and no token in any log.

The web page is served by ``tests/helpers/web.py`` (the ``site`` fixture).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from aimtrack.core.clock import FixedClock
from aimtrack.core.model import JobStatus
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import JobQueue
from aimtrack.storage.tables import JobRow
from aimtrack.web import health
from aimtrack.web.app import COOKIE, SECURITY_HEADERS, build_app
from aimtrack.web.links import WebKeys
from aimtrack.web.server import WebServer, WebServerError
from tests.helpers.chat import NOW
from tests.helpers.localserver import LocalServer
from tests.helpers.telegram import SECRET
from tests.helpers.web import Site, seed_anna_and_bob

HOOK_SECRET = "hook-secret-0123456789"


def unreachable_database() -> Database:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return Database.from_url(f"postgresql+asyncpg://aimtrack:pw@127.0.0.1:{port}/aimtrack")


# --- /health -----------------------------------------------------------------------------


async def test_health_reports_the_database_the_queue_and_telegram(site: Site) -> None:
    async with site.db.transaction() as session:
        queue = JobQueue(session)
        await queue.enqueue("reflection", user_id=site.anna.user_id, payload={}, now=NOW)
        await queue.enqueue(
            "reflection", user_id=site.anna.user_id, payload={}, now=NOW - timedelta(seconds=90)
        )
        failed = await queue.enqueue("trend", user_id=site.bob.user_id, payload={}, now=NOW)
        await session.execute(
            sa.update(JobRow).where(JobRow.id == failed.id).values(status=JobStatus.FAILED)
        )

    response = await site.get("/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "queue": {"pending": 2, "failed": 1, "oldest_pending_age_s": 90.0},
        "telegram": {"last_poll_ok_at": None},
    }

    site.telegram.record_ok()
    site.clock.advance(timedelta(minutes=1))
    body = (await site.get("/health")).json()
    assert body["telegram"] == {"last_poll_ok_at": "2026-11-23T18:30:00+00:00"}
    assert body["queue"]["oldest_pending_age_s"] == 150.0


async def test_health_of_an_empty_queue(site: Site) -> None:
    body = (await site.get("/health")).json()
    assert body["queue"] == {"pending": 0, "failed": 0, "oldest_pending_age_s": None}


async def test_health_is_503_when_the_database_cannot_be_reached() -> None:
    db = unreachable_database()
    app = build_app(db, clock=FixedClock(NOW), keys=None, telegram=None)
    server = LocalServer(app, name="AimTrack web")
    port = await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            response = await client.get("/health")
    finally:
        await server.stop()
        await db.dispose()
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unavailable",
        "queue": None,
        "telegram": {"last_poll_ok_at": None},
    }
    assert response.headers["cache-control"] == "no-store"


async def test_health_is_503_when_the_database_does_not_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server that takes the connection and then says nothing (a hung host)."""
    monkeypatch.setattr(health, "TIMEOUT_S", 0.2)
    accepted: list[asyncio.StreamWriter] = []

    async def say_nothing(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    silent = await asyncio.start_server(say_nothing, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    db = Database.from_url(f"postgresql+asyncpg://aimtrack:pw@127.0.0.1:{port}/aimtrack")
    app = build_app(db, clock=FixedClock(NOW), keys=None)
    server = LocalServer(app, name="AimTrack web")
    web_port = await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}") as client:
            response = await client.get("/health")
    finally:
        await server.stop()
        await db.dispose()
        for writer in accepted:
            writer.close()
        silent.close()
        await silent.wait_closed()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_health_is_503_once_the_database_is_gone(db: Database) -> None:
    """A database that answered once and then went away (its engine closed for good)."""
    broken = Database.from_url(str(db.engine.url.render_as_string(hide_password=False)))
    app = build_app(broken, clock=FixedClock(NOW), keys=None)
    server = LocalServer(app, name="AimTrack web")
    port = await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/health")).status_code == 200
            await broken.dispose()
            broken.engine.pool = _NoConnections()  # type: ignore[assignment]
            response = await client.get("/health")
    finally:
        await server.stop()
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


class _NoConnections:
    """A pool that cannot connect, as when the server is down or the file is gone."""

    def connect(self) -> Any:
        raise OSError("connection refused")

    def __getattr__(self, name: str) -> Any:
        raise OSError("connection refused")


# --- the Telegram webhook ----------------------------------------------------------------


async def test_the_webhook_is_closed_until_the_transport_opens_it(site: Site) -> None:
    update = {"update_id": 1, "message": {}}
    response = await site.client.post("/telegram", json=update)
    assert response.status_code == 404


async def test_the_webhook_takes_updates_with_the_secret_token_only(site: Site) -> None:
    async def deliver(data: dict[str, Any]) -> None:
        if "update_id" not in data:
            raise ValueError("not an update")
        site.delivered.append(data)

    site.webhook.open(HOOK_SECRET, deliver)
    update = {"update_id": 7, "message": {"text": "hi"}}
    header = "X-Telegram-Bot-Api-Secret-Token"

    refused = [
        await site.client.post("/telegram", json=update),
        await site.client.post("/telegram", json=update, headers={header: "wrong"}),
        await site.client.post("/telegram", json=update, headers={header: HOOK_SECRET[:-1]}),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert site.delivered == []
    assert site.telegram.last_ok_at is None

    bad = [
        await site.client.post("/telegram", content=b"{not json", headers={header: HOOK_SECRET}),
        await site.client.post("/telegram", json=[1, 2], headers={header: HOOK_SECRET}),
        await site.client.post("/telegram", json={"no": "id"}, headers={header: HOOK_SECRET}),
    ]
    assert [r.status_code for r in bad] == [400, 400, 400]
    assert site.telegram.last_ok_at is None

    accepted = await site.client.post("/telegram", json=update, headers={header: HOOK_SECRET})
    assert accepted.status_code == 200
    assert site.delivered == [update]
    assert site.telegram.last_ok_at == NOW
    assert (await site.get("/health")).json()["telegram"] == {"last_poll_ok_at": NOW.isoformat()}

    site.webhook.close()
    closed = await site.client.post("/telegram", json=update, headers={header: HOOK_SECRET})
    assert closed.status_code == 404


async def test_an_oversized_webhook_body_is_refused(site: Site) -> None:
    site.webhook.open(HOOK_SECRET, _never)
    huge = json.dumps({"update_id": 1, "pad": "x" * (2 * 1024 * 1024)})
    response = await site.client.post(
        "/telegram",
        content=huge,
        headers={"X-Telegram-Bot-Api-Secret-Token": HOOK_SECRET},
    )
    assert response.status_code == 413


async def _never(_data: dict[str, Any]) -> None:
    raise AssertionError("nothing may be delivered")


# --- headers and logs ----------------------------------------------------------------------


async def test_every_response_carries_the_security_headers(site: Site) -> None:
    cookie = await site.sign_in(site.anna)
    responses = {
        "health": await site.get("/health"),
        "page": await site.get("/web", cookie),
        "no session": await site.get("/web"),
        "bad link": await site.get("/web/not.a-link"),
        "exchange": await site.get(f"/web/{site.token(site.anna)}"),
        "stylesheet": await site.get("/web/static/style.css"),
        "missing": await site.get("/nothing/here"),
        "wrong method": await site.client.delete("/web"),
        "webhook closed": await site.client.post("/telegram", json={}),
        "bad form": await site.post("/web/export", {"csrf": "x"}, cookie),
    }
    assert [r.status_code for r in responses.values()] == [
        200, 200, 401, 403, 303, 200, 404, 405, 404, 403
    ]  # fmt: skip
    for name, response in responses.items():
        for header, value in SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
    csp = SECURITY_HEADERS["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "style-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp


async def test_no_link_or_cookie_reaches_a_log(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Through the production server (access log off), with every logger at DEBUG."""
    anna, _bob = await seed_anna_and_bob(db)
    clock = FixedClock(NOW)
    keys = WebKeys(SECRET)
    server = WebServer(build_app(db, clock=clock, keys=keys), host="127.0.0.1", port=0)
    caplog.set_level(logging.DEBUG)
    port = await server.start()
    tokens: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            token = keys.links.issue(anna.user_id, now=NOW)[0]
            opened = await client.get(f"/web/{token}")
            cookie = opened.cookies[COOKIE]
            await client.get(f"/web/{token}")  # reused
            expired = keys.links.issue(anna.user_id, now=NOW - timedelta(hours=1))[0]
            await client.get(f"/web/{expired}")
            tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
            await client.get(f"/web/{tampered}")
            await client.get("/web")
            tokens = [token, expired, tampered, cookie]
    finally:
        await server.stop()
    assert opened.status_code == 303
    # What the server side logged: everything but this test's own HTTP client.
    logged = "\n".join(
        f"{record.name}: {record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))
    )
    assert "web: user" in logged  # the page does log, just never a token
    for secret in tokens:
        assert secret not in logged
        assert secret.split(".")[1] not in logged


async def test_a_port_in_use_is_one_clear_error(db: Database) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = WebServer(
            build_app(db, clock=FixedClock(NOW), keys=None), host="127.0.0.1", port=port
        )
        with pytest.raises(WebServerError, match=f"127.0.0.1:{port}.*AIMTRACK_WEB_PORT"):
            await server.start()
    await server.stop()  # a server that never started stops as a no-op
