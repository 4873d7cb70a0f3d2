"""The AI on Telegram, end to end: ``run_telegram`` itself (real PTB Application, its JobQueue
ticking the durable worker) against the fake Bot API, the model behind the fake AI server.

The harness is ``tests/helpers/telegram.py``; every call the bot makes is validated against the
Bot API spec at the end of each test (the ``api`` fixture). ``run_telegram`` stops on SIGTERM,
as in production: the test sends it to its own process once the bot installed its handler, and
removes the handlers afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aimtrack.ai.client import ModelConfig, OpenAICompatible
from aimtrack.ai.coach import ShooterCoach
from aimtrack.core.model import JobStatus
from aimtrack.storage.engine import Database
from tests.helpers.fakeai import FakeAI, answer, fail, hang
from tests.helpers.fakebotapi import FakeBotAPI, callback
from tests.helpers.telegram import (
    ANNA,
    MODEL,
    REFLECTION_TITLE,
    SAFETY,
    WAIT_S,
    keyboard,
    log_a_session,
    only_session_id,
    plain,
    reflection,
    reflections,
    running_bot,
    say,
    settled,
    until,
)


@pytest.fixture
async def coach(ai: FakeAI) -> AsyncIterator[ShooterCoach]:
    shooter_coach = ShooterCoach(
        OpenAICompatible(ModelConfig(base_url=ai.base_url, model=MODEL, timeout_s=WAIT_S))
    )
    yield shooter_coach
    await shooter_coach.close()


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
