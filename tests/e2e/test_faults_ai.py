"""The AI server down for the whole run, end to end: ``aimtrack run`` (a child process, the
attempts and backoff made short through its settings) against the fake Bot API, with nothing
listening where the AI server should be; then the server comes back on that port and the
owner retries the failed jobs, once with ``aimtrack jobs retry`` (``aimtrack.cli.main`` in the
test's process, on the database of the running child) and once from ``/jobs`` in the chat.

What test_ai_jobs.py and test_ai_telegram.py already cover (in one process, a server that
answers 5xx) is not repeated here: this is the outage as the owner meets it, with the real
entry points (docs/faults.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aimtrack.cli import EXIT_OK
from aimtrack.core.model import JobStatus
from aimtrack.storage.repos import UserDirectory
from tests.helpers.cli import aimtrack_async
from tests.helpers.databases import BlankDatabase
from tests.helpers.fakeai import FakeAI, answer
from tests.helpers.fakebotapi import FakeBotAPI, message
from tests.helpers.processes import WAIT_S, Bots, free_port, run_env, running_bots
from tests.helpers.telegram import (
    ANNA,
    MODEL,
    SAFETY,
    jobs,
    log_a_session,
    plain,
    reflection,
    reflections,
    say,
    settled,
    tap,
    until,
)

ATTEMPTS = 3
DOWN = (
    "📊 Berekend zonder AI, uit je eigen cijfers: de AI lukte niet"
    " (the AI server cannot be reached)."
)


@pytest.fixture
async def bots(
    api: FakeBotAPI, blank_database: BlankDatabase, tmp_path: Path
) -> AsyncIterator[Bots]:
    port = free_port()  # nothing listens there: the AI server is down
    env = run_env(
        api,
        blank_database.url,
        tmp_path / "data",
        {
            "AIMTRACK_ALLOWED_USERS": str(ANNA),
            "AIMTRACK_AI_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "AIMTRACK_AI_MODEL": MODEL,
            "AIMTRACK_AI_MAX_ATTEMPTS": str(ATTEMPTS),
            "AIMTRACK_AI_TIMEOUT_S": "10",
            "AIMTRACK_JOB_POLL_S": "0.3",
            "AIMTRACK_JOB_BACKOFF_BASE_S": "0.2",
            "AIMTRACK_JOB_BACKOFF_MAX_S": "0.5",
        },
    )
    down = FakeAI(port=port)  # the AI server starts later, or not
    async with running_bots(api, env, ai=down, database_url=blank_database.url) as harness:
        yield harness


async def test_an_outage_ends_in_labelled_fallbacks_and_a_retry_after_it_sends_reflections(
    bots: Bots,
) -> None:
    bot = await bots.start("A")
    async with bots.db.transaction() as s:
        await UserDirectory(s).allow_telegram(ANNA, admin=True)  # for /jobs
    await log_a_session(bots.api)
    await log_a_session(bots.api, "CZ 75 25m 40 schoten 350")

    failed = await settled(bots.db, 2, timeout=WAIT_S)
    assert [(j.status, j.attempts) for j in failed] == [(JobStatus.FAILED, ATTEMPTS)] * 2
    assert all(j.last_error == "the AI server cannot be reached" for j in failed), failed
    await until(lambda: len(reflections(bots.api)) == 2, "the fallbacks")
    for call in reflections(bots.api):
        shown = plain(call)
        assert DOWN in shown
        assert "🤖" not in shown
        assert SAFETY in shown
    first, second = failed

    async with bots.ai:  # the AI server is back, where it was
        bots.ai.script(answer(reflection("EERSTE")), answer(reflection("TWEEDE")))
        retried = await aimtrack_async("jobs", "retry", str(first.id), db=bots.db)
        assert retried.returncode == EXIT_OK, retried
        await until(lambda: len(reflections(bots.api)) == 3, "the first model's reflection")
        await settled(bots.db, 2, timeout=WAIT_S)  # sent, then recorded as done: no longer running

        overview = await say(bots.api, message(ANNA, "/jobs"), "Wachtrij")
        assert "0 wachtend, 0 bezig, 1 mislukt" in overview
        assert "the AI server cannot be reached" in overview
        await tap(bots.api, f"Opnieuw #{second.id}", "staat weer in de wachtrij")
        await until(lambda: len(reflections(bots.api)) == 4, "the second model's reflection")
        done = await settled(bots.db, 2, timeout=WAIT_S)
        await bots.stop(bot)

    texts = [plain(call) for call in reflections(bots.api)]
    assert "EERSTE: een rustige sessie" in texts[2]
    assert "TWEEDE: een rustige sessie" in texts[3]
    for text in texts[2:]:
        assert f"🤖 {MODEL} via 127.0.0.1:{bots.ai.port}" in text
        assert "Berekend zonder AI" not in text
    assert [j.status for j in done] == [JobStatus.SUCCEEDED] * 2
    assert len(bots.ai.completions) == 2  # one per retry: nothing reached it while it was down
    assert await jobs(bots.db) == done
