"""Messages the bot starts: a background job's result pushed to the chat it came from.

A transport that can push registers a :class:`Pusher` under its name; a job carries the address
(transport and chat id) of the turn that asked for it. Replies are the same plain
:class:`~aimtrack.bot.io.Reply` data the conversation returns.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Protocol

from aimtrack.bot.io import Reply
from aimtrack.core.model import Transport

ACTIVITY_EVERY_S: Final = 4.0  # Telegram shows a chat action for 5 s


class Activity(StrEnum):
    """What the bot shows it is doing (Telegram's chat actions)."""

    TYPING = "typing"
    UPLOADING_DOCUMENT = "upload_document"
    UPLOADING_PHOTO = "upload_photo"


@dataclass(frozen=True, slots=True)
class Address:
    transport: Transport
    chat_id: str

    def to_json(self) -> dict[str, str]:
        return {"transport": self.transport, "chat_id": self.chat_id}

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> Address:
        return cls(Transport(str(payload["transport"])), str(payload["chat_id"]))


class Pusher(Protocol):
    async def push(self, chat_id: str, reply: Reply) -> str:
        """Send ``reply``; returns the id of the (last) message sent."""
        ...

    async def working(self, chat_id: str, activity: Activity) -> None:
        """Show that the bot is working on something for this chat."""
        ...


class NoRoute(Exception):
    """No transport of that name is running in this process (yet)."""


class Messengers:
    """The pushers of the transports running in this process."""

    def __init__(self) -> None:
        self._pushers: dict[str, Pusher] = {}

    def register(self, transport: Transport, pusher: Pusher) -> None:
        self._pushers[transport] = pusher

    def unregister(self, transport: Transport) -> None:
        self._pushers.pop(transport, None)

    def get(self, address: Address) -> Pusher:
        pusher = self._pushers.get(address.transport)
        if pusher is None:
            msg = f"the {address.transport} transport is not running here"
            raise NoRoute(msg)
        return pusher

    async def push(self, address: Address, reply: Reply) -> str:
        return await self.get(address).push(address.chat_id, reply)

    async def working(self, address: Address, activity: Activity) -> None:
        await self.get(address).working(address.chat_id, activity)

    @asynccontextmanager
    async def showing(self, address: Address, activity: Activity) -> AsyncIterator[None]:
        """Keep showing ``activity`` in the chat while the block runs (a model answering, a
        document being built)."""

        async def keep_showing() -> None:
            while True:
                with contextlib.suppress(Exception):  # a cosmetic signal must never fail a job
                    await self.working(address, activity)
                await asyncio.sleep(ACTIVITY_EVERY_S)

        task = asyncio.create_task(keep_showing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
