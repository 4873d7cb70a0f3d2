"""/statistieken in the chat: the turn answers with the text at once and queues the charts;
the real worker draws them (matplotlib) and pushes them as photos to the chat that asked.

The clock is tests.helpers.chat.NOW: Monday 23 November 2026, 19:30 in Amsterdam.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from PIL import Image

from aimtrack.bot.io import Press
from aimtrack.bot.push import Activity
from aimtrack.core.model import (
    CompetitionType,
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
from tests.helpers.artefacts import ARTEFACTS
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


async def shooter(db: Database, data_dir: Path, user: str = "anna") -> Shooter:
    """A CZ 75 used weekly at 25 m (scored, rising) over the last 20 weeks, once at 50 m, and
    a Walther shot twice at 10 m; two club matches this year."""
    chat = Chat.open(db, data_dir, user=user)
    messengers, outbox = recording()
    worker = job_worker(db, clock=chat.conversation.clock, data_dir=data_dir, messengers=messengers)
    await chat.say("/start")
    async with db.transaction() as s:
        account = await UserDirectory(s).find("console", user)
        assert account is not None
        uid = account.user_id
        cz = await WeaponRepo(s, uid).add(WeaponSpec(name="CZ 75", serial_number="CZ-SECRET"))
        walther = await WeaponRepo(s, uid).add(WeaponSpec(name="Walther"))
        sessions = SessionRepo(s, uid)
        monday = date(2026, 11, 23)
        for week in range(20):
            day = monday - timedelta(weeks=week, days=2)  # Saturdays
            match = CompetitionType.CLUB if week in {3, 8} else CompetitionType.NONE
            await sessions.create(
                SessionSpec(occurred_on=day, club="SV De Roos"),
                [
                    EntrySpec(
                        weapon_id=cz.id,
                        distance_m=25,
                        shots=50,
                        score=Decimal(450 - week * 3),
                        competition=match,
                    )
                ],
            )
        await sessions.create(
            SessionSpec(occurred_on=date(2026, 5, 2)),
            [
                EntrySpec(weapon_id=cz.id, distance_m=50, shots=20, score=Decimal(160)),
                EntrySpec(weapon_id=walther.id, distance_m=10, shots=40),
            ],
        )
        await sessions.create(
            SessionSpec(occurred_on=date(2026, 9, 9)),
            [EntrySpec(weapon_id=walther.id, distance_m=10, shots=40, score=Decimal(360))],
        )
    return Shooter(db, chat, worker, outbox, uid, cz.id, walther.id)


def photos(pushed: Sent) -> list[tuple[str | None, bytes]]:
    """(caption, PNG bytes) of each chart pushed."""
    return [
        (caption, content)
        for caption, (_, content) in zip(pushed.captions, pushed.files, strict=True)
    ]


def png_size(content: bytes) -> tuple[int, int]:
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(content)) as image:
        return image.size


async def test_stats_text_then_three_charts(db: Database, tmp_path: Path) -> None:
    anna = await shooter(db, tmp_path)
    chat = anna.chat
    await chat.say("/statistieken")
    text = chat.text
    assert "📊 Je statistieken · laatste 12 maanden (24-11-2025 – 23-11-2026)" in text
    assert "22 sessies op 22 dagen · 1100 schoten" in text  # 20 of 50, and 20 + 40 + 40
    assert "🔥 20 weken op rij geschoten" in text
    assert "⚠️ Verlof: 22 van de 18" not in text
    assert "✅ Verlof: 22 van de 18 schietdagen in de afgelopen 12 maanden." in text
    assert "⏳ Wedstrijden 2026: KNSA 0 van 3 · club 2 van 5" in text
    assert "• CZ 75: 21 sessies, 1020 schoten" in text
    # the last ten results at 25 m: 450, 447, ... 423 per 50 shots; the best is the latest
    assert "🎯 CZ 75 · 25 m: 20 resultaten; gemiddeld 8,73 per schot" in text
    assert "beste 9,00, laatste 9,00; stijgend." in text
    assert "CZ-SECRET" not in text
    assert {"✓ 12 mnd", "3 mnd", "2026", "Alles", "✓ CZ 75", "Walther", "✓ 25 m", "50 m"} <= set(
        chat.labels()
    )
    assert anna.outbox.sent == []  # the turn only queued the charts

    await drain(anna.worker)
    [pushed] = anna.outbox.sent
    assert (pushed.chat_id, pushed.text) == ("anna", "")
    captions = [caption for caption, _ in photos(pushed)]
    assert captions == [
        "🎯 CZ 75 · 25 m · laatste 12 maanden",
        "🔫 Schoten per maand, laatste 12 maanden",
        "📋 Verlof: schietdagen in de afgelopen 12 maanden, en de wedstrijden van 2026",
    ]
    (ARTEFACTS / "stats").mkdir(parents=True, exist_ok=True)
    for name, (_, content) in zip(("score", "rounds", "licence"), photos(pushed), strict=True):
        (ARTEFACTS / "stats" / f"{name}-nl.png").write_bytes(content)  # for people to look at
        width, height = png_size(content)
        assert 800 <= width <= 2000
        assert 600 <= height <= 2000
    assert Activity.UPLOADING_PHOTO in anna.outbox.activities
    [job] = await _jobs(db)
    assert (job.status, job.sent_message_id) == (JobStatus.SUCCEEDED, "m1")
    assert not any((tmp_path / "tmp").iterdir())  # the job's own copies are gone


async def _jobs(db: Database) -> list[Job]:
    async with db.transaction(read_only=True) as s:
        return await JobQueue(s).list_jobs()


async def test_choosing_a_weapon_and_distance_redraws_only_the_score(
    db: Database, tmp_path: Path
) -> None:
    anna = await shooter(db, tmp_path)
    chat = anna.chat
    await chat.say("/stats")
    await drain(anna.worker)
    anna.outbox.sent.clear()

    await chat.press("Walther")
    assert "🎯 Walther · 10 m: 1 resultaat; gemiddeld 9,00 per schot" in chat.text
    assert "De grafiek komt zo." in chat.text
    assert "✓ Walther" in chat.labels()
    await drain(anna.worker)
    [pushed] = anna.outbox.sent
    assert [c for c, _ in photos(pushed)] == ["🎯 Walther · 10 m · laatste 12 maanden"]

    anna.outbox.sent.clear()
    await chat.press("CZ 75")
    await chat.press("50 m")
    assert "🎯 CZ 75 · 50 m: 1 resultaat; gemiddeld 8,00 per schot" in chat.text
    await drain(anna.worker)
    # Two score charts were asked in a row; the older one is skipped, the newer draws
    [pushed] = anna.outbox.sent
    assert [c for c, _ in photos(pushed)] == ["🎯 CZ 75 · 50 m · laatste 12 maanden"]


async def test_period_buttons(db: Database, tmp_path: Path) -> None:
    anna = await shooter(db, tmp_path)
    chat = anna.chat
    await chat.say("/stats")
    await chat.press("3 mnd")
    assert "laatste 3 maanden (24-08-2026 – 23-11-2026)" in chat.text
    assert "✓ 3 mnd" in chat.labels()
    await chat.press("Alles")
    assert "📊 Je statistieken · alles (02-05-2026 – 23-11-2026)" in chat.text  # the first day
    assert "22 sessies" in chat.text


async def test_forged_and_stale_presses_change_nothing(db: Database, tmp_path: Path) -> None:
    anna = await shooter(db, tmp_path)
    bert = await shooter(db, tmp_path / "bert", user="bert")
    chat = anna.chat
    await chat.say("/stats")
    stale = chat.button("Walther")
    for forged in (f"w:{bert.walther}", "w:99999999999", "w:1e3", "d:-5", "d:", "x", "p:forever"):
        seq = chat.button("Walther").split(":", 1)[0]  # each turn's buttons carry a new one
        await chat.do(Press(f"{seq}:{forged}"))
        assert "🎯 CZ 75 · 25 m" in chat.text  # the default stays
        assert "laatste 12 maanden" in chat.text
    await chat.do(Press(stale))  # a button of an older message
    assert chat.last.notice is not None
    assert chat.last.replies == ()
    await drain(anna.worker)
    assert len(anna.outbox.sent) == 1  # only /stats itself queued charts


async def test_a_new_user_gets_a_clear_text_and_no_empty_charts(
    db: Database, tmp_path: Path
) -> None:
    chat = Chat.open(db, tmp_path, user="carla")
    messengers, outbox = recording()
    worker = job_worker(db, clock=chat.conversation.clock, data_dir=tmp_path, messengers=messengers)
    await chat.say("/start")
    await chat.say("/stats")
    assert "Nog geen sessies in deze periode." in chat.text
    assert "⚠️ Verlof: 0 van de 18 schietdagen" in chat.text
    assert "grafiek" not in chat.text
    await drain(worker)
    assert outbox.sent == []


async def test_english_profile(db: Database, tmp_path: Path) -> None:
    anna = await shooter(db, tmp_path)
    async with db.transaction() as s:
        profiles = ProfileRepo(s, anna.user_id)
        profile = await profiles.get()
        await profiles.update(
            ProfileSpec(
                display_name=profile.display_name,
                language=Language.EN,
                licence_expiry=date(2027, 3, 1),
            )
        )
    await anna.chat.say("/stats")
    text = anna.chat.text
    assert "📊 Your statistics · last 12 months" in text
    assert "✅ Licence: 22 of the 18 shooting days" in text
    assert "Your licence expires on 01-03-2027." in text
    assert "mean 8.73 per shot" in text
    await drain(anna.worker)
    [pushed] = anna.outbox.sent
    assert photos(pushed)[1][0] == "🔫 Rounds per month, last 12 months"
