"""What a saved session is told it achieved — a personal best, weeks in a row — through the real
conversation core on a real database, with a fixed clock (``NOW`` is Monday 23-11-2026)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from aimtrack.core.clock import FixedClock
from aimtrack.core.model import EntrySpec, Language, ProfileSpec, SessionSpec, Transport, WeaponSpec
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ProfileRepo, SessionRepo, WeaponRepo
from aimtrack.storage.repos.users import UserDirectory
from tests.helpers.chat import NOW, Chat

RECORD_NL = "🏆 Persoonlijk record"
RECORD_EN = "🏆 Personal best"
STREAK = "🔥"
Result = tuple[date, int, str | None]  # day, shots, score (None: unscored)


async def _shooter(
    db: Database,
    *results: Result,
    user: str = "anna",
    language: Language = Language.NL,
) -> int:
    """``user`` with one pistol, "CZ 75", and a saved session of it at 25 m per result."""
    async with db.transaction() as s:
        account = await UserDirectory(s).register(
            Transport.CONSOLE, user, display_name=user.title(), allowed=True
        )
        uid = account.user_id
        if language is not Language.NL:
            await ProfileRepo(s, uid).update(
                ProfileSpec(display_name=user.title(), language=language)
            )
        cz = await WeaponRepo(s, uid).add(WeaponSpec(name="CZ 75", caliber="9mm"))
        sessions = SessionRepo(s, uid)
        for day, shots, score in results:
            await sessions.create(
                SessionSpec(occurred_on=day),
                [
                    EntrySpec(
                        weapon_id=cz.id,
                        distance_m=25,
                        shots=shots,
                        score=None if score is None else Decimal(score),
                    )
                ],
            )
        return uid


async def _quick(chat: Chat, text: str, *, save: str = "Opslaan") -> str:
    """Type one quick entry, confirm it, and return the confirmation."""
    await chat.say(text)
    await chat.press(save)
    assert "Opgeslagen" in chat.text or "Saved" in chat.text, chat.text
    return chat.text


# --- personal best -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "line"),
    [
        (
            "431",
            "🏆 Persoonlijk record met CZ 75 op 25 m: 8,62 per schot (431 uit 50); "
            "je beste was 8,50.",
        ),
        (
            "426,5",
            "🏆 Persoonlijk record met CZ 75 op 25 m: 8,53 per schot (426,5 uit 50); "
            "je beste was 8,50.",
        ),
    ],
)
async def test_a_better_result_is_a_personal_best(
    db: Database, tmp_path: Path, typed: str, line: str
) -> None:
    await _shooter(db, (date(2026, 11, 2), 50, "425"), (date(2026, 11, 9), 30, "250"))
    chat = Chat.open(db, tmp_path)
    text = await _quick(chat, f"CZ 75 25m 50 schoten {typed}")
    assert line in text.split("\n")
    assert text.count("🏆") == 1
    assert chat.actions == 2


async def test_a_personal_best_in_english(db: Database, tmp_path: Path) -> None:
    await _shooter(db, (date(2026, 11, 2), 50, "425"), language=Language.EN)
    chat = Chat.open(db, tmp_path)
    await chat.say("CZ 75 25m 50 shots 431")
    assert "Is this right?" in chat.text
    await chat.press("Save")
    text = chat.text
    assert "Saved" in text
    assert (
        "🏆 Personal best with CZ 75 at 25 m: 8.62 per shot (431 from 50); your best was 8.50."
        in text.split("\n")
    )
    assert RECORD_NL not in text


async def test_the_first_result_ever_is_no_record(db: Database, tmp_path: Path) -> None:
    await _shooter(db, (date(2026, 11, 2), 50, None))  # shot before, never scored
    chat = Chat.open(db, tmp_path)
    text = await _quick(chat, "CZ 75 25m 50 schoten 431")
    assert "431" in text
    assert "🏆" not in text
    assert STREAK not in text


@pytest.mark.parametrize(
    ("before", "typed"),
    [
        ((50, "431"), "431"),  # the same score
        ((30, "256"), "426,5"),  # 8,53 against 8,5333: equal in the figures shown
    ],
)
async def test_an_equal_result_is_no_record(
    db: Database, tmp_path: Path, before: tuple[int, str], typed: str
) -> None:
    await _shooter(db, (date(2026, 11, 2), *before))
    chat = Chat.open(db, tmp_path)
    text = await _quick(chat, f"CZ 75 25m 50 schoten {typed}")
    assert "🏆" not in text


async def test_a_lower_result_is_no_record(db: Database, tmp_path: Path) -> None:
    await _shooter(db, (date(2026, 11, 2), 50, "440"))
    chat = Chat.open(db, tmp_path)
    text = await _quick(chat, "CZ 75 25m 50 schoten 431")
    assert "🏆" not in text


async def test_another_users_better_result_does_not_count(db: Database, tmp_path: Path) -> None:
    # Bob shot better, and in each of the last two weeks: neither is Anna's
    await _shooter(
        db,
        (date(2026, 11, 12), 50, "480"),
        (date(2026, 11, 18), 50, "490"),
        user="bob",
    )
    await _shooter(db, (date(2026, 10, 26), 50, "425"))
    bob = Chat.open(db, tmp_path, user="bob")
    anna = Chat.open(db, tmp_path, user="anna")
    text = await _quick(anna, "CZ 75 25m 50 schoten 431")
    assert (
        "🏆 Persoonlijk record met CZ 75 op 25 m: 8,62 per schot (431 uit 50); je beste was 8,50."
        in text
    )
    assert STREAK not in text  # Anna shot in only one of the three weeks
    # and Anna's new 8,62 is nothing to Bob's 9,80
    text = await _quick(bob, "CZ 75 25m 50 schoten 470")
    assert "🏆" not in text
    assert "🔥 3 weken op rij" in text


# --- weeks in a row ----------------------------------------------------------------------


async def test_the_third_week_in_a_row_is_told_once(db: Database, tmp_path: Path) -> None:
    await _shooter(db)
    clock = FixedClock(NOW - timedelta(weeks=2))  # Monday 9 November
    chat = Chat.open(db, tmp_path, clock=clock)
    assert STREAK not in await _quick(chat, "CZ 75 25m 50 schoten")
    clock.advance(timedelta(weeks=1, days=2))  # Wednesday 18 November
    assert STREAK not in await _quick(chat, "CZ 75 25m 50 schoten")
    clock.advance(timedelta(days=5))  # Monday 23 November: the third week
    text = await _quick(chat, "CZ 75 25m 50 schoten")
    assert "🔥 3 weken op rij geschoten. Zo houd je je verlof makkelijk op peil." in text
    clock.advance(timedelta(days=2))  # Wednesday, the same week again
    assert STREAK not in await _quick(chat, "CZ 75 25m 50 schoten")


async def test_the_week_is_the_shooters_local_week(db: Database, tmp_path: Path) -> None:
    # Sunday 23:30 UTC is Monday 00:30 in Amsterdam: the first session of a new week
    await _shooter(db, (date(2026, 11, 12), 50, None), (date(2026, 11, 18), 50, None))
    clock = FixedClock(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    chat = Chat.open(db, tmp_path, clock=clock)
    text = await _quick(chat, "CZ 75 25m 50 schoten")
    assert "ma 23-11-2026" in text
    assert "🔥 3 weken op rij" in text


async def test_the_streak_is_told_for_this_week_in_english(db: Database, tmp_path: Path) -> None:
    await _shooter(
        db,
        (date(2026, 11, 2), 50, None),
        (date(2026, 11, 13), 50, None),
        (date(2026, 11, 22), 50, None),  # last Sunday
        language=Language.EN,
    )
    chat = Chat.open(db, tmp_path)
    text = await _quick(chat, "CZ 75 25m 50 shots", save="Save")
    assert "🔥 4 weeks in a row. That keeps your licence days easily on track." in text


async def test_a_session_for_last_week_says_no_streak(db: Database, tmp_path: Path) -> None:
    # typed on Monday for yesterday (Sunday): it is not this week's first session
    await _shooter(db, (date(2026, 11, 9), 50, None), (date(2026, 11, 4), 50, None))
    chat = Chat.open(db, tmp_path)
    text = await _quick(chat, "CZ 75 25m 50 schoten gisteren")
    assert "zo 22-11-2026" in text
    assert STREAK not in text


async def test_editing_a_saved_session_does_not_tell_the_streak_again(
    db: Database, tmp_path: Path
) -> None:
    await _shooter(db, (date(2026, 11, 12), 50, None), (date(2026, 11, 18), 50, None))
    chat = Chat.open(db, tmp_path)
    assert "🔥 3 weken op rij" in await _quick(chat, "CZ 75 25m 50 schoten")
    await chat.say("/sessies")
    await chat.press("23-11-2026")
    await chat.press("Wijzigen")
    await chat.press("Opslaan")
    assert "Opgeslagen" in chat.text
    assert STREAK not in chat.text
