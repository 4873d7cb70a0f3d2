"""Button data forged to carry another user's ids, for every button that carries an id.

User B walks to the step where a flow shows an id-carrying button, then presses data carrying
user A's id instead of one of their own (a modified client can send any callback data). For
every such verb, nothing of A's may change and nothing of A's may show: every row of A is the
same afterwards, A's marker never appears in anything B is shown, and any job B's turn queued
carries only B's ids. Where the flow goes on from there (ask, next, a format), B goes on, so
an id that slipped into the draft would surface.

``test_every_id_carrying_button_is_attacked`` walks B through every command and the buttons
it shows, and fails for a verb with an id that has no case here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from aimtrack.bot.app import build_conversation
from aimtrack.bot.commands import COMMANDS
from aimtrack.bot.conversation import Conversation
from aimtrack.bot.io import Command, Input, Outcome, Press, Sender, Text
from aimtrack.core.access import Access
from aimtrack.core.clock import FixedClock
from aimtrack.core.model import Language, Transport
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ConversationRepo
from aimtrack.storage.tables import Base, JobRow
from tests.helpers.chat import NOW, buttons_labelled
from tests.helpers.factories import Seeded, seed_user

ANNA, BOB = 111, 222
MARKER = "ANNAMARK"
B_CHAT = "bob-chat"  # not the chat seed_user left a state in


@dataclass(frozen=True)
class Forgery:
    """B reaches a step with ``setup``, presses ``data`` (``{a.<field>}`` filled with A's
    ids; a leading ``!`` is an action, otherwise the current sequence number goes first),
    then presses the buttons labelled ``then`` if the flow offers them."""

    flow: str  # the flow (or "!" for an action) whose button carries the id
    verb: str
    data: str
    setup: Sequence[str] = ()
    then: Sequence[str] = ()

    @property
    def id(self) -> str:
        return f"{self.flow}.{self.verb}:{self.setup[-1] if self.setup else '-'}"


QUICK = "Onbekend 25m 50 schoten 431"  # a quick entry with a weapon to pick
FORGERIES = [
    Forgery("sessions", "v", "v:{a.session}", ["/sessies"]),
    Forgery("sessions", "v", "v:{a.session}", ["/sessies", "v:{b.session}", "del"], ["Ja"]),
    Forgery("session", "w", "w:{a.weapon_used}", ["/sessie"], ["Opslaan"]),
    Forgery("session", "w", "w:{a.weapon_unused}", ["/sessie"]),
    Forgery("session", "qw", "qw:{a.weapon_used}", [QUICK], ["Opslaan"]),
    Forgery("weapons", "v", "v:{a.weapon_used}", ["/wapens"], ["Verwijderen", "Ja"]),
    Forgery("weapons", "v", "v:{a.weapon_unused}", ["/wapens"], ["Verwijderen", "Ja"]),
    Forgery("coach", "t", "t:{a.thread}", ["/coach"]),
    Forgery("coach", "w", "w:{a.weapon_used}", ["/coach", "Waarom naar links?"], ["Vraag het"]),
    Forgery("export", "w", "w:{a.weapon_used}", ["/export", "p:last12"], ["Verder", "CSV"]),
    Forgery("stats", "w", "w:{a.weapon_used}", ["/statistieken"]),
    Forgery("!", "r", "!r:{a.session}"),
    Forgery("!", "r", "!r:{a.session}", ["/sessies"]),
    Forgery("!", "c", "!c:{a.session}", [], ["Waarom?"]),
    Forgery("!", "c", "!c:{a.session}", ["/sessie"]),
    Forgery("!", "t", "!t:{a.weapon_used}"),
    Forgery("!", "t", "!t:{a.weapon_used}", ["/wapens"]),
]
# Buttons whose number is not a row id: a page offset, a distance, an index into the user's
# own draft or list of clubs, yesterday-or-today.
NOT_IDS = {
    ("sessions", "p"),
    ("session", "d"),
    ("session", "del"),
    ("session", "c"),
    ("session", "qd"),
    ("session", "qday"),
    ("stats", "d"),
}


@dataclass
class Bob:
    conversation: Conversation
    a: Seeded
    b: Seeded
    db: Database
    shown: list[str] = field(default_factory=list)  # everything B was shown
    last: Outcome = field(default_factory=Outcome)

    @property
    def sender(self) -> Sender:
        return Sender(Transport.TELEGRAM, str(BOB), B_CHAT, "Bob")

    async def do(self, item: Input) -> Outcome:
        self.last = await self.conversation.handle(self.sender, item)
        for shown in self.last.replies:
            self.shown.append(shown.text)
            self.shown.extend(b.label for row in shown.buttons for b in row)
            self.shown.extend(f"{f.path} {f.name} {f.caption}" for f in shown.files)
        self.shown.append(self.last.notice or "")
        return self.last

    async def seq(self) -> int | None:
        async with self.db.transaction() as s:
            state = await ConversationRepo(s, self.b.user_id).load(Transport.TELEGRAM, B_CHAT)
        return None if state is None else state.draft.get("seq")

    async def flow(self) -> str | None:
        async with self.db.transaction() as s:
            state = await ConversationRepo(s, self.b.user_id).load(Transport.TELEGRAM, B_CHAT)
        return None if state is None else state.flow

    async def step(self, what: str) -> Outcome:
        """A command, a press of ``N:<action>`` (with ``{b.…}``/``{a.…}`` filled in) or text."""
        what = what.format(a=self.a, b=self.b)
        if what.startswith("/"):
            name, _, args = what[1:].partition(" ")
            return await self.do(Command(name, args))
        if what.startswith("!"):
            return await self.do(Press(what))
        if ":" in what or what in {"del", "next", "ask"}:
            return await self.do(Press(f"{await self.seq()}:{what}"))
        return await self.do(Text(what))

    async def press_labelled(self, label: str) -> bool:
        found = buttons_labelled(self.last, label)
        if len(found) != 1:
            return False
        await self.do(Press(found[0]))
        return True


async def _two_users(db: Database, tmp_path: Path) -> Bob:
    async with db.transaction() as s:
        a = await seed_user(s, telegram_id=ANNA, marker=MARKER)
        b = await seed_user(s, telegram_id=BOB, marker="BOBMARK")
    conversation = build_conversation(
        db,
        clock=FixedClock(NOW),
        data_dir=tmp_path,
        access=Access(telegram_ids=frozenset({ANNA, BOB}), console=False),
    )
    return Bob(conversation, a, b, db)


async def _rows_of(db: Database, user_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that belongs to ``user_id`` (the user row by its id)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with db.transaction(read_only=True) as s:
        for table in Base.metadata.sorted_tables:
            if table.name == "users":
                column = table.c.id
            elif "user_id" in table.c:
                column = table.c.user_id
            else:
                continue
            rows = await s.execute(sa.select(table).where(column == user_id))
            found[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return found


async def _jobs(db: Database) -> list[tuple[int | None, dict[str, Any]]]:
    async with db.transaction(read_only=True) as s:
        rows = await s.execute(sa.select(JobRow.user_id, JobRow.payload))
        return [(user_id, dict(payload)) for user_id, payload in rows]


def _ids_in(payload: dict[str, Any], *keys: str) -> set[int]:
    found: set[int] = set()
    for key in keys:
        value = payload.get(key)
        if isinstance(value, int):
            found.add(value)
        elif isinstance(value, list):
            found.update(v for v in value if isinstance(v, int))
    return found


@pytest.mark.parametrize("forgery", FORGERIES, ids=[f.id for f in FORGERIES])
async def test_another_users_id_on_a_button_changes_and_reveals_nothing(
    db: Database, tmp_path: Path, forgery: Forgery
) -> None:
    bob = await _two_users(db, tmp_path)
    a, b = bob.a, bob.b
    before = await _rows_of(db, a.user_id)
    for what in forgery.setup:
        await bob.step(what)
    if forgery.setup and not forgery.data.startswith("!"):
        assert await bob.flow() == forgery.flow, "the setup did not reach the flow"
    await bob.step(forgery.data)
    assert "Er ging iets mis" not in " ".join(bob.shown), "a forged id is not a bug"
    for label in forgery.then:
        if not await bob.press_labelled(label):
            await bob.step(label)  # typed, where the flow asks for text

    assert await _rows_of(db, a.user_id) == before
    assert not [shown for shown in bob.shown if MARKER in shown]
    for user_id, payload in await _jobs(db):
        assert user_id == b.user_id
        assert not _ids_in(payload, "weapon_id", "weapon", "weapons") & {
            a.weapon_used,
            a.weapon_unused,
        }
        assert a.session not in _ids_in(payload, "session_id")
        assert a.thread not in _ids_in(payload, "thread_id")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_every_id_carrying_button_is_attacked(db: Database, tmp_path: Path) -> None:
    """Walk B through every command (and a quick entry, a coach question) and the buttons
    each shows, three presses deep; every verb whose data carries a number must be a forgery
    case above or a number that is not a row id."""
    bob = await _two_users(db, tmp_path)
    starts = [f"/{c.name(Language.NL)}" for c in COMMANDS if c.key not in {"erase", "cancel"}]
    starts += [QUICK, "/coach Waarom naar links?"]
    seen: set[tuple[str, str]] = set()
    for start in starts:
        await _walk(bob, [start], depth=3, seen=seen)
    covered = {(f.flow, f.verb) for f in FORGERIES} | NOT_IDS
    assert seen, "the walk found no button with a number at all"
    assert seen <= covered, f"buttons with ids that no forgery attacks: {seen - covered}"
    for flow, verb in [("sessions", "v"), ("session", "w"), ("weapons", "v"), ("!", "r")]:
        assert (flow, verb) in seen, f"the walk should have found {flow} {verb}"


async def _walk(bob: Bob, path: list[str], *, depth: int, seen: set[tuple[str, str]]) -> None:
    await bob.do(Command("annuleer"))
    for what in path[:-1]:
        await (bob.do(Press(what)) if ":" in what else bob.step(what))
    last = path[-1]
    await (bob.do(Press(last)) if len(path) > 1 else bob.step(last))
    flow = await bob.flow() or "-"
    buttons = [b.data for shown in bob.last.replies for row in shown.buttons for b in row]
    for data in buttons:
        head, _, rest = data.partition(":")
        if head.startswith("!"):
            kind, verb, arg = "!", head[1:], rest
        else:
            verb, _, arg = rest.partition(":")
            kind = flow
        if arg.isdecimal():
            seen.add((kind, verb))
    if depth > 1:
        for data in buttons:
            if data.split(":")[-1] in {"yes", "guard:drop", "all"}:
                continue  # deleting or retrying changes what the next paths find
            await _walk(bob, [*path, data], depth=depth - 1, seen=seen)


@pytest.mark.parametrize(
    ("setup", "data"),
    [
        ("/sessie", "w:abc"),
        ("/sessie", "w:99999999999"),
        (QUICK, "qw:\x1b[31m"),
        (QUICK, "qw:1-2"),
    ],
    ids=["session weapon", "session weapon too long", "quick weapon", "quick weapon dash"],
)
async def test_a_button_id_that_is_no_number_is_not_a_bug(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture, setup: str, data: str
) -> None:
    """Found by tests/unit/test_conversation_properties.py: int() on forged data."""
    bob = await _two_users(db, tmp_path)
    await bob.step(setup)
    with caplog.at_level("ERROR", logger="aimtrack"):
        outcome = await bob.do(Press(f"{await bob.seq()}:{data}"))
    assert "kon ik niet vinden" in outcome.replies[0].text
    assert not caplog.records


async def test_a_distance_button_that_is_no_number_is_out_of_range(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bob = await _two_users(db, tmp_path)
    await bob.step("/sessie")
    await bob.step("w:{b.weapon_used}")
    with caplog.at_level("ERROR", logger="aimtrack"):
        outcome = await bob.do(Press(f"{await bob.seq()}:d:25m"))
    assert "Er ging iets mis" not in " ".join(r.text for r in outcome.replies)
    assert not caplog.records
