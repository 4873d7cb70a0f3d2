"""The AI on Telegram, end to end: ``run_telegram`` itself (real PTB Application, its JobQueue
ticking the durable worker) against the fake Bot API, the model behind the fake AI server.

Every call the bot makes is validated against the Bot API spec at the end of each test, as in
``test_telegram.py``. ``run_telegram`` stops on SIGTERM, as in production: the test sends it to
its own process once the bot installed its handler, and removes the handlers afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from aimtrack.ai.client import ModelConfig, OpenAICompatible
from aimtrack.ai.coach import ShooterCoach
from aimtrack.assembly import assemble
from aimtrack.bot.app import command_menu
from aimtrack.bot.transports.telegram.service import TelegramOptions, run_telegram
from aimtrack.core.access import Access
from aimtrack.core.clock import SystemClock
from aimtrack.core.model import Job, JobStatus
from aimtrack.jobs.worker import WorkerConfig
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import JobQueue
from aimtrack.storage.tables import SessionRow
from tests import botapi_spec
from tests.fakeai import FakeAI, answer, fail, hang
from tests.fakebotapi import Call, FakeBotAPI, callback, message

ANNA = 111
MODEL = "fake-model"
WAIT_S = 30.0  # generous: a loaded CI machine is slow, and nothing here measures speed
REFLECTION_TITLE = "Reflectie op je sessie van"
SAFETY = "veiligheidsregels"


def reflection(marker: str) -> dict[str, str]:
    """What the model answers: every field carries ``marker``, so a message shows whose it is."""
    return {
        "summary": f"{marker}: een rustige sessie",
        "went_well": f"{marker}: ademhaling",
        "needs_improvement": f"{marker}: trekkerbeheersing",
        "next_focus": f"{marker}: volgen na het schot",
    }


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake
    spec = botapi_spec.load_spec()
    if spec is not None:  # test_telegram.py reports an absent spec as a skip
        assert botapi_spec.validate_calls(spec, fake.calls) == []


@pytest.fixture
async def ai() -> AsyncIterator[FakeAI]:
    async with FakeAI() as fake:
        yield fake


@pytest.fixture
async def coach(ai: FakeAI) -> AsyncIterator[ShooterCoach]:
    shooter_coach = ShooterCoach(
        OpenAICompatible(ModelConfig(base_url=ai.base_url, model=MODEL, timeout_s=WAIT_S))
    )
    yield shooter_coach
    await shooter_coach.close()


async def until(
    condition: Callable[[], bool],
    what: str,
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


@asynccontextmanager
async def running_bot(
    api: FakeBotAPI,
    db: Database,
    data_dir: Path,
    *,
    coach: ShooterCoach | None,
    job_attempts: int = 5,
) -> AsyncIterator[None]:
    """``run_telegram`` as ``aimtrack run`` calls it, until the block ends (then SIGTERM)."""
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
    the plain text of everything sent to the chat since."""
    before = len(api.sent_texts(ANNA))

    def since() -> str:
        return "\n".join(api.sent_texts(ANNA, plain=True)[before:])

    api.push_update(update)
    await until(lambda: any(text in since() for text in expected), f"a reply with {expected}")
    return since()


async def tap(api: FakeBotAPI, label: str, *expected: str) -> str:
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
    return [
        call
        for call in api.calls_to("sendMessage")
        if call.status == 200 and REFLECTION_TITLE in plain(call)
    ]


def plain(call: Call) -> str:
    return botapi_spec.html_to_text(str(call.params.get("text", "")))


def keyboard(call: Call) -> list[list[tuple[str, str]]]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return [[(b["text"], b["callback_data"]) for b in row] for row in rows]


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


async def test_a_saved_session_gets_a_reflection_from_the_model_and_can_regenerate_it(
    api: FakeBotAPI, db: Database, ai: FakeAI, coach: ShooterCoach, tmp_path: Path
) -> None:
    ai.script(hang(1.5, then=answer(reflection("EERSTE"))), answer(reflection("TWEEDE")))
    async with running_bot(api, db, tmp_path, coach=coach):
        await log_a_session(api)
        await until(lambda: len(reflections(api)) == 1, "the reflection")
        sid = await only_session_id(db)
        first = reflections(api)[0]

        await say(api, callback(ANNA, f"!r:{sid}", message_id=99), "Ik maak een nieuwe reflectie")
        await until(lambda: len(reflections(api)) == 2, "the second reflection")
        done = await settled(db, 2)

    # "typing…" shows while the model works (1.5 s here), so before its answer arrives.
    typing = [
        index
        for index, call in enumerate(api.calls)
        if call.method == "sendChatAction"
        and call.params.get("action") == "typing"
        and call.params.get("chat_id") == ANNA
    ]
    assert typing
    assert typing[0] < api.calls.index(first)

    shown = plain(first)
    assert shown.startswith(f"🎯 {REFLECTION_TITLE} ")
    assert "(CZ 75)" in shown.splitlines()[0]
    for field in ("een rustige sessie", "ademhaling", "trekkerbeheersing", "volgen na het schot"):
        assert f"EERSTE: {field}" in shown
    assert f"🤖 {MODEL} via 127.0.0.1:{ai.port}" in shown
    assert SAFETY in shown.splitlines()[-1]
    assert "TWEEDE" not in shown
    assert keyboard(first) == [[("🔄 Opnieuw", f"!r:{sid}"), ("💬 Vraag de coach", f"!c:{sid}")]]
    assert first.params["chat_id"] == ANNA

    second = reflections(api)[1]
    assert "TWEEDE: een rustige sessie" in plain(second)
    assert "EERSTE" not in plain(second)
    assert SAFETY in plain(second)
    assert keyboard(second) == keyboard(first)

    requests = ai.completions
    assert len(requests) == 2
    assert {r.model for r in requests} == {MODEL}
    assert "CZ 75" in requests[0].text
    assert [(j.kind, j.status, j.user_id is not None) for j in done] == [
        ("reflection", JobStatus.SUCCEEDED, True),
        ("reflection", JobStatus.SUCCEEDED, True),
    ]
    assert all(j.payload["session_id"] == sid for j in done)
    sent = [j.sent_message_id for j in done]
    assert None not in sent
    assert len(set(sent)) == 2  # each run recorded its own message


async def test_without_ai_the_reflection_is_computed_from_the_statistics(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path, coach=None):
        await log_a_session(api)
        await until(lambda: len(reflections(api)) == 1, "the reflection")
        done = await settled(db, 1)
    sid = await only_session_id(db)
    shown = plain(reflections(api)[0])
    assert "📊 Berekend zonder AI, uit je eigen cijfers (er is geen AI ingesteld)." in shown
    assert "🤖" not in shown
    assert SAFETY in shown
    assert keyboard(reflections(api)[0]) == [
        [("🔄 Opnieuw", f"!r:{sid}"), ("💬 Vraag de coach", f"!c:{sid}")]
    ]
    assert [(j.status, j.attempts) for j in done] == [(JobStatus.SUCCEEDED, 1)]
    assert done[0].sent_message_id is not None


async def test_when_the_model_keeps_failing_the_statistics_answer_and_say_why(
    api: FakeBotAPI, db: Database, ai: FakeAI, coach: ShooterCoach, tmp_path: Path
) -> None:
    ai.default = fail(503, "model is loading")
    async with running_bot(api, db, tmp_path, coach=coach, job_attempts=2):
        await log_a_session(api)
        await until(lambda: len(reflections(api)) == 1, "the fallback reflection")
        done = await settled(db, 1)
    shown = plain(reflections(api)[0])
    assert (
        "📊 Berekend zonder AI, uit je eigen cijfers: de AI lukte niet"
        " (the AI server failed (503): model is loading)." in shown
    )
    assert SAFETY in shown
    assert len(ai.completions) == 2  # one per attempt
    assert len(reflections(api)) == 1
    (job,) = done
    assert (job.status, job.attempts) == (JobStatus.FAILED, 2)
    assert job.last_error is not None
    assert "503" in job.last_error
    assert job.sent_message_id is not None  # the fallback was delivered
