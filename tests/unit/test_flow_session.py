"""The session flows through the real conversation core on a real database, with a fixed clock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from aimtrack.bot.io import Press
from aimtrack.core.model import EntrySpec, SessionSpec, SessionStatus, Transport, WeaponSpec
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import AttachmentRepo, SessionRepo, WeaponRepo
from aimtrack.storage.repos.users import UserDirectory
from tests.helpers.chat import Chat


async def _shooter(db: Database, *, club: str | None = "SV De Roos") -> int:
    """Anna with two pistols and one earlier session at her usual club."""
    async with db.transaction() as s:
        account = await UserDirectory(s).register(
            Transport.CONSOLE, "anna", display_name="Anna", allowed=True
        )
        weapons = WeaponRepo(s, account.user_id)
        cz = await weapons.add(WeaponSpec(name="CZ 75 Shadow 2", nickname="cz", caliber="9mm"))
        glock = await weapons.add(WeaponSpec(name="Glock 17", caliber="9mm"))
        await SessionRepo(s, account.user_id).create(
            SessionSpec(occurred_on=date(2026, 11, 16), club=club),
            [
                EntrySpec(weapon_id=cz.id, distance_m=25, shots=50),
                EntrySpec(weapon_id=glock.id, distance_m=15, shots=30),
            ],
        )
        return account.user_id


async def _saved(db: Database, user_id: int) -> list:
    async with db.transaction() as s:
        return await SessionRepo(s, user_id).list_sessions(status=SessionStatus.SAVED)


async def test_guided_typical_session_takes_at_most_ten_actions(
    db: Database, tmp_path: Path
) -> None:
    uid = await _shooter(db)
    chat = Chat.open(db, tmp_path)
    await chat.say("/sessie")
    assert "SV De Roos" in chat.text
    assert "ma 23-11-2026" in chat.text
    await chat.press("CZ 75")
    assert "25 m" in chat.labels()
    await chat.press("25 m")
    await chat.say("50 431")
    await chat.press("Nog een wapen")
    await chat.press("Glock")
    await chat.press("15 m")
    await chat.say("30 265,5")
    await chat.photo()
    assert "Foto toegevoegd (1)" in chat.text
    await chat.press("Opslaan")
    assert chat.actions <= 10, chat.actions
    assert "Opgeslagen" in chat.text
    assert "265,5" in chat.text
    sessions = await _saved(db, uid)
    today = [s for s in sessions if s.occurred_on == date(2026, 11, 23)]
    assert len(today) == 1
    saved = today[0]
    assert saved.club == "SV De Roos"
    assert [(e.distance_m, e.shots, e.score) for e in saved.entries] == [
        (25, 50, Decimal("431")),
        (15, 30, Decimal("265.5")),
    ]
    async with db.transaction() as s:
        photos = await AttachmentRepo(s, uid).list_for("session", saved.id)
    assert len(photos) == 1
    assert (tmp_path / photos[0].path).is_file()


async def test_quick_entry_with_photo_takes_three_actions(db: Database, tmp_path: Path) -> None:
    uid = await _shooter(db)
    chat = Chat.open(db, tmp_path)
    await chat.say("CZ 75 25m 50 schoten 431; glock 15m 30 sch 270")
    assert "Klopt dit?" in chat.text
    await chat.photo()
    await chat.press("Opslaan")
    assert chat.actions == 3
    saved = [s for s in await _saved(db, uid) if s.occurred_on == date(2026, 11, 23)]
    assert [(e.distance_m, e.shots, e.score) for e in saved[0].entries] == [
        (25, 50, Decimal("431")),
        (15, 30, Decimal("270")),
    ]


async def test_a_restart_mid_session_continues_at_the_same_step(
    db: Database, tmp_path: Path
) -> None:
    uid = await _shooter(db)
    chat = Chat.open(db, tmp_path)
    await chat.say("/sessie")
    await chat.press("CZ 75")
    await chat.press("25 m")
    # a new process: a new core over the same database
    again = Chat.open(db, tmp_path)
    await again.say("50 431")
    assert "CZ 75" in again.text
    assert "Opslaan" in " ".join(again.labels())
    await again.press("Opslaan")
    assert any(s.occurred_on == date(2026, 11, 23) for s in await _saved(db, uid))


async def test_bad_numbers_are_asked_again_and_nothing_is_stored(
    db: Database, tmp_path: Path
) -> None:
    uid = await _shooter(db)
    chat = Chat.open(db, tmp_path)
    await chat.say("/sessie")
    await chat.press("CZ 75")
    for bad in ("vijfentwintig", "-5", "99999", "0"):
        await chat.say(bad)
        assert "meter" in chat.text.lower() or "afstand" in chat.text.lower()
    await chat.say("25")
    for bad, expected in (
        ("veel", "aantal schoten"),
        ("0 10", "tussen 1 en 10000"),
        ("50 600", "10,9"),
        ("50 431,25", "één decimaal"),
    ):
        await chat.say(bad)
        assert expected in chat.text, chat.text
    await chat.say("🎯" * 50)
    assert "aantal schoten" in chat.text
    assert len(await _saved(db, uid)) == 1  # only the earlier session


async def test_a_long_note_is_refused_without_losing_the_draft(
    db: Database, tmp_path: Path
) -> None:
    await _shooter(db)
    chat = Chat.open(db, tmp_path)
    await chat.say("/sessie")
    await chat.press("CZ 75")
    await chat.press("25 m")
    await chat.say("50 431")
    await chat.press("Notities")
    await chat.say("x" * 10_000)
    assert "te lang" in chat.text or "hooguit" in chat.text
    await chat.press("Klaar")
    assert "CZ 75" in chat.text
    assert "431" in chat.text


async def test_a_photo_without_a_session_starts_a_draft_for_later(
    db: Database, tmp_path: Path
) -> None:
    uid = await _shooter(db)
    chat = Chat.open(db, tmp_path)
    await chat.photo()
    assert "conceptsessie" in chat.text
    await chat.press("Later")
    async with db.transaction() as s:
        drafts = await SessionRepo(s, uid).list_sessions(status=SessionStatus.DRAFT)
    assert len(drafts) == 1
    await chat.say("/sessie")
    await chat.press("Concept aanvullen")
    await chat.press("Glock")
    await chat.press("15 m")
    await chat.say("30")
    await chat.press("Opslaan")
    async with db.transaction() as s:
        repo = SessionRepo(s, uid)
        assert await repo.count(status=SessionStatus.DRAFT) == 0
        done = await repo.get(drafts[0].id)
        photos = await AttachmentRepo(s, uid).list_for("session", done.id)
    assert done.status is SessionStatus.SAVED
    assert len(done.entries) == 1
    assert len(photos) == 1


async def test_a_text_file_named_jpg_is_refused(db: Database, tmp_path: Path) -> None:
    await _shooter(db)
    chat = Chat.open(db, tmp_path)
    await chat.photo(b"just some text, not a picture", name="target.jpg")
    assert "geen foto" in chat.text
    assert not (tmp_path / "attachments").exists() or not any(
        (tmp_path / "attachments").rglob("*.*")
    )


async def test_an_old_button_is_expired(db: Database, tmp_path: Path) -> None:
    await _shooter(db)
    chat = Chat.open(db, tmp_path)
    await chat.say("/sessie")
    old = chat.button("CZ 75")
    await chat.press("Glock")
    out = await chat.do(Press(old))
    assert out.notice is not None
    assert "verlopen" in out.notice
    assert out.replies == ()


async def test_a_typed_date_is_read_as_quick_entry_reads_dates(
    db: Database, tmp_path: Path
) -> None:
    await _shooter(db)
    chat = Chat.open(db, tmp_path)
    await chat.say("/sessie")
    await chat.press("Andere datum")
    await chat.say("31-02")
    assert "geen datum die ik ken" in chat.text
    await chat.say("24-12-2026")
    assert "in de toekomst" in chat.text
    await chat.say("21.11")
    assert "za 21-11-2026" in chat.text
