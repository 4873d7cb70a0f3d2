"""Long polling in our own loop, which confirms an update to Telegram only once it was handled
(ADR 0011)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from telegram import (
    Bot,
    Update,
)
from telegram.error import (
    InvalidToken,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
)
from telegram.warnings import PTBDeprecationWarning

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

ALLOWED_UPDATES: Final = ["message", "callback_query"]
LONG_POLL_S: Final = 10  # getUpdates waits this long for an update (PTB's default)
POLL_PAUSE_MAX_S: Final = 30.0  # the longest pause between polls after errors


async def poll(
    application: Application[Any, Any, Any, Any, Any, Any],
    stop: asyncio.Event,
    *,
    timeout_s: int = LONG_POLL_S,
) -> None:
    """Long polling that confirms updates to Telegram only once they were handled; returns
    once ``stop`` is set (after the update being handled), raises :class:`InvalidToken`.

    Telegram forgets an update when a ``getUpdates`` asks for an offset past it. PTB's own
    Updater asks for the next batch (with that offset) as soon as it fetched one, before any
    of it was handled, so a process killed then lost those updates for good: the user's
    message was never answered. Here the offset past a batch goes out only after every
    update of it had its turn; a process that dies midway gets the batch again after its
    restart, and the core's update-id check (``processed_updates``) answers each update once.

    Errors are waited out as PTB's Updater does: at once after a timeout, what a 429 asks,
    else 1 s growing by half up to 30 s. On the way out, what was handled is confirmed.
    """
    bot = application.bot
    offset: int | None = None
    ready = False  # the webhook is deleted: Telegram refuses getUpdates while one is set
    pause = 0.0
    stopping = asyncio.create_task(stop.wait())
    fetch: asyncio.Task[tuple[Update, ...]] | None = None
    try:
        while not stop.is_set():
            fetch = asyncio.create_task(_fetch(bot, offset, timeout_s, delete_webhook=not ready))
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not fetch.done():
                break
            try:
                updates = fetch.result()
            except InvalidToken:
                raise
            except TelegramError as error:
                pause = _poll_pause(error, pause)
                log.warning("polling Telegram failed (%s); again in %g s", error, pause)
                await asyncio.wait({stopping}, timeout=pause)
                continue
            ready, pause = True, 0.0
            for update in updates:
                if stop.is_set():
                    break  # the rest of the batch comes again after the restart
                await application.process_update(update)  # errors go to the error handler
                offset = update.update_id + 1
    finally:
        stopping.cancel()
        if fetch is not None and not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetch
    if offset is not None:
        with contextlib.suppress(TelegramError):  # else they come again, and are recognised
            await bot.get_updates(offset=offset, timeout=0, allowed_updates=ALLOWED_UPDATES)


async def _fetch(
    bot: Bot, offset: int | None, timeout_s: int, *, delete_webhook: bool
) -> tuple[Update, ...]:
    if delete_webhook:
        await bot.delete_webhook()
    return await bot.get_updates(offset=offset, timeout=timeout_s, allowed_updates=ALLOWED_UPDATES)


def _poll_pause(error: TelegramError, previous: float) -> float:
    if isinstance(error, TimedOut):
        return 0.0
    if isinstance(error, RetryAfter):
        with warnings.catch_warnings():  # an int unless PTB_TIMEDELTA is set, and it warns
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            after: Any = error.retry_after
        return (after.total_seconds() if isinstance(after, timedelta) else float(after)) + 0.5
    return 1.0 if previous == 0 else min(POLL_PAUSE_MAX_S, previous * 1.5)
