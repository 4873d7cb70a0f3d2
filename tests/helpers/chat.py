"""A driver for the conversation core in tests: say, press, send a photo — and count actions.

Every user action (a message, a tap, a file) goes through ``Conversation.handle`` exactly as a
transport would send it; ``actions`` counts them for the issue's action budgets.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from aimtrack.bot.app import build_conversation
from aimtrack.bot.conversation import Conversation
from aimtrack.bot.io import Command, Input, Outcome, Press, Sender, Text, Upload, UploadKind
from aimtrack.core.access import Access
from aimtrack.core.clock import FixedClock
from aimtrack.storage.engine import Database

NOW = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # a Monday evening in Amsterdam


def jpeg(size: tuple[int, int] = (64, 48), color: str = "white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def buttons_labelled(outcome: Outcome, label: str) -> list[str]:
    """The data of every button of ``outcome``'s replies whose label contains ``label``
    (case-insensitive)."""
    return [
        button.data
        for shown in outcome.replies
        for row in shown.buttons
        for button in row
        if label.casefold() in button.label.casefold()
    ]


@dataclass
class Chat:
    conversation: Conversation
    sender: Sender
    actions: int = 0
    last: Outcome = field(default_factory=Outcome)

    @classmethod
    def open(
        cls,
        db: Database,
        data_dir: Path,
        *,
        user: str = "anna",
        clock: FixedClock | None = None,
        **options: Any,
    ) -> Chat:
        """A console user's chat with a conversation of its own (``options``: more of
        :func:`build_conversation`'s); nothing runs the jobs it queues."""
        conversation = build_conversation(
            db, clock=clock or FixedClock(NOW), data_dir=data_dir, access=Access(), **options
        )
        return cls(conversation, Sender("console", user, user, display_name=user.title()))

    async def do(self, item: Input, *, update_id: int | None = None) -> Outcome:
        self.actions += 1
        self.last = await self.conversation.handle(self.sender, item, update_id=update_id)
        return self.last

    async def say(self, text: str) -> Outcome:
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            return await self.do(Command(name, args))
        return await self.do(Text(text))

    async def press(self, label: str) -> Outcome:
        """Press the (only) button of the latest reply whose label contains ``label``."""
        return await self.do(Press(self.button(label)))

    def button(self, label: str) -> str:
        found = buttons_labelled(self.last, label)
        assert len(found) == 1, f"{len(found)} buttons match {label!r}: {self.labels()}"
        return found[0]

    def labels(self) -> list[str]:
        return [b.label for shown in self.last.replies for row in shown.buttons for b in row]

    async def photo(self, data: bytes | None = None, *, name: str | None = None) -> Outcome:
        content = jpeg() if data is None else data

        async def fetch() -> bytes:
            return content

        return await self.do(
            Upload(UploadKind.PHOTO, fetch, declared_size=len(content), file_name=name)
        )

    @property
    def text(self) -> str:
        return "\n".join(shown.text for shown in self.last.replies)
