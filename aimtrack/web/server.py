"""uvicorn inside the bot's event loop: started as a task, stopped with the bot.

The socket is bound here, before uvicorn starts, so a port in use is an ``OSError`` with the
address in it (uvicorn itself would log and ``sys.exit``). The access log is off: a web link
carries its token in the path, and no path may reach a log. uvicorn's signal handling is off
too: the transport's loop handlers stop the process, and then :meth:`WebServer.stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import Final

import uvicorn
from starlette.types import ASGIApp

from aimtrack.core.errors import AimTrackError

log = logging.getLogger(__name__)

_GRACE_S: Final = 5  # requests still in flight get this long on shutdown
_START_TIMEOUT_S: Final = 30.0


class WebServerError(AimTrackError):
    """The web page cannot listen where it was told to."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    def __init__(self, app: ASGIApp, *, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server = _Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                access_log=False,
                log_config=None,  # the process's own logging configuration
                lifespan="off",
                server_header=False,
                timeout_graceful_shutdown=_GRACE_S,
            )
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Listen and serve in a task of the running loop; returns the port (for port 0)."""
        try:
            family = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)[0][0]
            sock = socket.create_server((self.host, self.port), family=family)
        except OSError as error:
            reason = error.strerror or str(error)
            msg = (
                f"the web page cannot listen on {self.host}:{self.port} ({reason});"
                " set AIMTRACK_WEB_HOST and AIMTRACK_WEB_PORT"
            )
            raise WebServerError(msg) from None
        sock.set_inheritable(True)
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="aimtrack-web")
        async with asyncio.timeout(_START_TIMEOUT_S):
            while not self._server.started:
                if self._task.done():
                    self._task.result()
                    msg = "the web server stopped before it started"
                    raise RuntimeError(msg)
                await asyncio.sleep(0.01)
        log.info("web page and /health on %s:%s", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._task = None
