"""Telegram updates in, core inputs: a message, a command, a pressed button, a photo or a
document (downloaded only when the core asks, after the allowlist and size checks). Only
private chats are served; the core refuses users that are not allowed. An update the core
drops as over the user's rate limit gets no answer at all, not even for a pressed button."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from telegram import (
    Bot,
    PhotoSize,
    Update,
)
from telegram.constants import ChatType
from telegram.ext import (
    ContextTypes,
)

from aimtrack.bot.io import (
    Command,
    Core,
    Input,
    Press,
    Reply,
    Sender,
    Text,
    Upload,
    UploadKind,
)
from aimtrack.bot.transports.telegram.rendering import send_reply
from aimtrack.core.limits import MAX_ATTACHMENT_BYTES
from aimtrack.core.model import Transport

if TYPE_CHECKING:
    pass


MAX_NOTICE: Final = 200  # answerCallbackQuery text


class TelegramTransport:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.type != ChatType.PRIVATE or user.is_bot:
            return
        item = self.to_input(update, context)
        if item is None:
            return
        sender = Sender(
            transport=Transport.TELEGRAM,
            external_id=str(user.id),
            chat_id=str(chat.id),
            display_name=user.full_name,
            language_hint=user.language_code,
        )
        outcome = await self.core.handle(sender, item, update_id=update.update_id)
        if outcome.dropped:  # over the user's rate limit: not even a button is answered
            return
        if update.callback_query is not None:
            notice = outcome.notice[:MAX_NOTICE] if outcome.notice else None
            with contextlib.suppress(Exception):  # a late answer must not stop the replies
                await update.callback_query.answer(text=notice)
        for shown in outcome.replies:
            await self.send(context, chat.id, shown)

    def to_input(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> Input | None:
        if update.callback_query is not None:
            return Press(update.callback_query.data or "")
        message = update.message
        if message is None:
            return None  # edits, reactions and the like change nothing
        if message.photo:
            chosen = _largest_photo(message.photo)
            fetch = _downloader(context.bot, chosen.file_id)
            return Upload(UploadKind.PHOTO, fetch, chosen.file_size, caption=message.caption)
        if message.document is not None:
            document = message.document
            return Upload(
                UploadKind.DOCUMENT,
                _downloader(context.bot, document.file_id),
                document.file_size,
                file_name=document.file_name,
                mime=document.mime_type,
                caption=message.caption,
            )
        text = message.text or ""
        if text.startswith("/"):
            head, _, args = text[1:].partition(" ")
            return Command(head.split("@", 1)[0].lower(), args.strip())
        return Text(text)

    async def send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, shown: Reply) -> None:
        await send_reply(context.bot, chat_id, shown)


def _downloader(bot: Bot, file_id: str) -> Callable[[], Awaitable[bytes]]:
    """Fetch the file only when the core asks (after the allowlist and size checks)."""

    async def fetch() -> bytes:
        found = await bot.get_file(file_id)
        return bytes(await found.download_as_bytearray())

    return fetch


def _largest_photo(sizes: tuple[PhotoSize, ...]) -> PhotoSize:
    """The biggest size Telegram lets us download (getFile serves up to 20 MB); when none
    fits, the smallest, which the core then refuses as too large without downloading it."""
    fitting = [s for s in sizes if s.file_size is None or s.file_size <= MAX_ATTACHMENT_BYTES]
    if fitting:
        return max(fitting, key=lambda s: s.width * s.height)
    return min(sizes, key=lambda s: s.file_size or 0)
