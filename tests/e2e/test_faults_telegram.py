"""Faults of the Telegram Bot API, end to end: 429s with ``retry_after``, 5xx answers, calls
that hang past the client's timeout, and ``getUpdates`` failing.

The bot is ``run_telegram`` itself (real PTB, its rate limiter and JobQueue, the durable
worker pushing the statistics reflection; for the polling faults its ``poll`` loop with a
1 s long poll) against the fake Bot API, which scripts the faults per method
(``FakeBotAPI.fail_next``) and records when every call arrived and was answered.
What must hold: the bot waits as long as Telegram asks, tries again, and every reply to a turn
and every pushed message arrives exactly once. docs/faults.md sums it up.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from aimtrack.bot.app import build_conversation
from aimtrack.bot.transports.telegram.application import build_application
from aimtrack.bot.transports.telegram.polling import poll
from aimtrack.core.access import Access
from aimtrack.core.clock import SystemClock
from aimtrack.storage.engine import Database
from aimtrack.storage.tables import SessionRow
from tests.helpers.fakebotapi import Call, FakeBotAPI, message
from tests.helpers.telegram import (
    ANNA,
    REFLECTION_TITLE,
    add_weapon,
    count,
    plain,
    reflections,
    running_bot,
    say,
    settled,
    tap,
    tap_reply,
    until,
)

SAVED = "Opgeslagen"
CONFIRM = "Klopt dit?"
TOO_MANY = "Too Many Requests: retry after 1"
# PTB's default read timeout is 5 s; a call held longer has been given up by the client.
PAST_THE_CLIENT_TIMEOUT_S = 6.0


pytestmark = pytest.mark.usefixtures("ptb_timedelta")  # RetryAfter warns without it


def showing(text: str) -> Callable[[Call], bool]:
    """Picks the calls whose text (or caption), as the user sees it, contains ``text``."""

    def picks(call: Call) -> bool:
        shown = plain(call) + str(call.params.get("caption") or "")
        return text in shown

    return picks


def attempts(api: FakeBotAPI, method: str, text: str) -> list[Call]:
    """Every call to ``method`` that carried ``text``, the failed ones too."""
    return [call for call in api.calls_to(method) if showing(text)(call)]


def delivered(api: FakeBotAPI, text: str) -> list[Call]:
    return [call for call in attempts(api, "sendMessage", text) if call.status == 200]


def waited(calls: list[Call]) -> list[float]:
    """Seconds between each failed call's answer and the next attempt."""
    gaps = []
    for failed, retried in itertools.pairwise(calls):
        assert failed.answered_at is not None
        gaps.append(retried.at - failed.answered_at)
    return gaps


async def prepare_a_session(api: FakeBotAPI) -> None:
    """A quick entry up to its confirm step (the weapon added on the way)."""
    unknown = "staat niet bij je wapens"
    if unknown in await say(api, message(ANNA, "CZ 75 25m 50 schoten 431"), unknown, CONFIRM):
        await tap(api, "toevoegen", CONFIRM)


async def test_a_429_is_waited_out_and_the_reply_and_the_pushed_reflection_arrive_once(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path, coach=None):
        await prepare_a_session(api)
        for text, times in ((SAVED, 2), (REFLECTION_TITLE, 1)):
            api.fail_next(
                "sendMessage",
                status=429,
                description=TOO_MANY,
                retry_after=1,
                times=times,
                when=showing(text),
            )
        await tap(api, "Opslaan", SAVED)
        await until(lambda: len(reflections(api)) == 1, "the reflection")
        await settled(db, 1)

    saved = attempts(api, "sendMessage", SAVED)
    assert [call.status for call in saved] == [429, 429, 200]
    assert all(gap >= 1.0 for gap in waited(saved)), waited(saved)
    pushed = attempts(api, "sendMessage", REFLECTION_TITLE)
    assert [call.status for call in pushed] == [429, 200]
    assert waited(pushed)[0] >= 1.0
    assert len(delivered(api, SAVED)) == 1
    assert len(reflections(api)) == 1
    assert await count(db, SessionRow) == 1


async def test_a_429_on_a_document_or_a_photo_is_waited_out_and_it_arrives_once(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path, coach=None):
        await prepare_a_session(api)
        await tap(api, "Opslaan", SAVED)
        await until(lambda: len(reflections(api)) == 1, "the reflection")
        for method in ("sendDocument", "sendPhoto"):
            api.fail_next(method, status=429, description=TOO_MANY, retry_after=1)
        await say(api, message(ANNA, "/export"), "Welke periode")
        await tap(api, "Laatste 12 maanden", "Welke wapens")
        await tap(api, "Verder", "CSV (voor Excel) of PDF")
        await tap(api, "CSV", "wordt gemaakt")
        await until(lambda: bool(api.calls_to("sendDocument")), "the document")
        await say(api, message(ANNA, "/statistieken"), "Je statistieken")
        await until(
            lambda: sum(c.status == 200 for c in api.calls_to("sendPhoto")) == 3, "the charts"
        )
        await settled(db, 3)

    for method in ("sendDocument", "sendPhoto"):
        calls = api.calls_to(method)
        assert calls[0].status == 429
        assert calls[1].at - (calls[0].answered_at or 0) >= 1.0
    documents = [c for c in api.calls_to("sendDocument") if c.status == 200]
    assert len(documents) == 1
    assert documents[0].files["document"].filename.endswith(".csv")
    captions = [c.params.get("caption") for c in api.calls_to("sendPhoto") if c.status == 200]
    assert len(captions) == 3
    assert len(set(captions)) == 3  # each chart once


async def test_5xx_answers_are_retried_and_the_reply_and_the_pushed_reflection_arrive_once(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path, coach=None):
        await prepare_a_session(api)
        api.fail_next(
            "sendMessage",
            status=500,
            description="Internal Server Error",
            times=2,
            when=showing(SAVED),
        )
        api.fail_next(
            "sendMessage", status=502, description="Bad Gateway", when=showing(REFLECTION_TITLE)
        )
        await tap(api, "Opslaan", SAVED)
        await until(lambda: len(reflections(api)) == 1, "the reflection")
        await settled(db, 1)

    assert [call.status for call in attempts(api, "sendMessage", SAVED)] == [500, 500, 200]
    assert [call.status for call in attempts(api, "sendMessage", REFLECTION_TITLE)] == [502, 200]
    assert len(delivered(api, SAVED)) == 1
    assert len(reflections(api)) == 1


async def test_a_send_that_hangs_past_the_client_timeout_is_retried_and_arrives_once(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path, coach=None):
        await prepare_a_session(api)
        api.fail_next(
            "sendMessage",
            status=504,
            description="Gateway Timeout",
            delay=PAST_THE_CLIENT_TIMEOUT_S,
            when=showing(SAVED),
        )
        await tap(api, "Opslaan", SAVED)
        await until(lambda: len(reflections(api)) == 1, "the reflection")

    saved = attempts(api, "sendMessage", SAVED)
    assert [call.status for call in saved] == [504, 200]
    assert saved[1].at < saved[0].at + PAST_THE_CLIENT_TIMEOUT_S  # gave up on the hung call
    assert len(delivered(api, SAVED)) == 1
    assert len(reflections(api)) == 1


@asynccontextmanager
async def polling_bot(api: FakeBotAPI, db: Database, data_dir: Path) -> AsyncIterator[None]:
    """The bot as ``run_telegram`` polls (:func:`poll`, which confirms an update only once it
    was handled), with a 1 s long poll so that a poll hanging past the client's timeout
    (the long poll plus PTB's 5 s read timeout) is quick to show."""
    conversation = build_conversation(
        db,
        clock=SystemClock(),
        data_dir=data_dir,
        access=Access(telegram_ids=frozenset({ANNA}), console=False),
    )
    application = build_application(
        conversation, token=api.token, base_url=api.base_url.removesuffix("/bot")
    )
    stop = asyncio.Event()
    async with application:
        await application.start()
        polling = asyncio.create_task(poll(application, stop, timeout_s=1))
        try:
            yield
        finally:
            stop.set()
            async with asyncio.timeout(30):
                await polling
            await application.stop()


async def test_polling_recovers_from_getupdates_failing_and_handles_each_update_once(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    """500s, then a poll that hangs past the client's timeout: the bot polls again (after a
    short pause for the 500s, at once after the timeout) and nothing is lost."""
    api.fail_next("getUpdates", status=500, description="Internal Server Error", times=2)
    api.fail_next(
        "getUpdates",
        status=504,
        description="Gateway Timeout",
        delay=PAST_THE_CLIENT_TIMEOUT_S + 1,  # the long poll's second comes on top
    )
    first = api.push_update(message(ANNA, "/help"))
    api.push_update(message(ANNA, "/start"))
    async with polling_bot(api, db, tmp_path):
        await until(lambda: len(api.sent_texts(ANNA)) >= 2, "both replies")
        await api.wait_until_confirmed(first + 1)
        await asyncio.sleep(0.3)  # a second answer to either would have come by now

    polls = [call.status for call in api.calls_to("getUpdates")]
    assert polls[:3] == [500, 500, 504]
    assert set(polls[3:]) == {200}
    gaps = waited(api.calls_to("getUpdates")[:3])
    assert gaps[0] >= 1.0  # PTB's pauses: 1 s, then 1.5 s
    assert gaps[1] >= 1.5
    texts = api.sent_texts(ANNA, plain=True)
    assert len(texts) == 2
    assert "Wat ik kan" in texts[0]
    assert "Welkom bij AimTrack" in texts[1]


async def test_updates_are_confirmed_only_once_handled_and_handled_once_after_a_restart(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    """The bot handled the updates, but every getUpdates that would confirm them failed (and
    so did the one it makes when it stops): Telegram delivers them again to the next
    process, which recognises their update ids and answers nothing twice."""
    await add_weapon(db, ANNA)
    first = api.push_update(message(ANNA, "/help"))
    last = api.push_update(message(ANNA, "CZ 75 25m 50 schoten 431"))

    def confirms(call: Call) -> bool:
        return int(call.params.get("offset") or 0) > first

    api.fail_next(
        "getUpdates", status=500, description="Internal Server Error", times=1000, when=confirms
    )
    async with polling_bot(api, db, tmp_path):
        await until(lambda: CONFIRM in " ".join(api.sent_texts(ANNA, plain=True)), "the confirm")
    assert [u["update_id"] for u in api.pending_updates()] == [first, last]
    answered = max(c.at for c in api.calls_to("sendMessage"))  # the reply to the last update
    confirming = [c for c in api.calls_to("getUpdates") if confirms(c)]
    assert confirming
    assert min(c.at for c in confirming) > answered  # not before the batch was handled
    api.clear_faults()

    async with polling_bot(api, db, tmp_path):
        await api.wait_until_confirmed(last)
        text = await tap_reply(api, "Opslaan")

    assert SAVED in text
    texts = api.sent_texts(ANNA, plain=True)
    assert len(texts) == 3, texts  # /help, the confirm step, saved: none of them twice
    assert await count(db, SessionRow) == 1
