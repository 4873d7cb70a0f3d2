"""The Telegram transport on python-telegram-bot 22: updates in, core inputs; replies out.

- Long polling by default (:func:`poll`: an update is confirmed to Telegram only once it
  was handled, so a crash loses none); a webhook with a ``secret_token`` when
  ``AIMTRACK_WEBHOOK_URL`` is set, served by the web page's ``POST /telegram``
  (:class:`aimtrack.web.app.Webhook`) on the same port, not by PTB's own webhook server.
  The Bot API base URL comes from
  ``AIMTRACK_TELEGRAM_BASE_URL`` (a local Bot API server, or the fake one in tests).
- ``/health`` shows when Telegram last answered: a successful ``getUpdates`` or an accepted
  webhook update (:class:`aimtrack.web.health.TelegramStatus`).
- ``AIORateLimiter`` keeps us inside Telegram's flood limits and waits out a 429's
  ``retry_after`` (three times); :class:`RetryingRateLimiter` also tries a call again after a
  5xx, a dropped connection or a timeout (docs/faults.md).
- Every update id goes to the core, which handles a replayed update once.
- Replies are HTML-escaped and split below 4,096 characters; buttons go on the last part.
- Only private chats are served; the core refuses users that are not allowed.
- Every Telegram user is rate-limited and has an AI quota (``AIMTRACK_USER_MESSAGES_PER_MINUTE``
  and the like, docs/abuse.md): ``run_telegram`` gives the core these limits. An update the
  core drops as over the limit gets no answer at all, not even for a pressed button.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import logging
import signal
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageLimit, ParseMode
from telegram.error import (
    BadRequest,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackContext,
    ContextTypes,
    TypeHandler,
)
from telegram.request import HTTPXRequest, RequestData
from telegram.warnings import PTBDeprecationWarning

from aimtrack.bot import files
from aimtrack.bot.conversation import Limits
from aimtrack.bot.io import (
    Command,
    Input,
    Press,
    Reply,
    Sender,
    Text,
    Upload,
    UploadKind,
)
from aimtrack.core.errors import AimTrackError
from aimtrack.core.model import Language, Transport
from aimtrack.core.ratelimit import RateLimiter

if TYPE_CHECKING:
    from aimtrack.ai.worker import JobWorker
    from aimtrack.bot.conversation import Conversation
    from aimtrack.bot.push import Activity, Messengers
    from aimtrack.bot.reminders import ReminderScan
    from aimtrack.config import Settings
    from aimtrack.web.app import Webhook
    from aimtrack.web.health import TelegramStatus

log = logging.getLogger(__name__)

MAX_TEXT: Final = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
MAX_CAPTION: Final = int(MessageLimit.CAPTION_LENGTH)  # 1024
MAX_NOTICE: Final = 200  # answerCallbackQuery text
WEBHOOK_PATH: Final = "telegram"  # POST /telegram on the web page
ALLOWED_UPDATES: Final = ["message", "callback_query"]
FIRST_REMINDER_SCAN_S: Final = 10.0  # after start: the bot is up, the worker has ticked
RETRY_AFTER_429: Final = 3  # AIORateLimiter waits out retry_after this often, then gives up
NETWORK_RETRY_DELAYS_S: Final = (0.5, 1.0, 2.0)  # after a 5xx, a dropped connection, a timeout
# The start's token check: a Bot API that cannot be reached is said at once, in one line.
NOT_RETRIED: Final = frozenset({"getMe"})
LONG_POLL_S: Final = 10  # getUpdates waits this long for an update (PTB's default)
POLL_PAUSE_MAX_S: Final = 30.0  # the longest pause between polls after errors


class TransportError(AimTrackError):
    """The chat app cannot be reached or refused us (wrong token, no network)."""


def build_application(
    conversation: Conversation,
    *,
    token: str,
    base_url: str,
    rate_limit: bool = True,
    status: TelegramStatus | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    root = base_url.rstrip("/")
    builder = (
        ApplicationBuilder().token(token).base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    )
    if status is not None:
        builder = builder.get_updates_request(PollRequest(status))
    if rate_limit:
        limiter = RetryingRateLimiter(max_retries=RETRY_AFTER_429)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    application = builder.build()
    transport = TelegramTransport(conversation)
    application.add_handler(TypeHandler(Update, transport.on_update))
    application.add_error_handler(_log_error)
    return application


class RetryingRateLimiter(AIORateLimiter):
    """PTB's rate limiter (flood limits; a 429 is waited out for its ``retry_after``), which
    also tries a call again, after a short pause, when it failed on the way: a 5xx answer, a
    dropped connection or a timeout. Without it, one such failure loses a reply to a turn for
    good: the update is handled and its id claimed, so nothing would answer it again.

    A call that timed out may have reached Telegram all the same, so a reply can arrive twice
    then, which is better than not at all (the user would not know whether a session was
    saved). ``getUpdates`` never comes here (:func:`poll` retries its own polls), and the
    start's ``getMe`` is not retried. Refusals (400, 403) are not retried, and neither is a
    call still told to wait after ``max_retries`` 429s."""

    def __init__(
        self, *, max_retries: int, delays_s: tuple[float, ...] = NETWORK_RETRY_DELAYS_S
    ) -> None:
        super().__init__(max_retries=max_retries)
        self.delays_s = delays_s

    async def process_request(  # noqa: PLR0917 -- PTB's signature
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        for delay in () if endpoint in NOT_RETRIED else self.delays_s:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise  # Telegram refused the call itself: the same call fails the same way
            except NetworkError as error:  # also TimedOut
                log.warning("Telegram %s failed (%s); trying again in %g s", endpoint, error, delay)
                await asyncio.sleep(delay)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


class PollRequest(HTTPXRequest):
    """PTB's request for ``getUpdates`` (one connection, as PTB's default) that records every
    successful poll in ``status``."""

    def __init__(self, status: TelegramStatus) -> None:
        super().__init__(connection_pool_size=1)
        self.status = status

    async def do_request(  # noqa: PLR0917 -- PTB's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        write_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        connect_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        pool_timeout: Any = HTTPXRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, payload = await super().do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if 200 <= code < 300:
            self.status.record_ok()
        return code, payload


class TelegramTransport:
    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

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
        outcome = await self.conversation.handle(sender, item, update_id=update.update_id)
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


def _downloader(bot: Bot, file_id: str) -> Callable[[], Awaitable[bytes]]:
    """Fetch the file only when the core asks (after the allowlist and size checks)."""

    async def fetch() -> bytes:
        found = await bot.get_file(file_id)
        return bytes(await found.download_as_bytearray())

    return fetch


def _largest_photo(sizes: tuple[PhotoSize, ...]) -> PhotoSize:
    """The biggest size Telegram lets us download (getFile serves up to 20 MB); when none
    fits, the smallest, which the core then refuses as too large without downloading it."""
    fitting = [s for s in sizes if s.file_size is None or s.file_size <= files.MAX_PHOTO_BYTES]
    if fitting:
        return max(fitting, key=lambda s: s.width * s.height)
    return min(sizes, key=lambda s: s.file_size or 0)


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    from aimtrack.bot.app import command_descriptions  # noqa: PLC0415

    # Dutch for everyone by default (and for "nl"), English for English-language clients.
    for language_code, language in ((None, Language.NL), ("nl", Language.NL), ("en", Language.EN)):
        commands = [
            BotCommand(name, description) for name, description in command_descriptions(language)
        ]
        await application.bot.set_my_commands(
            commands, scope=BotCommandScopeAllPrivateChats(), language_code=language_code
        )


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("handling an update failed", exc_info=context.error)


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


async def run_telegram(
    settings: Settings,
    conversation: Conversation,
    worker: JobWorker,
    messengers: Messengers,
    *,
    status: TelegramStatus | None = None,
    webhook: Webhook | None = None,
    on_ready: Callable[[], Awaitable[object]] | None = None,
    reminders: ReminderScan | None = None,
) -> None:
    """Run until SIGINT or SIGTERM: polling, or a webhook when one is configured (its updates
    arrive through ``webhook``, the web page's ``POST /telegram``); the job worker ticks from
    PTB's JobQueue and pushes its results through this bot, and ``reminders`` scans from it
    every ``AIMTRACK_REMINDER_SCAN_S``. ``on_ready`` runs once the Bot API answered, before
    any update can arrive: ``aimtrack run`` starts the web page there."""
    assert settings.telegram_token is not None  # noqa: S101 -- the CLI checked
    if settings.webhook_url is not None:
        if settings.secret_key is None:
            msg = "AIMTRACK_SECRET_KEY is needed for the webhook's secret token"
            raise TransportError(msg)
        if webhook is None:
            msg = "webhook mode needs the web page to receive updates (aimtrack run serves it)"
            raise TransportError(msg)
    application = build_application(
        conversation,
        token=settings.telegram_token.get_secret_value(),
        base_url=str(settings.telegram_base_url),
        status=status,
    )
    conversation.limit(
        Transport.TELEGRAM, Limits(messages=RateLimiter(settings.rate_limit), ai=settings.ai_quota)
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await application.initialize()
    except TelegramError as error:
        token = settings.telegram_token.get_secret_value()
        reason = str(error).replace(token, "<token>")
        msg = f"cannot reach the Telegram Bot API at {settings.telegram_base_url}: {reason}"
        raise TransportError(msg) from None
    async with application:
        await set_commands(application)
        messengers.register(Transport.TELEGRAM, TelegramPusher(application.bot))
        tick = schedule_worker(application, worker, poll_s=settings.job_poll_s)
        conversation.on_jobs = lambda: _tick_now(application, tick)
        worker.on_free = conversation.on_jobs  # a finished job makes room: look again now
        if reminders is not None:
            schedule_reminders(
                application,
                reminders,
                every_s=settings.reminder_scan_s,
                wake=lambda: _tick_now(application, tick),
            )
        if on_ready is not None:
            await on_ready()
        polling = webhook is None or settings.webhook_url is None
        if not polling:
            assert webhook is not None  # noqa: S101 -- not polling
            assert settings.secret_key is not None  # noqa: S101 -- checked above
            secret = webhook_secret(settings.secret_key.get_secret_value())
            webhook.open(secret, _deliverer(application))
            await application.bot.set_webhook(
                str(settings.webhook_url), secret_token=secret, allowed_updates=ALLOWED_UPDATES
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


Tick = Callable[[CallbackContext[Any, Any, Any, Any]], Coroutine[Any, Any, None]]


def schedule_worker(
    application: Application[Any, Any, Any, Any, Any, Any], worker: JobWorker, *, poll_s: float
) -> Tick:
    """Trigger the durable queue from PTB's JobQueue (APScheduler): the jobs themselves live
    in our table, so nothing needs pickling and a restart loses nothing."""
    job_queue = application.job_queue
    assert job_queue is not None  # noqa: S101 -- the job-queue extra is a dependency

    async def tick(_context: CallbackContext[Any, Any, Any, Any]) -> None:
        await worker.safe_tick()

    job_queue.run_repeating(tick, interval=poll_s, first=0.1, name="aimtrack-jobs")
    return tick


def schedule_reminders(
    application: Application[Any, Any, Any, Any, Any, Any],
    scan: ReminderScan,
    *,
    every_s: float,
    wake: Callable[[], None],
) -> None:
    """Run the reminder scan from PTB's JobQueue, first shortly after start, then every
    ``every_s``; ``wake`` the worker when it queued something. The schedule holds no state:
    each run reads what is due from the database, so a restart recreates it as it was."""
    job_queue = application.job_queue
    assert job_queue is not None  # noqa: S101 -- the job-queue extra is a dependency

    async def remind(_context: CallbackContext[Any, Any, Any, Any]) -> None:
        if await scan.safe_run():
            wake()

    first = min(every_s, FIRST_REMINDER_SCAN_S)
    job_queue.run_repeating(remind, interval=every_s, first=first, name="aimtrack-reminders")


def _tick_now(application: Application[Any, Any, Any, Any, Any, Any], tick: Tick) -> None:
    """A job was just queued: run a tick now rather than at the next poll."""
    if application.job_queue is not None:
        application.job_queue.run_once(tick, when=0, name="aimtrack-jobs-now")
