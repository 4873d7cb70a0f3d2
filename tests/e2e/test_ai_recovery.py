"""``kill -9`` of ``aimtrack run`` in the middle of an AI job, and what the next process does.

Real ``python -m aimtrack run`` child processes talk to the fake Bot API and the fake AI server,
which run in the test's own event loop; the database is a file (SQLite) or a PostgreSQL
database of the test's own. The worker's lease is short (2 s), so a job whose worker died is
taken over quickly; the test waits with generous deadlines and never asserts on speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from aimtrack.core.model import JobStatus
from tests.helpers import botapi_spec
from tests.helpers.databases import BlankDatabase
from tests.helpers.fakeai import FakeAI, answer, hang
from tests.helpers.fakebotapi import FakeBotAPI, UploadedFile
from tests.helpers.processes import WAIT_S, Bots, run_env, running_bots
from tests.helpers.telegram import (
    ANNA,
    MODEL,
    REFLECTION_TITLE,
    SAFETY,
    jobs,
    log_a_session,
    plain,
    reflection,
    reflections,
    settled,
    until,
)

LEASE_S = 2


@pytest.fixture
async def bots(
    api: FakeBotAPI, ai: FakeAI, blank_database: BlankDatabase, tmp_path: Path
) -> AsyncIterator[Bots]:
    env = run_env(
        api,
        blank_database.url,
        tmp_path / "data",
        {
            "AIMTRACK_ALLOWED_USERS": str(ANNA),
            "AIMTRACK_AI_BASE_URL": ai.base_url,
            "AIMTRACK_AI_MODEL": MODEL,
            "AIMTRACK_AI_TIMEOUT_S": "300",  # longer than any hang: only the kill ends one
            "AIMTRACK_JOB_LEASE_S": str(LEASE_S),
            "AIMTRACK_JOB_POLL_S": "0.3",
            "AIMTRACK_JOB_BACKOFF_BASE_S": "0.2",
            "AIMTRACK_JOB_BACKOFF_MAX_S": "1",
        },
    )
    async with running_bots(api, env, ai=ai, database_url=blank_database.url) as harness:
        yield harness


@pytest.mark.storage  # a lease left by a killed process, taken over on either backend
async def test_a_worker_killed_while_the_model_works_is_recovered_by_the_next_process(
    bots: Bots,
) -> None:
    bots.ai.script(hang(120))  # the first reflection request never gets its answer
    first = await bots.start("A")
    await log_a_session(bots.api)
    await bots.ai.wait_for_requests(1, timeout=WAIT_S)
    (job,) = await jobs(bots.db)
    assert job.status is JobStatus.RUNNING
    assert job.lease_owner is not None
    assert f":{first.pid}:" in job.lease_owner  # A holds it

    await bots.kill(first)

    assert reflections(bots.api) == [], bots.output()
    bots.ai.script(answer(reflection("HERSTELD")))
    second = await bots.start("B")
    (job,) = await settled(bots.db, 1, timeout=WAIT_S)
    await until(lambda: len(reflections(bots.api)) >= 1, "the reflection", timeout=WAIT_S)
    await bots.stop(second)  # later ticks had their chance to send it again

    sent = reflections(bots.api)
    assert len(sent) == 1, bots.output()
    shown = plain(sent[0])
    assert "HERSTELD: een rustige sessie" in shown
    assert f"🤖 {MODEL} via" in shown
    assert SAFETY in shown
    assert sent[0].params["chat_id"] == ANNA
    assert job.status is JobStatus.SUCCEEDED, job
    assert job.sent_message_id is not None
    assert job.attempts == 2  # A's attempt counts too
    assert (job.lease_owner, job.lease_until) == (None, None)
    assert len(bots.ai.completions) == 2  # A's (cut off by the kill) and B's


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_reflection_sent_and_recorded_before_a_kill_is_not_sent_again(
    bots: Bots,
) -> None:
    bots.ai.script(answer(reflection("EENMAAL")), answer(reflection("VOLGENDE")))
    first = await bots.start("A")
    await log_a_session(bots.api)
    (job,) = await settled(bots.db, 1, timeout=WAIT_S)
    assert job.status is JobStatus.SUCCEEDED
    assert job.sent_message_id is not None
    await bots.kill(first)

    second = await bots.start("B")
    # B's worker demonstrably runs: it reflects on a new session. The first is not resent.
    await log_a_session(bots.api, "CZ 75 25m 40 schoten 350")
    await settled(bots.db, 2, timeout=WAIT_S)
    await until(lambda: len(reflections(bots.api)) >= 2, "the second reflection", timeout=WAIT_S)
    await bots.stop(second)

    texts = [plain(call) for call in reflections(bots.api)]
    assert [("EENMAAL" in t, "VOLGENDE" in t) for t in texts] == [(True, False), (False, True)]
    assert len(bots.ai.completions) == 2
    after = await jobs(bots.db)
    assert after[0] == job  # untouched by B


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_kill_between_sending_and_recording_sends_the_reflection_at_most_twice(
    bots: Bots,
) -> None:
    """The one crash window the queue cannot close: Telegram took the message, but the
    worker died before it wrote the message id down. The next run sends it once more,
    from the saved result (the model is not asked again)."""
    holding = asyncio.Event()
    release = asyncio.Event()
    deliver = bots.api._send_message  # the fake's own sendMessage, used once held

    async def held_reflection(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        shown = botapi_spec.html_to_text(str(params.get("text", "")))
        if REFLECTION_TITLE in shown and not holding.is_set():
            holding.set()  # delivered to the chat; the answer to the bot waits
            await release.wait()
        return deliver(params, files)

    bots.api.register("sendMessage", held_reflection)
    bots.ai.script(answer(reflection("DUBBEL")))
    first = await bots.start("A")
    await log_a_session(bots.api)
    async with asyncio.timeout(WAIT_S):
        await holding.wait()

    await bots.kill(first)
    release.set()
    (job,) = await jobs(bots.db)
    assert job.status is JobStatus.RUNNING
    assert job.sent_message_id is None  # A never got to record it

    second = await bots.start("B")
    (job,) = await settled(bots.db, 1, timeout=WAIT_S)
    await until(lambda: len(reflections(bots.api)) >= 2, "the resent reflection", timeout=WAIT_S)
    await bots.stop(second)

    texts = [plain(call) for call in reflections(bots.api)]
    assert len(texts) == 2, bots.output()
    assert texts[0] == texts[1]
    assert "DUBBEL: een rustige sessie" in texts[0]
    assert len(bots.ai.completions) == 1  # B sent the result A had saved
    assert job.status is JobStatus.SUCCEEDED
    assert job.sent_message_id is not None
    assert job.attempts == 2
