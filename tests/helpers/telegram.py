"""The bot on Telegram as the e2e tests run it: against the fake Bot API, in the test's loop.

Two ways to run it:

* :func:`running_bot` and :func:`running` start ``run_telegram`` itself, as ``aimtrack run``
  calls it (the durable worker, its JobQueue, the rate limiter; :func:`running` adds the web
  page on uvicorn, for webhook mode and ``/health``). They stop it with SIGTERM, as production
  does (:func:`stop_bot`). Drive them with :func:`say` and :func:`tap`, which wait for a reply
  showing the text a test expects.
* :func:`running_application` and :func:`polling` run PTB's ``Application`` directly on a
  conversation with a fixed clock (:data:`NOW`), for what the transport does with one update.
  Drive them with :func:`reply` and :func:`tap_reply`, which wait for the next message.

The ``api`` fixture (``tests/e2e/conftest.py``) validates every call the bot made against the
Bot API spec at the end of each test.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from telegram.ext import Application

from aimtrack.ai.coach import ShooterCoach
from aimtrack.assembly import assemble, assemble_from, telegram_options
from aimtrack.bot.app import build_conversation, command_menu
from aimtrack.bot.conversation import Conversation, Limits
from aimtrack.bot.transports.telegram.application import build_application, set_commands
from aimtrack.bot.transports.telegram.service import TelegramOptions, run_telegram
from aimtrack.config import Settings
from aimtrack.core.access import Access
from aimtrack.core.clock import FixedClock, SystemClock
from aimtrack.core.model import Job, JobStatus, Transport, WeaponSpec
from aimtrack.jobs.worker import WorkerConfig
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import JobQueue, UserDirectory, WeaponRepo
from aimtrack.storage.tables import SessionRow
from aimtrack.web.app import Webhook, build_app
from aimtrack.web.health import TelegramStatus
from aimtrack.web.links import WebKeys
from aimtrack.web.server import WebServer
from tests.helpers import botapi_spec
from tests.helpers.chat import NOW
from tests.helpers.fakebotapi import Call, FakeBotAPI, callback, message

ANNA, BOB, STRANGER = 111, 222, 999
MODEL = "fake-model"
WAIT_S = 30.0  # generous: a loaded CI machine is slow, and nothing here measures speed
REFLECTION_TITLE = "Reflectie op je sessie van"
SAFETY = "veiligheidsregels"
SECRET = "a-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # AIMTRACK_SECRET_KEY
HOOK_URL = "https://bot.example.org/telegram"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def reflection(marker: str) -> dict[str, str]:
    """What the model answers: every field carries ``marker``, so a message shows whose it is."""
    return {
        "summary": f"{marker}: een rustige sessie",
        "went_well": f"{marker}: ademhaling",
        "needs_improvement": f"{marker}: trekkerbeheersing",
        "next_focus": f"{marker}: volgen na het schot",
    }


async def until(
    condition: Callable[[], bool],
    what: str = "the bot",
    *,
    timeout: float = WAIT_S,  # noqa: ASYNC109 -- a deadline, as in asyncio.wait_for
) -> None:
    """Wait for something the fakes recorded (they have no event per call)."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"waited {timeout} s for {what}") from None


# --- run_telegram, as `aimtrack run` calls it ---------------------------------------------


@asynccontextmanager
async def running_bot(
    api: FakeBotAPI,
    db: Database,
    data_dir: Path,
    *,
    coach: ShooterCoach | None,
    job_attempts: int = 5,
) -> AsyncIterator[None]:
    """``run_telegram`` as ``aimtrack run`` calls it (Anna allowed), until the block ends
    (then SIGTERM)."""
    assembled = assemble(
        db,
        clock=SystemClock(),
        data_dir=data_dir,
        coach=coach,
        access=Access(telegram_ids=frozenset({ANNA}), console=False),
        job_attempts=job_attempts,
        worker=WorkerConfig(
            lease=timedelta(seconds=10),
            backoff_base=timedelta(seconds=0.1),
            backoff_max=timedelta(seconds=0.2),
            max_attempts=job_attempts,
        ),
    )
    options = TelegramOptions(api.token, api.base_url.removesuffix("/bot"), job_poll_s=0.3)
    bot = asyncio.create_task(
        run_telegram(
            options,
            assembled.conversation,
            assembled.worker,
            assembled.messengers,
            menu=command_menu,
        )
    )
    try:
        await until(lambda: bool(api.calls_to("getUpdates")) or bot.done(), "the bot to poll")
        if bot.done():
            bot.result()  # raises what stopped it
        yield
    finally:
        await stop_bot(bot)


@dataclass
class Running:
    client: httpx.AsyncClient  # to the web page
    status: TelegramStatus
    webhook: Webhook
    conversation: Conversation


@asynccontextmanager
async def running(
    api: FakeBotAPI, db: Database, data_dir: Path, *, webhook_url: str | None, **more: Any
) -> AsyncIterator[Running]:
    """``run_telegram`` with the web page started in ``on_ready``, as ``cmd_run`` does
    (Anna allowed; ``more``: further settings)."""
    settings = Settings(
        telegram_token=api.token,
        telegram_base_url=api.base_url.removesuffix("/bot"),
        webhook_url=webhook_url,
        secret_key=SECRET,
        job_poll_s=0.3,
        data_dir=data_dir,
        allowed_users=str(ANNA),
        **more,
    )
    assembled = assemble_from(settings, db, clock=SystemClock(), coach=None)
    conversation = assembled.conversation
    status, webhook = TelegramStatus(SystemClock()), Webhook()
    app = build_app(db, clock=SystemClock(), keys=WebKeys(SECRET), telegram=status, webhook=webhook)
    web = WebServer(app, host="127.0.0.1", port=0)
    bot = asyncio.create_task(
        run_telegram(
            telegram_options(settings),
            conversation,
            assembled.worker,
            assembled.messengers,
            menu=command_menu,
            status=status,
            webhook=webhook,
            on_ready=web.start,
        )
    )
    ready = "setWebhook" if webhook_url else "getUpdates"
    try:
        await until(lambda: bool(api.calls_to(ready)) or bot.done(), f"the bot's {ready}")
        if bot.done():
            bot.result()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web.port}") as client:
            yield Running(client, status, webhook, conversation)
    finally:
        try:
            await stop_bot(bot)
        finally:
            await web.stop()


async def stop_bot(bot: asyncio.Task[None]) -> None:
    """Stop a ``run_telegram`` task as production does (SIGTERM), or cancel it when it never
    got to install its handler; the signal handlers are removed either way."""
    loop = asyncio.get_running_loop()
    try:
        if signal.getsignal(signal.SIGTERM) in {signal.SIG_DFL, signal.SIG_IGN}:
            bot.cancel()  # run_telegram never got to install its handler
            with contextlib.suppress(asyncio.CancelledError):
                await bot
        elif not bot.done():
            signal.raise_signal(signal.SIGTERM)  # caught by run_telegram's loop handler
            async with asyncio.timeout(WAIT_S):
                await bot
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def say(api: FakeBotAPI, update: dict[str, Any], *expected: str) -> str:
    """Push an update and wait until the bot's replies show one of ``expected``; returns
    the plain text of everything sent to Anna's chat since."""
    before = len(api.sent_texts(ANNA))

    def since() -> str:
        return "\n".join(api.sent_texts(ANNA, plain=True)[before:])

    api.push_update(update)
    try:
        await until(lambda: any(text in since() for text in expected), f"a reply with {expected}")
    except AssertionError as missing:
        raise AssertionError(f"{missing}; the chat got: {since()!r}") from None
    return since()


async def tap(api: FakeBotAPI, label: str, *expected: str) -> str:
    """Tap the one button of Anna's last keyboard whose label holds ``label``; as :func:`say`."""
    found = [data for row in api.last_keyboard(ANNA) for text, data in row if label in text]
    assert len(found) == 1, api.last_keyboard(ANNA)
    assert found[0] is not None
    return await say(api, callback(ANNA, found[0], message_id=1), *expected)


async def log_a_session(api: FakeBotAPI, entry: str = "CZ 75 25m 50 schoten 431") -> None:
    """A quick entry, saved; a weapon the bot does not know yet is added on the way."""
    unknown, confirm = "staat niet bij je wapens", "Klopt dit?"
    if unknown in await say(api, message(ANNA, entry), unknown, confirm):
        await tap(api, "toevoegen", confirm)
    await tap(api, "Opslaan", "Opgeslagen")


def reflections(api: FakeBotAPI) -> list[Call]:
    """The reflections delivered, in order."""
    return [
        call
        for call in api.calls_to("sendMessage")
        if call.status == 200 and REFLECTION_TITLE in plain(call)
    ]


def plain(call: Call) -> str:
    """A sent message's text as the user sees it."""
    return botapi_spec.html_to_text(str(call.params.get("text", "")))


def keyboard(call: Call) -> list[list[tuple[str, str]]]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return [[(b["text"], b["callback_data"]) for b in row] for row in rows]


# --- PTB's Application on a conversation with a fixed clock --------------------------------


def conversation_for(db: Database, data_dir: Path, *, limits: Limits | None = None) -> Conversation:
    """Anna and Bob may talk, at :data:`NOW`; ``limits``: what each Telegram user may do
    (default: none)."""
    return build_conversation(
        db,
        clock=FixedClock(NOW),
        data_dir=data_dir,
        access=Access(telegram_ids=frozenset({ANNA, BOB}), console=False),
        limits=None if limits is None else {Transport.TELEGRAM: limits},
    )


@asynccontextmanager
async def polling(
    api: FakeBotAPI, conversation: Conversation, *, menu: bool = False
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """The real Application polling the fake Bot API; ``menu``: set the command menu first."""
    application = build_application(
        conversation, token=api.token, base_url=api.base_url.removesuffix("/bot")
    )
    async with application:
        if menu:
            await set_commands(application, command_menu)
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


@asynccontextmanager
async def running_application(
    api: FakeBotAPI, db: Database, data_dir: Path
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """:func:`polling` on :func:`conversation_for`, with the command menu set."""
    async with polling(api, conversation_for(db, data_dir), menu=True) as application:
        yield application


async def reply(api: FakeBotAPI, update: dict[str, Any], chat: int = ANNA) -> str:
    """Push an update and wait for the bot's next message to that chat; return its text."""
    before = len(api.sent_texts(chat))
    api.push_update(update)
    await until(lambda: len(api.sent_texts(chat)) > before, "the next message")
    await asyncio.sleep(0.05)  # let the rest of a multi-message answer arrive
    return "\n".join(api.sent_texts(chat, plain=True)[before:])


def button(api: FakeBotAPI, label: str, chat: int = ANNA) -> str:
    """The callback data of the one button in the chat's last keyboard labelled ``label``."""
    found = [data for row in api.last_keyboard(chat) for text, data in row if label in text]
    assert len(found) == 1, api.last_keyboard(chat)
    assert found[0] is not None
    return found[0]


async def tap_reply(api: FakeBotAPI, label: str, chat: int = ANNA) -> str:
    """Tap a button; as :func:`reply`."""
    return await reply(api, callback(chat, button(api, label, chat), message_id=1), chat)


# --- what the bot stored --------------------------------------------------------------------


async def count(db: Database, table: type, **where: object) -> int:
    async with db.transaction() as s:
        query = sa.select(sa.func.count()).select_from(table).filter_by(**where)
        return int(await s.scalar(query) or 0)


async def add_weapon(db: Database, telegram_id: int, name: str = "CZ 75 Shadow 2") -> int:
    """Allow a Telegram user and give them one weapon; returns their user id."""
    async with db.transaction() as s:
        account = await UserDirectory(s).allow_telegram(telegram_id)
        await WeaponRepo(s, account.user_id).add(WeaponSpec(name=name))
        return account.user_id


async def only_session_id(db: Database) -> int:
    async with db.transaction(read_only=True) as s:
        return int((await s.execute(sa.select(SessionRow.id))).scalar_one())


async def jobs(db: Database) -> list[Job]:
    """Every job, oldest first."""
    async with db.transaction(read_only=True) as s:
        return list(reversed(await JobQueue(s).list_jobs()))


async def settled(
    db: Database,
    count: int,
    *,
    timeout: float = WAIT_S,  # noqa: ASYNC109 -- a deadline, as in asyncio.wait_for
) -> list[Job]:
    """Wait until ``count`` jobs exist and none is pending or running any more."""
    found: list[Job] = []
    unfinished = {JobStatus.PENDING, JobStatus.RUNNING}
    try:
        async with asyncio.timeout(timeout):
            while True:
                found = await jobs(db)
                if len(found) >= count and not any(j.status in unfinished for j in found):
                    return found
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"jobs did not settle within {timeout} s: {found}") from None
