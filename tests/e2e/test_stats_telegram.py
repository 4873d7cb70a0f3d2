"""/statistieken and a personal best on Telegram, end to end: ``run_telegram`` (real PTB, its
JobQueue ticking the worker) against the fake Bot API. The charts arrive through sendPhoto,
each with its caption, after an upload_photo chat action; every call is validated against the
Bot API spec (the ``api`` fixture).
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from aimtrack.storage.engine import Database
from tests.helpers.fakebotapi import FakeBotAPI, message
from tests.helpers.telegram import (
    ANNA,
    log_a_session,
    reflections,
    running_bot,
    say,
    tap,
    until,
)


async def test_stats_arrive_as_text_and_photos(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path, coach=None):
        await log_a_session(api, "CZ 75 25m 50 schoten 431")
        await until(lambda: len(reflections(api)) == 1, "the first reflection")
        await log_a_session(api, "CZ 75 25m 50 schoten 440")
        await until(lambda: len(reflections(api)) == 2, "the second reflection")
        await say(api, message(ANNA, "/statistieken"), "Je statistieken")
        await until(lambda: len(api.calls_to("sendPhoto")) == 3, "three charts")
        await tap(api, "3 mnd", "laatste 3 maanden")
        await until(lambda: len(api.calls_to("sendPhoto")) == 4, "the score chart again")

    texts = api.sent_texts(ANNA, plain=True)
    # the second session beat the first: 8,80 against 8,62 per shot
    assert any(
        "🏆 Persoonlijk record met CZ 75 op 25 m: 8,80 per schot (440 uit 50); je beste was 8,62."
        in text
        for text in texts
    )
    year = datetime.now(ZoneInfo("Europe/Amsterdam")).year  # the bot runs on the real clock
    photos = api.calls_to("sendPhoto")
    assert [call.status for call in photos] == [200] * 4
    assert [call.params["caption"] for call in photos] == [
        "🎯 CZ 75 · 25 m · laatste 12 maanden",
        "🔫 Schoten per maand, laatste 12 maanden",
        f"📋 Verlof: schietdagen in de afgelopen 12 maanden, en de wedstrijden van {year}",
        "🎯 CZ 75 · 25 m · laatste 3 maanden",  # a period button redraws the score chart only
    ]
    for call in photos:
        assert str(call.params["chat_id"]) == str(ANNA)
        with Image.open(io.BytesIO(call.files["photo"].content)) as image:
            assert image.format == "PNG"
            assert min(image.size) >= 600
    actions = [call.params["action"] for call in api.calls_to("sendChatAction")]
    assert "upload_photo" in actions
