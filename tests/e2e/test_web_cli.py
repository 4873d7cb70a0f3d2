"""``aimtrack run`` serves the web page next to the chat: a child process in console mode
(no Telegram token), its /health and the link its /web command prints."""

from __future__ import annotations

import asyncio
import re
import socket
import sys
from pathlib import Path

import httpx

from aimtrack.web.app import COOKIE
from tests.helpers.cli import settings_env, spawn
from tests.helpers.processes import WAIT_S, free_port
from tests.helpers.telegram import SECRET


async def read_until(stream: asyncio.StreamReader, pattern: str) -> re.Match[str]:
    seen = ""
    async with asyncio.timeout(WAIT_S):
        while (found := re.search(pattern, seen)) is None:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"the output ended without {pattern!r}:\n{seen}")
            seen += line.decode(errors="replace")
    return found


async def test_run_serves_health_and_the_link_that_web_prints(tmp_path: Path) -> None:
    port = free_port()
    env = settings_env(
        {
            "AIMTRACK_DATA_DIR": str(tmp_path / "data"),
            "AIMTRACK_WEB_PORT": str(port),
            "AIMTRACK_SECRET_KEY": SECRET,
            "PYTHONUNBUFFERED": "1",
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aimtrack",
        "run",
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        await read_until(process.stderr, rf"web page and /health on 127\.0\.0\.1:{port}")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/health")
            assert health.status_code == 200
            assert health.json()["telegram"] == {"last_poll_ok_at": None}

            process.stdin.write(b"/web\n")
            await process.stdin.drain()
            found = await read_until(process.stdout, rf"http://127\.0\.0\.1:{port}/web/(\S+)")
            opened = await client.get(f"/web/{found.group(1)}")
            assert opened.status_code == 303
            page = await client.get(
                "/web", headers={"cookie": f"{COOKIE}={opened.cookies[COOKIE]}"}
            )
            assert page.status_code == 200
            assert "Je sessies" in page.text

        process.stdin.write(b"/quit\n")
        await process.stdin.drain()
        process.stdin.close()
        async with asyncio.timeout(WAIT_S):
            assert await process.wait() == 0
        stderr = (await process.stderr.read()).decode(errors="replace")
        assert found.group(1) not in stderr  # the token is in no log line
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_run_in_console_mode_goes_on_without_the_web_page_when_its_port_is_taken(
    tmp_path: Path,
) -> None:
    """Trying AimTrack out (no Telegram token) must not fail on a busy port 8080."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"AIMTRACK_DATA_DIR": str(tmp_path / "data"), "AIMTRACK_WEB_PORT": str(port)}
        result = spawn("run", env=env, stdin="/help\n/quit\n", timeout=WAIT_S)
    assert result.returncode == 0, result.stderr
    assert "/sessie" in result.stdout
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "the console chat runs without it" in result.stderr
