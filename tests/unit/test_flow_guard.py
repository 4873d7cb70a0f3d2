"""A command in the middle of logging a session does not drop it unasked: the conversation
asks to finish it or discard it and go on (``Conversation._command``'s guard)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aimtrack.bot.io import Press
from aimtrack.core.model import Transport, WeaponSpec
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ConversationRepo, WeaponRepo
from aimtrack.storage.repos.users import UserDirectory
from tests.helpers.chat import Chat

GUARD = "Je bent nog bezig met een sessie. Eerst afmaken, of weggooien en doorgaan?"
DISTANCE = "Afstand met CZ 75?"


@pytest.fixture
async def chat(db: Database, tmp_path: Path) -> Chat:
    """Anna, half-way through logging a session: the CZ chosen, the distance asked."""
    async with db.transaction() as s:
        account = await UserDirectory(s).register(
            Transport.CONSOLE, "anna", display_name="Anna", allowed=True
        )
        await WeaponRepo(s, account.user_id).add(WeaponSpec(name="CZ 75"))
    chat = Chat.open(db, tmp_path)
    await chat.say("/sessie")
    await chat.press("CZ 75")
    assert DISTANCE in chat.text
    return chat


async def _flow(db: Database) -> tuple[str, str, dict[str, object]] | None:
    async with db.transaction(read_only=True) as s:
        account = await UserDirectory(s).find(Transport.CONSOLE, "anna")
        assert account is not None
        state = await ConversationRepo(s, account.user_id).load(Transport.CONSOLE, "anna")
    return None if state is None else (state.flow, state.step, dict(state.draft))


async def test_another_command_asks_first_and_changes_nothing(chat: Chat, db: Database) -> None:
    before = await _flow(db)
    await chat.say("/profiel")
    assert chat.text == GUARD
    assert chat.labels() == ["Sessie afmaken", "Weggooien"]
    after = await _flow(db)
    assert before is not None
    assert after is not None
    assert after[:2] == before[:2]  # still the session, at the same step
    bookkeeping = {"seq", "guard"}  # the buttons' turn number, the command asked about
    assert {k: v for k, v in after[2].items() if k not in bookkeeping} == {
        k: v for k, v in before[2].items() if k not in bookkeeping
    }
    assert after[2]["guard"] == ["profile", ""]


async def test_finish_goes_back_to_the_step_with_the_draft_intact(chat: Chat, db: Database) -> None:
    await chat.say("/export")
    await chat.press("afmaken")
    assert DISTANCE in chat.text  # the distance is asked again, for the CZ
    await chat.say("25")
    await chat.say("50 431")
    await chat.press("Opslaan")
    assert "Opgeslagen" in chat.text
    assert "CZ 75" in chat.text


async def test_discard_drops_the_session_and_runs_the_command(chat: Chat, db: Database) -> None:
    await chat.say("/profiel")
    await chat.press("Weggooien")
    assert chat.text.startswith("Geannuleerd.")
    assert "👤 Je profiel" in chat.text
    state = await _flow(db)
    assert state is not None
    assert state[0] == "profile"


async def test_discard_keeps_the_commands_arguments(chat: Chat, db: Database) -> None:
    """``/coach waarom?`` asked mid-session is the same question after "discard"."""
    await chat.say("/coach waarom trek ik naar links?")
    assert chat.text == GUARD
    await chat.press("Weggooien")
    assert "waarom trek ik naar links?" in chat.text


async def test_the_sessions_own_command_shows_the_step_again(chat: Chat) -> None:
    await chat.say("/sessie")
    assert GUARD not in chat.text
    assert DISTANCE in chat.text


async def test_cancel_is_never_guarded(chat: Chat, db: Database) -> None:
    await chat.say("/annuleer")
    assert GUARD not in chat.text
    assert await _flow(db) is None


async def test_a_guard_button_pressed_twice_is_expired(chat: Chat) -> None:
    await chat.say("/profiel")
    discard = chat.button("Weggooien")
    await chat.press("afmaken")
    await chat.do(Press(discard))
    assert chat.last.notice == "Deze knop is verlopen; gebruik de knoppen van het laatste bericht."
    assert chat.last.replies == ()


async def test_only_a_session_is_guarded(db: Database, tmp_path: Path) -> None:
    """Half-way through adding a weapon, another command simply takes over."""
    chat = Chat.open(db, tmp_path)
    await chat.say("/wapens")
    await chat.press("Wapen toevoegen")
    await chat.say("/profiel")
    assert GUARD not in chat.text
    assert "👤 Je profiel" in chat.text
