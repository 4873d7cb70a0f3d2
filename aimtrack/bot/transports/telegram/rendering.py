"""Core replies out as Bot API calls: text HTML-escaped and split below 4,096 characters
(buttons on the last part), then files as photos or documents; and the pusher through which
jobs send the messages the bot starts."""

from __future__ import annotations

import asyncio
import html
from typing import TYPE_CHECKING, Final

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from telegram.constants import ChatAction, MessageLimit, ParseMode

from aimtrack.bot.io import (
    Reply,
)
from aimtrack.bot.push import Activity

if TYPE_CHECKING:
    pass


MAX_TEXT: Final = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
MAX_CAPTION: Final = int(MessageLimit.CAPTION_LENGTH)  # 1024


class TelegramPusher:
    """Messages the bot starts (AI results): the same rendering as replies."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def push(self, chat_id: str, reply: Reply) -> str:
        sent = await send_reply(self.bot, int(chat_id), reply)
        return str(sent.message_id)

    async def working(self, chat_id: str, activity: Activity) -> None:
        await self.bot.send_chat_action(int(chat_id), ChatAction(activity.value))


async def send_reply(bot: Bot, chat_id: int, shown: Reply) -> Message:
    """Send one reply: its text (split to fit, buttons on the last part), then its files.
    A reply of files only has no text message. Returns the message that carries the text's
    last part, or the last file's."""
    parts = split_text(shown.text) if shown.text or not shown.files else []
    markup = None
    if shown.buttons:
        markup = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
                for row in shown.buttons
            ]
        )
    last: Message | None = None
    for index, part in enumerate(parts):
        final = index == len(parts) - 1
        last = await bot.send_message(
            chat_id,
            html.escape(part, quote=False),
            parse_mode=ParseMode.HTML,
            reply_markup=markup if final else None,
        )
    for attached in shown.files:
        content = await asyncio.to_thread(attached.path.read_bytes)
        caption = attached.caption[:MAX_CAPTION] if attached.caption else None
        if attached.is_photo:
            sent = await bot.send_photo(chat_id, content, caption=caption)
        else:
            sent = await bot.send_document(
                chat_id, content, filename=attached.name or attached.path.name, caption=caption
            )
        last = last if parts else sent
    assert last is not None  # noqa: S101 -- a text part or a file is always sent
    return last


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split at line breaks (or hard, for a long line) so each part, once HTML-escaped, fits."""
    text = text or "…"
    parts: list[str] = []
    current = ""
    for whole_line in text.split("\n"):
        line = whole_line
        while _escaped_len(line) > limit:
            cut = _fit(line, limit)
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if _escaped_len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    parts.append(current)
    return [part if part.strip() else "…" for part in parts]


def _escaped_len(text: str) -> int:
    return len(html.escape(text, quote=False))


def _fit(line: str, limit: int) -> int:
    cut = limit
    while _escaped_len(line[:cut]) > limit:
        cut -= (_escaped_len(line[:cut]) - limit + 4) // 5 + 1
    return max(cut, 1)
