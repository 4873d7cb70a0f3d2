"""What goes into the conversation core and what comes out: plain data, no chat app in sight.

A transport turns an update into one :data:`Input` and a :class:`Sender`, calls the core, and
turns the :class:`Outcome` back into messages. Replies are plain text: the transport escapes
it for its own markup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from aimtrack.core.model import Transport


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote, as the transport knows them."""

    transport: Transport
    external_id: str  # the user's id on that transport
    chat_id: str
    display_name: str | None = None
    language_hint: str | None = None  # e.g. Telegram's language_code


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # as typed, without the slash and any @botname, lower case
    args: str = ""


@dataclass(frozen=True, slots=True)
class Press:
    """A button was pressed; ``data`` is what the core put on the button."""

    data: str


class UploadKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the user sent. ``fetch`` downloads it; the core calls it only for allowed users
    and only when ``declared_size`` (if the app tells it) is within the limit."""

    kind: UploadKind
    fetch: Callable[[], Awaitable[bytes]]
    declared_size: int | None = None
    file_name: str | None = None
    mime: str | None = None
    caption: str | None = None


Input = Text | Command | Press | Upload


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True, slots=True)
class OutFile:
    path: Path  # absolute
    is_photo: bool
    name: str | None = None
    caption: str | None = None  # a line shown with the file
    transient: bool = False  # deleted once sent: a transport that shows a path must copy it


@dataclass(frozen=True, slots=True)
class Reply:
    text: str  # may be empty when the reply is only files
    buttons: tuple[tuple[Button, ...], ...] = ()
    files: tuple[OutFile, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything the transport should do for one input."""

    replies: tuple[Reply, ...] = ()
    notice: str | None = None  # a short toast for a pressed button (answerCallbackQuery)
    duplicate: bool = False  # the update was handled before; say nothing
    dropped: bool = False  # over the user's rate limit: skipped unseen; answer nothing at all


class Core(Protocol):
    """The conversation core as a transport calls it (:class:`aimtrack.bot.conversation.
    Conversation`): one input of one sender in, what to do out. ``update_id``: the chat app's
    id of the update, so that a replayed update is handled once."""

    async def handle(
        self, sender: Sender, item: Input, *, update_id: int | None = None
    ) -> Outcome: ...


class Background(Protocol):
    """The durable job worker as a transport drives it (:class:`aimtrack.jobs.worker.
    JobWorker`): a timer ticks it, and it is stopped before the transport stops."""

    def wake(self) -> None: ...

    async def safe_tick(self) -> int: ...

    async def stop(self) -> None: ...


class Scan(Protocol):
    """A timer's work that may queue jobs (:class:`aimtrack.jobs.reminders.ReminderScan`);
    returns how many it queued."""

    async def safe_run(self) -> int: ...


Deliver = Callable[[dict[str, Any]], Awaitable[None]]
"""Queues an update's JSON for the transport; raises ``ValueError`` for one it cannot read."""


class Inbox(Protocol):
    """Where a chat app's webhook delivers updates (:class:`aimtrack.web.app.Webhook`): closed
    until the transport opens it with the secret token the app sends along."""

    def open(self, secret: str, deliver: Deliver) -> None: ...

    def close(self) -> None: ...


class Heartbeat(Protocol):
    """Records that the chat app answered (:class:`aimtrack.web.health.TelegramStatus`, shown
    on ``/health``)."""

    def record_ok(self) -> None: ...
