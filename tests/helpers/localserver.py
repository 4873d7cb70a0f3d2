"""Serve a fake's Starlette app with uvicorn on 127.0.0.1 inside the test's own event loop.

The fakes (:mod:`tests.fakebotapi`, :mod:`tests.fakeai`) are real HTTP servers so that the real
clients (PTB, the ``openai`` SDK) talk to them exactly as they talk to the real services; this is
the start and stop they share::

    server = LocalServer(app, name="FakeAI")
    port = await server.start()
    ...
    await server.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

_START_TIMEOUT = 10.0  # seconds
_STOP_TIMEOUT = 10.0  # seconds


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling (Ctrl-C) to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class LocalServer:
    """One app on a free port of 127.0.0.1, served by a task of the running loop.

    ``name`` names the task and the errors, so a failing start says which fake it was.
    """

    def __init__(self, app: ASGIApp, *, name: str, port: int = 0) -> None:
        """``port`` 0 takes a free one; another port is for a server that comes back where it
        was (a fake AI server that was down)."""
        self.name = name
        self._server = _Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="off",
                log_config=None,  # leave the test run's logging configuration alone
                timeout_graceful_shutdown=2,
            )
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Start serving and wait until uvicorn listens; returns the port it listens on.

        Raises what stopped uvicorn if it stopped before it started, and ``TimeoutError`` if it
        did not start within 10 s.
        """
        self._task = asyncio.create_task(self._server.serve(), name=self.name)
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped the server
                msg = f"{self.name}: uvicorn stopped before it started"
                raise RuntimeError(msg)
            if time.monotonic() > deadline:
                msg = f"{self.name}: uvicorn did not start within {_START_TIMEOUT:g} s"
                raise TimeoutError(msg)
            await asyncio.sleep(0.01)
        port: int = self._server.servers[0].sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        """Ask uvicorn to exit and wait for it (a no-op if :meth:`start` never ran).

        uvicorn waits up to 2 s for requests still in flight, so a fake wakes its own waiting
        handlers before calling this.
        """
        if self._task is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._task, timeout=_STOP_TIMEOUT)
