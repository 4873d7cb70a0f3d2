"""The abuse limits through the conversation core, with fake clocks and no sleeps.

- The per-user rate limit cuts a flood before any database work, tells the user once, and
  leaves every other user alone.
- The AI quota counts coach questions, "again" presses, weapon trends and reflections from the
  ``jobs`` table: over it nothing is queued, the user is told when they can ask again, a saved
  session is still saved, and a restart does not reset it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from aimtrack.bot.app import build_conversation
from aimtrack.bot.conversation import Conversation, Limits
from aimtrack.bot.io import Command, Press, Sender, Text, Upload, UploadKind
from aimtrack.core.access import Access
from aimtrack.core.clock import FixedClock
from aimtrack.core.model import EntrySpec, Language, SessionSpec, Transport, WeaponSpec
from aimtrack.core.quota import AIQuota
from aimtrack.core.ratelimit import RateLimit, RateLimiter
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import SessionRepo, UserDirectory, WeaponRepo
from aimtrack.storage.tables import (
    CoachMessageRow,
    IdentityRow,
    JobRow,
    ProcessedUpdateRow,
    SessionRow,
    UserRow,
)
from tests.helpers.chat import NOW, Chat

ANNA, BOB, STRANGER = 111, 222, 999
SLOW_DOWN = "Rustig aan: je stuurt meer dan 30 berichten per minuut; ik sla er even een paar over."


class FakeMonotonic:
    def __init__(self) -> None:
        self.at = 50.0

    def __call__(self) -> float:
        return self.at


def sender(telegram_id: int, *, hint: str | None = "nl") -> Sender:
    return Sender(
        Transport.TELEGRAM, str(telegram_id), str(telegram_id), "Tester", language_hint=hint
    )


def open_conversation(
    db: Database,
    data_dir: Path,
    *,
    clock: FixedClock | None = None,
    monotonic: FakeMonotonic | None = None,
    quota: AIQuota | None = None,
    limits: Limits | None = None,
) -> Conversation:
    """A conversation whose Telegram users have ``limits`` (default: a rate limit on
    ``monotonic``'s clock, if given, and ``quota``)."""
    if limits is None:
        limiter = None
        if monotonic is not None:
            limiter = RateLimiter(RateLimit(per_minute=30, burst=20), now=monotonic)
        limits = Limits(messages=limiter, ai=quota)
    return build_conversation(
        db,
        clock=clock or FixedClock(NOW),
        data_dir=data_dir,
        access=Access(telegram_ids=frozenset({ANNA, BOB}), console=False),
        limits={Transport.TELEGRAM: limits},
    )


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement sent to the database inside the block."""
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def count(db: Database, table: type) -> int:
    async with db.transaction() as s:
        return int(await s.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


# --- the rate limit ---------------------------------------------------------------------


async def test_a_flood_is_cut_before_the_database_and_told_once(
    db: Database, tmp_path: Path
) -> None:
    conversation = open_conversation(db, tmp_path, monotonic=FakeMonotonic())
    anna, bob = sender(ANNA), sender(BOB)
    outcomes = []
    bob_served = None
    for number in range(500):  # 500 messages "at once": the fake clock does not move
        if number == 21:
            with statements(db) as sql:
                outcomes.append(await conversation.handle(anna, Text("hoi"), update_id=number))
            assert sql == []  # the notice needs no database either
            continue
        if number == 300:  # Bob writes in the middle of Anna's flood
            bob_served = await conversation.handle(bob, Command("help"), update_id=90_000)
        outcomes.append(await conversation.handle(anna, Text("hoi"), update_id=number))

    handled, notice, dropped = outcomes[:20], outcomes[20], outcomes[21:]
    assert all("begreep dat niet" in o.replies[0].text for o in handled)
    assert [r.text for r in notice.replies] == [SLOW_DOWN]
    assert not notice.dropped
    assert all(o.dropped and not o.replies and o.notice is None for o in dropped)
    assert bob_served is not None
    assert "Wat ik kan" in bob_served.replies[0].text
    # Only the handled updates were claimed: the dedupe table holds no dropped update.
    assert await count(db, ProcessedUpdateRow) == 20 + 1


async def test_a_dropped_input_reaches_no_database_no_download_and_no_flow(
    db: Database, tmp_path: Path
) -> None:
    conversation = open_conversation(db, tmp_path, monotonic=FakeMonotonic())
    anna = sender(ANNA)
    for number in range(21):
        await conversation.handle(anna, Command("help"), update_id=number)
    downloads = []

    async def fetch() -> bytes:
        downloads.append(1)
        return b"\xff\xd8"

    flood = [
        Text("CZ 75 25m 50 schoten 431"),
        Command("sessie"),
        Press("!n:off"),
        Press("1:save"),
        Upload(UploadKind.PHOTO, fetch, declared_size=100),
    ]
    with statements(db) as sql:
        results = [
            await conversation.handle(anna, item, update_id=100 + i)
            for i, item in enumerate(flood * 20)
        ]
    assert sql == []
    assert downloads == []
    assert all(o.dropped and not o.replies for o in results)


async def test_a_quiet_spell_serves_again_and_a_new_flood_is_told_again(
    db: Database, tmp_path: Path
) -> None:
    clock = FakeMonotonic()
    conversation = open_conversation(db, tmp_path, monotonic=clock)
    anna = sender(ANNA)
    texts = [(await conversation.handle(anna, Command("help"))).replies for _ in range(25)]
    assert sum(1 for replies in texts if replies and replies[0].text == SLOW_DOWN) == 1
    clock.at += 2  # 30 a minute: one message every two seconds gets through
    served = await conversation.handle(anna, Command("help"))
    assert "Wat ik kan" in served.replies[0].text
    assert (await conversation.handle(anna, Command("help"))).dropped  # still the same flood
    clock.at += 40  # quiet long enough to fill the bucket of 20 again
    again = [(await conversation.handle(anna, Command("help"))).replies for _ in range(21)]
    assert all("Wat ik kan" in replies[0].text for replies in again[:20])
    assert [r.text for r in again[20]] == [SLOW_DOWN]


async def test_the_notice_is_in_the_users_own_language(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as s:
        account = await UserDirectory(s).allow_telegram(ANNA)
        english = sa.update(UserRow).where(UserRow.id == account.user_id)
        await s.execute(english.values(language=Language.EN))
    conversation = open_conversation(db, tmp_path, monotonic=FakeMonotonic())
    anna = sender(ANNA, hint="nl")  # a Dutch app, an English profile: the profile wins
    for _ in range(20):
        await conversation.handle(anna, Command("help"))
    notice = await conversation.handle(anna, Command("help"))
    assert notice.replies[0].text.startswith("Easy does it: you are sending more than 30")


async def test_a_stranger_flooding_is_limited_and_nothing_is_stored(
    db: Database, tmp_path: Path
) -> None:
    conversation = open_conversation(db, tmp_path, monotonic=FakeMonotonic())
    stranger = sender(STRANGER, hint="en")
    outcomes = [await conversation.handle(stranger, Text("hi"), update_id=n) for n in range(200)]
    refusals = [
        o for o in outcomes if o.replies and "aimtrack users allow 999" in o.replies[0].text
    ]
    assert len(refusals) == 20
    assert sum(1 for o in outcomes if o.replies and "Easy does it" in o.replies[0].text) == 1
    assert sum(1 for o in outcomes if o.dropped) == 179
    for table in (UserRow, IdentityRow, ProcessedUpdateRow):
        assert await count(db, table) == 0


async def test_the_console_chat_has_no_rate_limit(db: Database, tmp_path: Path) -> None:
    limited = Limits(messages=RateLimiter(RateLimit(1, 1), now=FakeMonotonic()))
    chat = Chat.open(db, tmp_path, limits={Transport.TELEGRAM: limited})
    for _ in range(60):
        await chat.say("/help")
        assert "Wat ik kan" in chat.text


# --- the AI quota -----------------------------------------------------------------------


async def seed(db: Database, telegram_id: int = ANNA) -> tuple[int, int, int]:
    """An allowed user with a weapon and a saved session: (user, weapon, session)."""
    async with db.transaction() as s:
        account = await UserDirectory(s).allow_telegram(telegram_id)
        weapons = await WeaponRepo(s, account.user_id).list_weapons()
        name = f"CZ 75 Shadow {len(weapons) + 2}"
        weapon = await WeaponRepo(s, account.user_id).add(WeaponSpec(name=name))
        session = await SessionRepo(s, account.user_id).create(
            SessionSpec(occurred_on=date(2026, 11, 20), club="De Baan"),
            [EntrySpec(weapon_id=weapon.id, distance_m=25, shots=50)],
        )
        return account.user_id, weapon.id, session.id


def quota_chat(
    db: Database, data_dir: Path, clock: FixedClock, quota: AIQuota, telegram_id: int = ANNA
) -> Chat:
    conversation = open_conversation(db, data_dir, clock=clock, quota=quota)
    return Chat(conversation, sender(telegram_id))


async def ai_jobs(db: Database) -> int:
    async with db.transaction() as s:
        query = (
            sa.select(sa.func.count())
            .select_from(JobRow)
            .where(JobRow.kind.in_(["reflection", "weapon_insight", "coach_answer"]))
        )
        return int(await s.scalar(query) or 0)


async def ask_coach(chat: Chat, question: str) -> str:
    await chat.say("/annuleer")  # out of an open thread: /coach there shows the thread
    await chat.say("/coach")
    await chat.say(question)
    await chat.press("Vraag het")
    return chat.text


async def test_coach_again_and_trends_share_the_hourly_quota(db: Database, tmp_path: Path) -> None:
    _, weapon, session = await seed(db)
    clock = FixedClock(NOW)  # 19:30 in Amsterdam
    chat = quota_chat(db, tmp_path, clock, AIQuota(per_hour=3, per_day=10))
    assert "denkt na" in await ask_coach(chat, "Waarom trek ik naar links?")
    await chat.do(Press(f"!r:{session}"))
    assert "nieuwe reflectie" in chat.text
    await chat.do(Press(f"!t:{weapon}"))
    assert "trends van je CZ 75" in chat.text
    assert await ai_jobs(db) == 3

    await chat.say("En waarom naar rechts?")  # a follow-up in the open thread
    assert "Je AI-vragen zijn voor nu op (hoogstens 3 per uur)" in chat.text
    assert "vanaf 20:30" in chat.text
    assert "niets in de wachtrij" in chat.text
    _, other_weapon, other_session = await seed(db)
    await chat.do(Press(f"!t:{other_weapon}"))
    assert "vanaf 20:30" in chat.text
    await chat.do(Press(f"!r:{other_session}"))
    assert "vanaf 20:30" in chat.text
    await chat.do(Press(f"!r:{session}"))  # still waiting in the queue: nothing new to count
    assert "nieuwe reflectie" in chat.text
    assert await ai_jobs(db) == 3
    async with db.transaction() as s:  # the refused question was not stored either
        assert await s.scalar(sa.select(sa.func.count()).select_from(CoachMessageRow)) == 2

    await chat.say("/coach")  # in the thread: shown again, saying when it may go on
    assert "Waarom trek ik naar links?" in chat.text
    assert "De coach kan je nu geen vragen beantwoorden" in chat.text
    assert "Typ je vervolgvraag" not in chat.text
    await chat.say("/annuleer")
    await chat.say("/coach")  # a new question: told before it is typed
    assert "De coach kan je nu geen vragen beantwoorden" in chat.text
    assert "Vanaf 20:30 kan het weer" in chat.text

    clock.advance(timedelta(hours=1))
    assert "denkt na" in await ask_coach(chat, "En nu?")
    assert await ai_jobs(db) == 4


async def test_pressing_again_while_the_request_waits_queues_nothing_and_is_not_refused(
    db: Database, tmp_path: Path
) -> None:
    _, _, session = await seed(db)
    chat = quota_chat(db, tmp_path, FixedClock(NOW), AIQuota(per_hour=1, per_day=1))
    for _ in range(3):
        await chat.do(Press(f"!r:{session}"))
        assert "nieuwe reflectie" in chat.text
    assert await ai_jobs(db) == 1


async def test_the_day_quota_says_tomorrow(db: Database, tmp_path: Path) -> None:
    _, weapon, _ = await seed(db)
    clock = FixedClock(NOW)
    chat = quota_chat(db, tmp_path, clock, AIQuota(per_hour=2, per_day=3))
    await ask_coach(chat, "Een")
    await chat.say("Twee")
    clock.advance(timedelta(hours=2))
    await chat.say("Drie")
    assert "komt" in chat.text or "denkt" in chat.text
    clock.advance(timedelta(hours=2))
    await chat.do(Press(f"!t:{weapon}"))
    assert "hoogstens 3 per 24 uur" in chat.text
    assert "vanaf morgen 19:30" in chat.text
    assert await ai_jobs(db) == 3


async def test_a_session_saved_over_the_quota_is_saved_without_its_reflection(
    db: Database, tmp_path: Path
) -> None:
    _, weapon, session = await seed(db)
    clock = FixedClock(NOW)
    chat = quota_chat(db, tmp_path, clock, AIQuota(per_hour=1, per_day=5))
    await chat.do(Press(f"!t:{weapon}"))
    assert await ai_jobs(db) == 1
    await chat.say("CZ 75 25m 50 schoten 431")
    await chat.press("Opslaan")
    assert "Opgeslagen" in chat.text
    assert "Geen AI-reflectie op deze sessie" in chat.text
    assert "Vanaf 20:30" in chat.text
    assert await count(db, SessionRow) == 2
    assert await ai_jobs(db) == 1
    later = chat.button("Reflectie maken")
    assert later.startswith("!r:")
    assert later != f"!r:{session}"

    clock.advance(timedelta(hours=1))  # the button works later, and never expires
    await chat.say("/sessies")
    await chat.do(Press(later))
    assert "nieuwe reflectie" in chat.text
    assert await ai_jobs(db) == 2


async def test_a_restart_does_not_reset_the_quota(db: Database, tmp_path: Path) -> None:
    _, weapon, _ = await seed(db)
    clock = FixedClock(NOW)
    quota = AIQuota(per_hour=2, per_day=10)
    first = quota_chat(db, tmp_path, clock, quota)
    await ask_coach(first, "Een")
    await first.say("Twee")
    assert await ai_jobs(db) == 2
    restarted = quota_chat(db, tmp_path, clock, quota)  # a new process: nothing in memory
    await restarted.do(Press(f"!t:{weapon}"))
    assert "vanaf 20:30" in restarted.text
    assert await ai_jobs(db) == 2


async def test_each_user_has_their_own_quota(db: Database, tmp_path: Path) -> None:
    _, anna_weapon, _ = await seed(db, ANNA)
    _, bob_weapon, _ = await seed(db, BOB)
    clock = FixedClock(NOW)
    quota = AIQuota(per_hour=1, per_day=1)
    anna = quota_chat(db, tmp_path, clock, quota, ANNA)
    bob = quota_chat(db, tmp_path, clock, quota, BOB)
    await anna.do(Press(f"!t:{anna_weapon}"))
    await anna.say("/coach")
    assert "De coach kan je nu geen vragen" in anna.text
    await bob.do(Press(f"!t:{bob_weapon}"))
    assert "trends van je CZ 75" in bob.text
    assert await ai_jobs(db) == 2


@pytest.mark.parametrize("limits", [Limits(), None], ids=["no quota", "console"])
async def test_without_a_quota_nothing_is_refused(
    db: Database, tmp_path: Path, limits: Limits | None
) -> None:
    _, weapon, _ = await seed(db)
    conversation = open_conversation(db, tmp_path, limits=limits)
    if limits is None:  # as for the console chat: no limits at all
        conversation = build_conversation(
            db,
            clock=FixedClock(NOW),
            data_dir=tmp_path,
            access=Access(telegram_ids=frozenset({ANNA, BOB}), console=False),
        )
    chat = Chat(conversation, sender(ANNA))
    for _ in range(5):
        await ask_coach(chat, "Waarom?")
        assert "denkt na" in chat.text
    await chat.do(Press(f"!t:{weapon}"))
    assert await ai_jobs(db) == 6
