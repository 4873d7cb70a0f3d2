"""The console transport: the same conversation in a terminal, on the embedded defaults.

Buttons show as numbered choices (type the number), ``/photo PATH`` sends a picture or a PDF,
``/quit`` (or end of input) leaves. Messages of background jobs (AI reflections) are printed
when they arrive. Nothing here decides anything: lines become inputs, replies
become printed text.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
from pathlib import Path
from typing import TextIO

from aimtrack.bot.io import (
    Button,
    Command,
    Core,
    Input,
    Outcome,
    OutFile,
    Press,
    Reply,
    Sender,
    Text,
    Upload,
    UploadKind,
)
from aimtrack.bot.push import Activity, NoRoute
from aimtrack.core.model import Transport

QUIT = frozenset({"/quit", "/exit", "/q"})
PHOTO = frozenset({"/photo", "/foto", "/file", "/bestand"})


class Console:
    def __init__(
        self,
        conversation: Core,
        *,
        user: str,
        out: TextIO,
        downloads: Path | None = None,
    ) -> None:
        """``downloads``: where documents the bot sends (exports) are saved for the user to
        open; without it their temporary path is printed."""
        self.conversation = conversation
        self.downloads = downloads
        self.sender = Sender(Transport.CONSOLE, external_id=user, chat_id=user, display_name=user)
        self.out = out
        self.buttons: list[Button] = []
        self.pushed = 0

    async def run(self, lines: TextIO) -> int:
        self._print("AimTrack — /help, /quit. Knoppen: typ het nummer / buttons: type the number.")
        while True:
            self.out.write("> ")
            self.out.flush()
            line = await asyncio.to_thread(lines.readline)
            if not line:
                self._print("")
                return 0
            text = line.strip()
            if text.lower() in QUIT:
                return 0
            item = self.parse(text)
            if item is None:
                continue
            self.show(await self.conversation.handle(self.sender, item))

    def parse(self, text: str) -> Input | None:
        if not text:
            return None
        if text.isdecimal() and self.buttons:
            index = int(text) - 1
            if 0 <= index < len(self.buttons):
                return Press(self.buttons[index].data)
            self._print(f"? 1–{len(self.buttons)}")
            return None
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            if f"/{name.lower()}" in PHOTO:
                return self._upload(args.strip())
            return Command(name.lower(), args.strip())
        return Text(text)

    def _upload(self, argument: str) -> Input | None:
        try:
            parts = shlex.split(argument)
        except ValueError:
            parts = [argument]
        if len(parts) != 1:
            self._print("/photo PATH")
            return None
        path = Path(parts[0]).expanduser()
        if not path.is_file():
            self._print(f"? {path}")
            return None
        is_pdf = path.suffix.lower() == ".pdf"

        async def fetch() -> bytes:
            return await asyncio.to_thread(path.read_bytes)

        return Upload(
            kind=UploadKind.DOCUMENT if is_pdf else UploadKind.PHOTO,
            fetch=fetch,
            declared_size=path.stat().st_size,
            file_name=path.name,
            mime="application/pdf" if is_pdf else None,
        )

    def show(self, outcome: Outcome) -> None:
        if outcome.notice:
            self._print(f"({outcome.notice})")
        if any(shown.text for shown in outcome.replies):
            self.buttons = []  # a message of files only (charts) leaves the buttons above it
        for shown in outcome.replies:
            if shown.text or not shown.files:
                self._print(shown.text)
            for attached in shown.files:
                caption = f" {attached.caption}" if attached.caption else ""
                self._print(f"📎 {self._keep(attached)}{caption}")
            if shown.buttons:
                self.buttons = [button for row in shown.buttons for button in row]
                numbered = (f"[{i}] {b.label}" for i, b in enumerate(self.buttons, start=1))
                self._print("  ".join(numbered))

    async def push(self, chat_id: str, reply: Reply) -> str:
        """A background job's message (a reflection): printed like any reply, but only in
        the terminal of the user it belongs to."""
        if chat_id != self.sender.chat_id:
            msg = f"console user {chat_id!r} is not the one at this terminal"
            raise NoRoute(msg)
        self._print("")
        self.show(Outcome((reply,)))
        self.pushed += 1
        return f"console-{self.pushed}"

    async def working(self, chat_id: str, activity: Activity) -> None:
        """The console shows nothing while a job works."""

    def _keep(self, attached: OutFile) -> Path:
        """A document, or a file deleted once sent (a chart), is copied to the downloads
        folder; stored photos stay where they are."""
        if (attached.is_photo and not attached.transient) or self.downloads is None:
            return attached.path
        self.downloads.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self.downloads / Path(attached.name or attached.path.name).name
        shutil.copyfile(attached.path, target)
        return target

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()
