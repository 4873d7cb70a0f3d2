"""Running AimTrack on Telegram: the application, long polling or a webhook, and the timers
of the job worker and the reminders, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from telegram import (
    Update,
)
from telegram.error import (
    InvalidToken,
    TelegramError,
)
from telegram.ext import (
    Application,
    CallbackContext,
)

from aimtrack.bot.io import (
    Background,
    Core,
    Heartbeat,
    Inbox,
    Scan,
)
from aimtrack.bot.push import Messengers
from aimtrack.bot.transports.telegram.application import Menu, build_application, set_commands
from aimtrack.bot.transports.telegram.polling import ALLOWED_UPDATES, poll
from aimtrack.bot.transports.telegram.rendering import TelegramPusher
from aimtrack.core.errors import AimTrackError
from aimtrack.core.model import Transport

log = logging.getLogger(__name__)

FIRST_REMINDER_SCAN_S: Final = 10.0  # after start: the bot is up, the worker has ticked


class TransportError(AimTrackError):
    """The chat app cannot be reached or refused us (wrong token, no network)."""


def webhook_secret(secret_key: str) -> str:
    """Telegram's ``secret_token`` (A-Z, a-z, 0-9, _ and -), derived from the secret key."""
    return hmac.new(secret_key.encode(), b"telegram-webhook", hashlib.sha256).hexdigest()


def _deliverer(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """What the web page's webhook calls with an update's JSON: queue it for the application."""

    async def deliver(data: dict[str, Any]) -> None:
        try:
            update = Update.de_json(data, application.bot)
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            msg = "not a Telegram update"
            raise ValueError(msg) from error
        await application.update_queue.put(update)

    return deliver


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    """What the Telegram transport is told by the composition root (from the settings)."""

    token: str
    base_url: str  # AIMTRACK_TELEGRAM_BASE_URL
    webhook_url: str | None = None  # None: long polling
    secret_key: str | None = None  # AIMTRACK_SECRET_KEY: the webhook's secret token
    job_poll_s: float = 5.0  # how often the job worker looks for due jobs
    reminder_scan_s: float = 900.0  # how often the reminders are checked


async def run_telegram(
    options: TelegramOptions,
    core: Core,
    worker: Background,
    messengers: Messengers,
    *,
    menu: Menu,
    status: Heartbeat | None = None,
    webhook: Inbox | None = None,
    on_ready: Callable[[], Awaitable[object]] | None = None,
    reminders: Scan | None = None,
) -> None:
    """Run until SIGINT or SIGTERM: polling, or a webhook when one is configured (its updates
    arrive through ``webhook``, the web page's ``POST /telegram``); the job ``worker`` ticks
    from PTB's JobQueue and pushes its results through this bot (registered in
    ``messengers``), and ``reminders`` scans from it every ``reminder_scan_s``. ``menu``: the
    commands the chat app lists, per language. ``on_ready`` runs once the Bot API answered,
    before any update can arrive: ``aimtrack run`` starts the web page there."""
    if options.webhook_url is not None:
        if options.secret_key is None:
            msg = "AIMTRACK_SECRET_KEY is needed for the webhook's secret token"
            raise TransportError(msg)
        if webhook is None:
            msg = "webhook mode needs the web page to receive updates (aimtrack run serves it)"
            raise TransportError(msg)
    application = build_application(
        core, token=options.token, base_url=options.base_url, status=status
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await application.initialize()
    except TelegramError as error:
        reason = str(error).replace(options.token, "<token>")
        msg = f"cannot reach the Telegram Bot API at {options.base_url}: {reason}"
        raise TransportError(msg) from None
    async with application:
        await set_commands(application, menu)
        messengers.register(Transport.TELEGRAM, TelegramPusher(application.bot))
        schedule_worker(application, worker, poll_s=options.job_poll_s)
        if reminders is not None:
            schedule_reminders(application, reminders, worker, every_s=options.reminder_scan_s)
        if on_ready is not None:
            await on_ready()
        polling = webhook is None or options.webhook_url is None
        if not polling:
            assert webhook is not None  # noqa: S101 -- not polling
            assert options.secret_key is not None  # noqa: S101 -- checked above
            secret = webhook_secret(options.secret_key)
            webhook.open(secret, _deliverer(application))
            await application.bot.set_webhook(
                str(options.webhook_url), secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )
        await application.start()
        log.info("AimTrack is running on Telegram; stop with Ctrl-C")
        failed = await _serve(application, stop, polling=polling)
        if webhook is not None:
            webhook.close()
        await worker.stop()
        await application.stop()
        messengers.unregister(Transport.TELEGRAM)
        if failed is not None:
            msg = f"polling Telegram stopped: {failed}"
            raise TransportError(msg) from failed


async def _serve(
    application: Application[Any, Any, Any, Any, Any, Any], stop: asyncio.Event, *, polling: bool
) -> TelegramError | None:
    """Until SIGINT or SIGTERM (``stop``), polling meanwhile unless a webhook delivers the
    updates; returns what ended polling before that (a token Telegram refuses), if anything."""
    if not polling:
        await stop.wait()
        return None
    try:
        await poll(application, stop)
    except InvalidToken as error:
        return error
    return None


def schedule_worker(
    application: Application[Any, Any, Any, Any, Any, Any], worker: Background, *, poll_s: float
) -> None:
    """Trigger the durable queue from PTB's JobQueue (APScheduler) every ``poll_s``: the jobs
    themselves live in our table, so nothing needs pickling and a restart loses nothing. (A
    job queued by a turn, or waiting for a free slot, is started by the worker at once.)"""
    job_queue = application.job_queue
    assert job_queue is not None  # noqa: S101 -- the job-queue extra is a dependency

    async def tick(_context: CallbackContext[Any, Any, Any, Any]) -> None:
        await worker.safe_tick()

    job_queue.run_repeating(tick, interval=poll_s, first=0.1, name="aimtrack-jobs")


def schedule_reminders(
    application: Application[Any, Any, Any, Any, Any, Any],
    scan: Scan,
    worker: Background,
    *,
    every_s: float,
) -> None:
    """Run the reminder scan from PTB's JobQueue, first shortly after start, then every
    ``every_s``; wake the ``worker`` when it queued something. The schedule holds no state:
    each run reads what is due from the database, so a restart recreates it as it was."""
    job_queue = application.job_queue
    assert job_queue is not None  # noqa: S101 -- the job-queue extra is a dependency

    async def remind(_context: CallbackContext[Any, Any, Any, Any]) -> None:
        if await scan.safe_run():
            worker.wake()

    first = min(every_s, FIRST_REMINDER_SCAN_S)
    job_queue.run_repeating(remind, interval=every_s, first=first, name="aimtrack-reminders")
