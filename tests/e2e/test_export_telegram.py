"""/export on Telegram, end to end: ``run_telegram`` (real PTB, its JobQueue ticking the worker)
against the fake Bot API. The document arrives through sendDocument after an upload_document
chat action; every call is validated against the Bot API spec (the ``api`` fixture).
"""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

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


async def test_a_register_arrives_as_a_document(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    async with running_bot(api, db, tmp_path, coach=None):
        await log_a_session(api)
        # The session's reflection comes first, so its buttons are not the latest ones.
        await until(lambda: len(reflections(api)) == 1, "the reflection")
        await say(api, message(ANNA, "/export"), "Welke periode")
        await tap(api, "Laatste 12 maanden", "Welke wapens")
        await tap(api, "Verder", "CSV (voor Excel) of PDF")
        await tap(api, "PDF", "wordt gemaakt")
        await until(lambda: bool(api.calls_to("sendDocument")), "the document")

    [sent] = api.calls_to("sendDocument")
    assert sent.status == 200
    assert str(sent.params["chat_id"]) == str(ANNA)
    upload = sent.files["document"]
    assert upload.filename.startswith("aimtrack-register-")
    assert upload.filename.endswith(".pdf")
    text = PdfReader(io.BytesIO(upload.content)).pages[0].extract_text()
    assert "CZ 75" in text
    actions = [call.params["action"] for call in api.calls_to("sendChatAction")]
    assert "upload_document" in actions
    assert any("(schietdagen: 1, regels: 1)" in text for text in api.sent_texts(ANNA, plain=True))
