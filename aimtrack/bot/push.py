"""Messages the bot starts: a background job's result pushed to the chat it came from.

A transport that can push registers a :class:`Pusher` under its name; a job carries the address
(transport and chat id) of the turn that asked for it. Replies are the same plain
:class:`~aimtrack.bot.io.Reply` data the conversation returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aimtrack.bot.io import Reply


@dataclass(frozen=True, slots=True)
class Address:
    transport: str
    chat_id: str

    def to_json(self) -> dict[str, str]:
        return {"transport": self.transport, "chat_id": self.chat_id}

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> Address:
        return cls(str(payload["transport"]), str(payload["chat_id"]))


class Pusher(Protocol):
    async def push(self, chat_id: str, reply: Reply) -> str:
        """Send ``reply``; returns the id of the (last) message sent."""
        ...

    async def typing(self, chat_id: str) -> None:
        """Show that the bot is working on something for this chat."""
        ...


class NoRoute(Exception):
    """No transport of that name is running in this process (yet)."""


class Messengers:
    """The pushers of the transports running in this process."""

    def __init__(self) -> None:
        self._pushers: dict[str, Pusher] = {}

    def register(self, transport: str, pusher: Pusher) -> None:
        self._pushers[transport] = pusher

    def unregister(self, transport: str) -> None:
        self._pushers.pop(transport, None)

    def get(self, address: Address) -> Pusher:
        pusher = self._pushers.get(address.transport)
        if pusher is None:
            msg = f"the {address.transport} transport is not running here"
            raise NoRoute(msg)
        return pusher

    async def push(self, address: Address, reply: Reply) -> str:
        return await self.get(address).push(address.chat_id, reply)

    async def typing(self, address: Address) -> None:
        await self.get(address).typing(address.chat_id)
