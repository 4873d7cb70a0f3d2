"""``aimtrack run`` as child processes, for the tests whose subject is the process itself:
``kill -9`` and what the next process recovers, SIGTERM, the whole output of a run.

The fakes (Bot API, AI server) run in the test's own event loop; the children reach them over
127.0.0.1 and keep their data in a database and folder of the test's own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from aimtrack.storage.engine import Database
from tests.helpers.cli import settings_env
from tests.helpers.fakeai import FakeAI
from tests.helpers.fakebotapi import FakeBotAPI
from tests.helpers.telegram import until

WAIT_S = 60.0  # a child's imports and migrations, on a busy machine; nothing measures speed


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def run_env(
    api: FakeBotAPI, database_url: str, data_dir: Path, settings: Mapping[str, str]
) -> dict[str, str]:
    """The environment of an ``aimtrack run`` child: none of this process's AIMTRACK_*
    settings, but the database, the data folder, the fake Bot API's token and address,
    unbuffered output, and ``settings`` (further AIMTRACK_* values)."""
    return settings_env(
        {
            "AIMTRACK_DATABASE_URL": database_url,
            "AIMTRACK_DATA_DIR": str(data_dir),
            "AIMTRACK_TELEGRAM_TOKEN": api.token,
            "AIMTRACK_TELEGRAM_BASE_URL": f"http://127.0.0.1:{api.port}",
            "PYTHONUNBUFFERED": "1",
            **settings,
        }
    )


class Bots:
    """``aimtrack run`` processes against the fakes, with their output kept for failures.
    Each gets a web port of its own (``run`` serves the web page too). ``ai`` and ``db``
    are the fake AI server and the database the children use, for the test to script and
    read."""

    def __init__(
        self,
        api: FakeBotAPI,
        env: dict[str, str],
        *,
        ai: FakeAI | None = None,
        db: Database | None = None,
    ) -> None:
        self.api = api
        self.env = env
        self._ai = ai
        self._db = db
        self.processes: list[asyncio.subprocess.Process] = []
        self.lines: list[str] = []
        self._readers: list[asyncio.Task[None]] = []

    @property
    def ai(self) -> FakeAI:
        assert self._ai is not None, "Bots(..., ai=) was not given"
        return self._ai

    @property
    def db(self) -> Database:
        assert self._db is not None, "Bots(..., db=) was not given"
        return self._db

    async def launch(self, name: str) -> asyncio.subprocess.Process:
        """Start one, without waiting for anything."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aimtrack",
            "run",
            env={**self.env, "AIMTRACK_WEB_PORT": str(free_port())},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self.processes.append(process)
        self._readers.append(asyncio.create_task(self._read(name, process)))
        return process

    async def start(self, name: str) -> asyncio.subprocess.Process:
        """Start one and wait until it polls Telegram for updates."""
        polls = len(self.api.calls_to("getUpdates"))
        process = await self.launch(name)
        await until(
            lambda: len(self.api.calls_to("getUpdates")) > polls or process.returncode is not None,
            f"{name} to poll for updates",
            timeout=WAIT_S,
        )
        assert process.returncode is None, self.output()
        return process

    async def kill(self, process: asyncio.subprocess.Process) -> None:
        """``kill -9``: no shutdown code runs, leases are left as they were."""
        assert process.returncode is None, self.output()
        os.kill(process.pid, signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL

    async def stop(self, process: asyncio.subprocess.Process) -> None:
        """SIGTERM, as a service manager stops it; it must end cleanly."""
        process.terminate()
        async with asyncio.timeout(WAIT_S):
            code = await process.wait()
        assert code == 0, self.output()

    def output(self, lines: int = 200) -> str:
        """The last ``lines`` lines the processes wrote (stdout and stderr), each named."""
        return "".join(self.lines[-lines:])

    async def close(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        for reader in self._readers:
            async with asyncio.timeout(10):
                await reader

    async def _read(self, name: str, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            self.lines.append(f"[{name}] {line.decode(errors='replace')}")


@asynccontextmanager
async def running_bots(
    api: FakeBotAPI, env: dict[str, str], *, ai: FakeAI, database_url: str
) -> AsyncIterator[Bots]:
    """:class:`Bots` with the fake AI server ``ai`` and a :class:`Database` of the test's own on
    ``database_url`` (the children's). When the block ends the processes are killed, the
    database is closed and their output printed (pytest shows it when the test failed)."""
    db = Database.from_url(database_url)
    harness = Bots(api, env, ai=ai, db=db)
    try:
        yield harness
    finally:
        await harness.close()
        await db.dispose()
        print(harness.output())
