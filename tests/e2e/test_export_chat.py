"""/export in the chat: the conversation core queues the export, the real worker builds the
file and pushes it as a document to the chat that asked.

The pusher here records each document's bytes when it is pushed: the job removes its own copy
right after.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from aimtrack.bot.io import Press
from aimtrack.bot.push import Activity
from aimtrack.core.model import (
    EntrySpec,
    Job,
    JobStatus,
    Language,
    ProfileSpec,
    SessionSpec,
    WeaponSpec,
)
from aimtrack.jobs.worker import JobWorker
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import JobQueue, ProfileRepo, SessionRepo, UserDirectory, WeaponRepo
from tests.helpers.chat import Chat
from tests.helpers.jobs import drain, job_worker
from tests.helpers.outbox import Outbox, Sent, recording


@dataclass
class Shooter:
    db: Database
    chat: Chat
    worker: JobWorker
    outbox: Outbox
    user_id: int
    cz: int
    walther: int

    async def delivered(self) -> Sent:
        """Run the queue; exactly one message must have been pushed."""
        await drain(self.worker)
        [sent] = self.outbox.sent
        return sent


async def shooter(db: Database, data_dir: Path, user: str = "anna") -> Shooter:
    """A chat user with a CZ (used on 3 days of 2026) and a Walther (once, in 2025), whose
    serial numbers carry the user's name."""
    chat = Chat.open(db, data_dir, user=user)
    messengers, outbox = recording()
    worker = job_worker(db, clock=chat.conversation.clock, data_dir=data_dir, messengers=messengers)
    await chat.say("/start")
    async with db.transaction() as s:
        account = await UserDirectory(s).find("console", user)
        assert account is not None
        uid = account.user_id
        cz = await WeaponRepo(s, uid).add(WeaponSpec(name="CZ 75", serial_number=f"CZ-{user}"))
        walther = await WeaponRepo(s, uid).add(
            WeaponSpec(name="Walther", serial_number=f"W-{user}")
        )
        sessions = SessionRepo(s, uid)
        for day in (date(2026, 2, 1), date(2026, 3, 1), date(2026, 11, 20)):
            await sessions.create(
                SessionSpec(occurred_on=day, club="SV De Roos"),
                [EntrySpec(weapon_id=cz.id, distance_m=25, shots=50)],
            )
        await sessions.create(
            SessionSpec(occurred_on=date(2025, 6, 1)),
            [EntrySpec(weapon_id=walther.id, distance_m=50, shots=20)],
        )
    return Shooter(db, chat, worker, outbox, uid, cz.id, walther.id)


def table(content: bytes) -> list[list[str]]:
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    return lines[: lines.index([])]


async def test_this_years_register_as_pdf(db: Database, tmp_path: Path) -> None:
    anna = await shooter(db, tmp_path)
    chat = anna.chat
    await chat.say("/export")
    assert "Welke periode" in chat.text
    assert {"Laatste 12 maanden", "Dit jaar (2026)", "Vorig jaar (2025)"} <= set(chat.labels())
    await chat.press("Dit jaar")
    assert "Periode: 01-01-2026 – 31-12-2026" in chat.text
    await chat.press("Verder")
    assert "alle wapens" in chat.text
    await chat.press("PDF")
    assert "wordt gemaakt" in chat.text
    assert anna.outbox.sent == []  # the turn only queued it

    sent = await anna.delivered()
    assert sent.chat_id == "anna"
    assert "01-01-2026 – 31-12-2026 (schietdagen: 3, regels: 3)" in sent.text
    [(name, content)] = sent.files
    assert name == "aimtrack-register-2026-01-01_2026-12-31.pdf"
    assert content.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "CZ-anna" in text
    assert Activity.UPLOADING_DOCUMENT in anna.outbox.activities
    [job] = await _jobs(db)
    assert (job.status, job.sent_message_id) == (JobStatus.SUCCEEDED, "m1")
    assert not any((tmp_path / "tmp").iterdir())  # the job's own copy is gone


async def test_a_custom_period_and_one_weapon_as_csv(db: Database, tmp_path: Path) -> None:
    anna = await shooter(db, tmp_path)
    chat = anna.chat
    await chat.say("/export")
    await chat.press("Zelf kiezen")
    await chat.say("gisteren")
    assert "geen datum die ik herken" in chat.text
    await chat.say("01-06-2025")
    assert "vanaf 01-06-2025" in chat.text
    await chat.say("2025-05-31")
    assert "vóór de begindatum" in chat.text
    await chat.say("2025-12-31")
    await chat.press("Walther")
    assert "✓ Walther" in chat.labels()
    assert "Alle wapens" in chat.labels()  # no longer ticked
    await chat.press("Verder")
    assert "01-06-2025 – 31-12-2025; Walther" in chat.text
    await chat.press("CSV")

    sent = await anna.delivered()
    [(name, content)] = sent.files
    assert name == "aimtrack-register-2025-06-01_2025-12-31.csv"
    header, *rows = table(content)
    assert [row[header.index("Wapen")] for row in rows] == ["Walther"]
    assert rows[0][header.index("Serienummer")] == "W-anna"


async def test_two_dates_typed_at_once(db: Database, tmp_path: Path) -> None:
    anna = await shooter(db, tmp_path)
    await anna.chat.say("/export 01-02-2026 t/m 01-03-2026")
    assert "Periode: 01-02-2026 – 01-03-2026" in anna.chat.text
    await anna.chat.press("Verder")
    await anna.chat.press("CSV")
    _, *rows = table((await anna.delivered()).files[0][1])
    assert len(rows) == 2


async def test_an_english_user_gets_english(db: Database, tmp_path: Path) -> None:
    anna = await shooter(db, tmp_path)
    async with db.transaction() as s:
        await ProfileRepo(s, anna.user_id).update(
            ProfileSpec(display_name="Anna", language=Language.EN)
        )
    chat = anna.chat
    await chat.say("/export")
    await chat.press("Last 12 months")
    assert "Period: 24-11-2025 – 23-11-2026" in chat.text
    await chat.press("Next")
    await chat.press("CSV")
    sent = await anna.delivered()
    assert "Your register" in sent.text
    header, *rows = table(sent.files[0][1])
    assert header[0] == "Date"
    assert len(rows) == 3


async def test_another_users_weapon_cannot_be_chosen(db: Database, tmp_path: Path) -> None:
    anna = await shooter(db, tmp_path)
    bert = await shooter(db, tmp_path, user="bert")
    chat = bert.chat
    await chat.say("/export")
    await chat.press("Dit jaar")
    seq = chat.button("Verder").split(":")[0]
    await chat.do(Press(f"{seq}:w:{anna.cz}"))  # forged: Anna's CZ
    assert "✓ Alle wapens" in chat.labels()
    await chat.press("Verder")
    await chat.press("CSV")
    _, *rows = table((await bert.delivered()).files[0][1])
    assert {row[8] for row in rows} == {"CZ-bert"}  # Bert's own CZ, with his own sessions
    assert len(rows) == 3
    assert anna.outbox.sent == []


async def test_a_weapon_deleted_before_the_export_runs(db: Database, tmp_path: Path) -> None:
    anna = await shooter(db, tmp_path)
    async with db.transaction() as s:
        spare = await WeaponRepo(s, anna.user_id).add(WeaponSpec(name="Reserve"))
    chat = anna.chat
    await chat.say("/export")
    await chat.press("Dit jaar")
    await chat.press("Reserve")
    await chat.press("Verder")
    await chat.press("PDF")
    async with db.transaction() as s:
        await WeaponRepo(s, anna.user_id).delete(spare.id)

    sent = await anna.delivered()
    assert "een gekozen wapen bestaat niet meer" in sent.text
    assert sent.files == []
    [job] = await _jobs(db)
    assert job.status is JobStatus.SUCCEEDED


@pytest.mark.parametrize("press", ["p:forever", "f:xls", "w:abc", "nonsense"])
async def test_forged_buttons_show_the_step_again(db: Database, tmp_path: Path, press: str) -> None:
    anna = await shooter(db, tmp_path)
    await anna.chat.say("/export")
    before = anna.chat.text
    seq = anna.chat.button("Dit jaar").split(":")[0]
    await anna.chat.do(Press(f"{seq}:{press}"))
    assert anna.chat.text == before
    assert await _jobs(db) == []


async def _jobs(db: Database) -> list[Job]:
    async with db.transaction() as s:
        return await JobQueue(s).list_jobs()
