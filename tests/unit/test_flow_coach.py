"""/coach through the real conversation core and database: asking queues the answer job.

The worker is not run here: a test asserts what a turn stored (the thread, the question, the
pending answer) and which job it queued, in the same transaction.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aimtrack.bot.io import Press
from aimtrack.core.model import (
    AIStatus,
    CoachMessage,
    CoachThread,
    EntrySpec,
    Job,
    JobStatus,
    Language,
    MessageRole,
    ProfileSpec,
    SessionSpec,
    Transport,
    WeaponSpec,
)
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import (
    CoachRepo,
    ConversationRepo,
    JobQueue,
    ProfileRepo,
    SessionRepo,
    UserDirectory,
    WeaponRepo,
)
from tests.helpers.chat import Chat

QUESTION = "waarom trek ik naar links met de CZ?"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
THINKING = "De coach denkt na; het antwoord komt zo als bericht."
NOT_FOUND = "Dat kon ik niet vinden"


def started(thread: CoachThread) -> str:
    """The day a thread was started as its history button shows it: dd-mm in Anna's zone. The
    database stamps threads with the wall clock, not the conversation's fixed clock."""
    return f"{thread.created_at.astimezone(AMSTERDAM):%d-%m}"


class Shooter:
    """Anna with a CZ and a Glock and one session with the CZ; her chat and her records."""

    def __init__(self, db: Database, chat: Chat, user_id: int) -> None:
        self.db = db
        self.chat = chat
        self.user_id = user_id
        self.cz = 0
        self.glock = 0
        self.session_id = 0

    async def ask(self, question: str = QUESTION) -> None:
        """Ask on the /coach command line, without narrowing: all weapons, all time."""
        await self.chat.say(f"/coach {question}")
        await self.chat.press("Vraag het")

    async def threads(self) -> list[CoachThread]:
        async with self.db.transaction(read_only=True) as s:
            return await CoachRepo(s, self.user_id).threads(limit=50)

    async def messages(self, thread_id: int) -> list[CoachMessage]:
        async with self.db.transaction(read_only=True) as s:
            return await CoachRepo(s, self.user_id).messages(thread_id)

    async def jobs(self) -> list[Job]:
        async with self.db.transaction(read_only=True) as s:
            return list(reversed(await JobQueue(s).list_jobs()))  # oldest first

    async def state(self) -> tuple[str, str] | None:
        async with self.db.transaction(read_only=True) as s:
            saved = await ConversationRepo(s, self.user_id).load(Transport.CONSOLE, "anna")
        return None if saved is None else (saved.flow, saved.step)

    async def answer(self, message_id: int, text: str) -> None:
        """What the worker does when the answer is ready."""
        async with self.db.transaction() as s:
            await CoachRepo(s, self.user_id).update_message(
                message_id, content=text, status=AIStatus.SUCCEEDED, provider="x", model="m"
            )


@pytest.fixture
async def anna(db: Database, tmp_path: Path) -> Shooter:
    async with db.transaction() as s:
        account = await UserDirectory(s).register(
            Transport.CONSOLE, "anna", display_name="Anna", allowed=True
        )
        repo = WeaponRepo(s, account.user_id)
        cz = await repo.add(WeaponSpec(name="CZ 75", caliber="9mm"))
        glock = await repo.add(WeaponSpec(name="Glock 17", caliber="9mm"))
        shot = await SessionRepo(s, account.user_id).create(
            SessionSpec(occurred_on=date(2026, 11, 16), club="SV De Roos"),
            [EntrySpec(weapon_id=cz.id, distance_m=25, shots=50)],
        )
    chat = Chat.open(db, tmp_path, user="anna")  # the app's conversation, every flow in it
    shooter = Shooter(db, chat, account.user_id)
    shooter.cz, shooter.glock, shooter.session_id = cz.id, glock.id, shot.id
    return shooter


async def bob(db: Database) -> tuple[int, int]:
    """Another user with a session of his own: (user id, session id)."""
    async with db.transaction() as s:
        account = await UserDirectory(s).register(
            Transport.CONSOLE, "bob", display_name="Bob", allowed=True
        )
        weapon = await WeaponRepo(s, account.user_id).add(WeaponSpec(name="Bobs Walther"))
        shot = await SessionRepo(s, account.user_id).create(
            SessionSpec(occurred_on=date(2026, 11, 20)),
            [EntrySpec(weapon_id=weapon.id, distance_m=10, shots=40)],
        )
    return account.user_id, shot.id


def _seq(chat: Chat) -> str:
    """The sequence number the latest buttons carry (to forge a press with)."""
    return chat.last.replies[-1].buttons[0][0].data.split(":", 1)[0]


# --- asking ---------------------------------------------------------------------------------


async def test_a_question_is_narrowed_and_asked(anna: Shooter) -> None:
    chat = anna.chat
    await chat.say(f"/coach {QUESTION}")
    assert QUESTION in chat.text
    assert {"CZ 75", "Glock 17", "30 dagen", "3 maanden", "12 maanden", "✓ alles"} <= set(
        chat.labels()
    )
    assert await anna.threads() == []  # nothing is stored before asking
    await chat.press("CZ 75")
    assert "✓ CZ 75" in chat.labels()
    assert "Glock 17" in chat.labels()
    await chat.press("3 maanden")
    assert {"✓ CZ 75", "✓ 3 maanden", "alles"} <= set(chat.labels())
    await chat.press("Vraag het")
    assert chat.text == THINKING

    (thread,) = await anna.threads()
    assert thread.title == QUESTION
    assert thread.weapon_id == anna.cz
    assert (thread.period_from, thread.period_to) == (date(2026, 8, 23), date(2026, 11, 23))
    question, answer = await anna.messages(thread.id)
    assert (question.role, question.content, question.status) == (
        MessageRole.USER,
        QUESTION,
        None,
    )
    assert (answer.role, answer.status) == (MessageRole.ASSISTANT, AIStatus.PENDING)
    (job,) = await anna.jobs()
    assert (job.kind, job.user_id, job.status) == ("coach_answer", anna.user_id, JobStatus.PENDING)
    assert job.payload == {
        "thread_id": thread.id,
        "message_id": answer.id,
        "transport": "console",
        "chat_id": "anna",
    }
    assert await anna.state() == ("coach", "thread")


async def test_follow_ups_continue_the_thread(anna: Shooter) -> None:
    chat = anna.chat
    await anna.ask()
    (thread,) = await anna.threads()
    await chat.say("En met de Glock?")  # the first answer is still pending
    assert "nog bezig met je vorige vraag" in chat.text
    first, second = await anna.jobs()
    messages = await anna.messages(thread.id)
    assert [(m.role, m.status) for m in messages] == [
        (MessageRole.USER, None),
        (MessageRole.ASSISTANT, AIStatus.PENDING),
        (MessageRole.USER, None),
        (MessageRole.ASSISTANT, AIStatus.PENDING),
    ]
    assert messages[2].content == "En met de Glock?"
    assert (first.payload["message_id"], second.payload["message_id"]) == (
        messages[1].id,
        messages[3].id,
    )
    assert first.payload["thread_id"] == second.payload["thread_id"] == thread.id
    await anna.answer(messages[1].id, "Je knijpt de trekker.")
    await anna.answer(messages[3].id, "Idem.")
    await chat.say("Welke oefening helpt?")
    assert chat.text == THINKING  # nothing pending any more
    assert len(await anna.jobs()) == 3
    assert len(await anna.threads()) == 1


async def test_a_weapon_toggles_off_and_the_default_is_all_time(anna: Shooter) -> None:
    chat = anna.chat
    await chat.say(f"/coach {QUESTION}")
    await chat.press("CZ 75")
    await chat.press("✓ CZ 75")  # pressed again: no weapon
    assert "✓ CZ 75" not in chat.labels()
    await chat.press("Glock")
    await chat.press("✓ Glock")
    await chat.press("Glock")
    await chat.press("Vraag het")
    (thread,) = await anna.threads()
    assert (thread.weapon_id, thread.period_from, thread.period_to) == (anna.glock, None, None)


async def test_a_forged_weapon_is_not_taken(anna: Shooter, db: Database) -> None:
    await bob(db)
    async with db.transaction(read_only=True) as s:
        bobs = await UserDirectory(s).find(Transport.CONSOLE, "bob")
        assert bobs is not None
        (walther,) = await WeaponRepo(s, bobs.user_id).list_weapons()
    chat = anna.chat
    await chat.say(f"/coach {QUESTION}")
    await chat.do(Press(f"{_seq(chat)}:w:{walther.id}"))
    assert "Bobs Walther" not in chat.labels()
    await chat.do(Press(f"{_seq(chat)}:p:5y"))
    assert "✓ alles" in chat.labels()
    await chat.press("Vraag het")
    (thread,) = await anna.threads()
    assert (thread.weapon_id, thread.period_from) == (None, None)


async def test_a_question_typed_after_the_bare_command(anna: Shooter) -> None:
    chat = anna.chat
    await chat.say("/coach")
    assert "Typ je vraag" in chat.text
    assert chat.labels() == []  # no history yet
    await chat.say(QUESTION)
    assert "💬 Vraag het" in chat.labels()
    await chat.say("Nee, anders: waarom trek ik naar rechts?")  # typed while narrowing
    assert "naar rechts" in chat.text
    await chat.press("Vraag het")
    (thread,) = await anna.threads()
    assert thread.title == "Nee, anders: waarom trek ik naar rechts?"


async def test_a_long_question_is_stored_whole_under_a_short_title(anna: Shooter) -> None:
    question = "Waarom " + "heel " * 390 + "lang?"
    assert 200 < len(question) <= 2000
    await anna.ask(question)
    (thread,) = await anna.threads()
    assert len(thread.title) == 200
    assert thread.title.endswith("…")
    assert (await anna.messages(thread.id))[0].content == question


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("   ", "lege vraag"),
        ("x" * 2001, "te lang (meer dan 2.000 tekens)"),
        ("hoe\x00zo", "tekens die ik niet kan opslaan"),
    ],
)
async def test_a_bad_question_is_refused_and_nothing_is_stored(
    anna: Shooter, typed: str, why: str
) -> None:
    chat = anna.chat
    if typed.strip():  # on the command line (a blank one just opens the coach)
        await chat.say(f"/coach {typed}")
        assert why in chat.text
        assert "Typ je vraag" in chat.text
    else:
        await chat.say("/coach")
    await chat.say(typed)  # typed as the question
    assert why in chat.text
    assert "Typ je vraag" in chat.text  # asked again
    assert await anna.state() == ("coach", "question")
    assert await anna.threads() == []
    await chat.say("x" * 2000)  # the limit itself is fine
    await chat.press("Vraag het")
    (thread,) = await anna.threads()
    await chat.say(typed)  # as a follow-up
    assert why in chat.text
    assert len(await anna.messages(thread.id)) == 2
    assert len(await anna.jobs()) == 1
    assert await anna.state() == ("coach", "thread")


# --- history ----------------------------------------------------------------------------------


async def test_history_lists_threads_and_an_old_thread_continues(anna: Shooter) -> None:
    chat = anna.chat
    await anna.ask()
    (first,) = await anna.threads()
    first_answer = (await anna.messages(first.id))[1]
    await anna.answer(first_answer.id, "Je knijpt de trekker met de hele hand.")
    await chat.say("/annuleer")
    await anna.ask("Hoe train ik mijn ademhaling?")
    await chat.say("/annuleer")

    await chat.say("/coach geschiedenis")
    assert "eerdere gesprekken" in chat.text
    second, _ = await anna.threads()  # the newest first
    assert chat.labels() == [
        f"{started(second)} · Hoe train ik mijn ademhaling?",
        f"{started(first)} · waarom trek ik naar links met de CZ?",
    ]
    await chat.press("links met de CZ")
    assert f"🙋 Jij: {QUESTION}" in chat.text
    assert "💬 Coach: Je knijpt de trekker met de hele hand." in chat.text
    assert "Over: alle wapens, de hele periode" in chat.text
    await chat.say("En bij droogtrainen?")
    assert chat.text == THINKING
    assert len(await anna.threads()) == 2
    messages = await anna.messages(first.id)
    assert [m.content for m in messages[2:3]] == ["En bij droogtrainen?"]
    last = (await anna.jobs())[-1]
    assert last.payload["thread_id"] == first.id
    assert last.payload["message_id"] == messages[3].id


async def test_history_in_english_and_the_bare_command_offers_threads(anna: Shooter) -> None:
    async with anna.db.transaction() as s:
        await ProfileRepo(s, anna.user_id).update(
            ProfileSpec(display_name="Anna", language=Language.EN)
        )
    chat = anna.chat
    await chat.say("/coach history")
    assert "You have no conversations with the coach yet." in chat.text
    await chat.say("Why do I pull left?")
    assert {"30 days", "3 months", "12 months", "✓ everything", "💬 Ask"} <= set(chat.labels())
    await chat.press("Ask")
    assert chat.text == "The coach is thinking; the answer will arrive as a message shortly."
    await chat.say("/cancel")
    assert chat.text == "Coach conversation closed."
    await chat.say("/coach")
    (thread,) = await anna.threads()
    assert chat.labels() == [f"{started(thread)} · Why do I pull left?"]
    assert "Type your question" in chat.text
    await chat.press("pull left")
    assert "💬 Coach: ⏳ still thinking" in chat.text


async def test_another_users_thread_cannot_be_opened(anna: Shooter, db: Database) -> None:
    bob_id, _ = await bob(db)
    async with db.transaction() as s:
        secret = await CoachRepo(s, bob_id).start_thread(title="Bobs geheime vraag")
    chat = anna.chat
    await anna.ask()
    await chat.say("/annuleer")
    await chat.say("/coach")
    await chat.do(Press(f"{_seq(chat)}:t:{secret.id}"))
    assert "kon ik niet meer vinden" in chat.text
    assert "geheim" not in chat.text
    await chat.say("Mag ik meelezen?")  # the thread mode did not start: no coach message
    async with db.transaction(read_only=True) as s:
        assert await CoachRepo(s, bob_id).messages(secret.id) == []
    assert len(await anna.jobs()) == 1


# --- closing ----------------------------------------------------------------------------------


async def test_cancel_closes_the_thread(anna: Shooter) -> None:
    chat = anna.chat
    await anna.ask()
    await chat.say("/coach")  # the command inside the thread shows it again
    assert f"🙋 Jij: {QUESTION}" in chat.text
    assert "💬 Coach: ⏳ denkt nog na" in chat.text
    await chat.say("/annuleer")
    assert chat.text == "Coachgesprek gesloten."
    assert await anna.state() is None
    await chat.say("hoe gaat het?")  # no longer a follow-up
    (thread,) = await anna.threads()
    assert len(await anna.messages(thread.id)) == 2
    assert len(await anna.jobs()) == 1


async def test_new_question_from_inside_a_thread(anna: Shooter) -> None:
    chat = anna.chat
    await anna.ask()
    await chat.say("/coach")
    await chat.press("Nieuwe vraag")
    await chat.say("Wat is een goede droogtraining?")
    await chat.press("Vraag het")
    assert len(await anna.threads()) == 2


# --- "ask the coach" under a reflection -------------------------------------------------------


async def test_ask_about_a_session_narrows_to_it(anna: Shooter) -> None:
    chat = anna.chat
    await chat.do(Press(f"!c:{anna.session_id}"))
    assert chat.text == "Wat wil je de coach vragen over je sessie van ma 16-11-2026?"
    await chat.say("Wat ging er mis in de tweede serie?")
    assert chat.text == THINKING
    (thread,) = await anna.threads()
    assert thread.weapon_id == anna.cz  # the session's only weapon
    assert (thread.period_from, thread.period_to) == (date(2026, 11, 16), date(2026, 11, 16))
    (job,) = await anna.jobs()
    assert job.kind == "coach_answer"
    assert job.payload["thread_id"] == thread.id


@pytest.mark.parametrize("forged", ["other", "abc", "99999999999", ""])
async def test_another_users_session_is_not_found(anna: Shooter, db: Database, forged: str) -> None:
    _, bobs_session = await bob(db)
    arg = str(bobs_session) if forged == "other" else forged
    await anna.chat.do(Press(f"!c:{arg}"))
    assert NOT_FOUND in anna.chat.text
    assert await anna.threads() == []
    assert await anna.state() is None


async def test_asking_about_a_session_while_logging_one_waits(anna: Shooter) -> None:
    chat = anna.chat
    await chat.say("/sessie")
    before = await anna.state()
    assert before is not None
    assert before[0] == "session"
    assert before[1]
    await chat.do(Press(f"!c:{anna.session_id}"))
    assert "Je bent nog een sessie aan het loggen" in chat.text
    assert await anna.state() == before
    await chat.press("CZ 75")  # the session's step was shown again, with live buttons
    assert "25 m" in chat.labels()
    assert await anna.threads() == []
