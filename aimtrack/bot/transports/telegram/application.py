"""The PTB application AimTrack runs on: its Bot API address, its rate limiter (Telegram's
flood limits; a 429's ``retry_after`` waited out, and a call that failed on the way tried
again), the request that records each successful poll, and the command menu."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Final

from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.error import (
    BadRequest,
    NetworkError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)
from telegram.request import HTTPXRequest, RequestData

from aimtrack.bot.io import Core, Heartbeat
from aimtrack.bot.transports.telegram.updates import TelegramTransport
from aimtrack.core.model import Language

log = logging.getLogger(__name__)

RETRY_AFTER_429: Final = 3  # AIORateLimiter waits out retry_after this often, then gives up
NETWORK_RETRY_DELAYS_S: Final = (0.5, 1.0, 2.0)  # after a 5xx, a dropped connection, a timeout
# The start's token check: a Bot API that cannot be reached is said at once, in one line.
NOT_RETRIED: Final = frozenset({"getMe"})

Menu = Callable[[Language], list[tuple[str, str]]]
"""(name, description) of every command in a language, for the chat app's menu."""


def build_application(
    core: Core,
    *,
    token: str,
    base_url: str,
    rate_limit: bool = True,
    status: Heartbeat | None = None,
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
    transport = TelegramTransport(core)
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

    def __init__(self, status: Heartbeat) -> None:
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


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any], menu: Menu) -> None:
    """The command menu: Dutch for everyone by default (and for "nl"), English for
    English-language clients."""
    for language_code, language in ((None, Language.NL), ("nl", Language.NL), ("en", Language.EN)):
        commands = [BotCommand(name, description) for name, description in menu(language)]
        await application.bot.set_my_commands(
            commands, scope=BotCommandScopeAllPrivateChats(), language_code=language_code
        )


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("handling an update failed", exc_info=context.error)
