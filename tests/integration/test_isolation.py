"""Every method of every user-scoped repository, called as user B against user A's rows.

Nothing of A's may be read, changed or deleted. The table of attacks must name every public
method: a new method without an attack fails ``test_every_method_is_attacked``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import aimtrack.storage.repos
from aimtrack.core.errors import NotFound
from aimtrack.core.model import (
    AIAudit,
    AIStatus,
    AttachmentOwner,
    AttachmentSpec,
    ConversationState,
    EntrySpec,
    MessageRole,
    ProfileSpec,
    ReminderKind,
    SessionSpec,
    WeaponSpec,
)
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import (
    AIRepo,
    AttachmentRepo,
    CoachRepo,
    ConversationRepo,
    ProfileRepo,
    ReminderLog,
    SessionRepo,
    UserDataRepo,
    UserScopedRepo,
    WeaponRepo,
)
from aimtrack.storage.repos.attachments import user_folder
from aimtrack.storage.tables import Base, CoachMessageRow, UserRow
from tests.helpers.factories import Seeded, attachment_spec, seed_user

Attack = Callable[[Any, Seeded, Seeded], Awaitable[Any]]
Check = Callable[[Any, Seeded, Seeded], bool]

RAISES_NOT_FOUND: Check = lambda _result, _a, _b: False  # noqa: E731 - a sentinel


@dataclass(frozen=True)
class Case:
    repo: type[UserScopedRepo]
    method: str
    attack: Attack
    check: Check = RAISES_NOT_FOUND

    @property
    def id(self) -> str:
        return f"{self.repo.__name__}.{self.method}"


def _none(result: Any, _a: Seeded, _b: Seeded) -> bool:
    return result is None


def _empty(result: Any, _a: Seeded, _b: Seeded) -> bool:
    return result in ([], {}, 0, False)


def _own_only(result: Any, _a: Seeded, _b: Seeded) -> bool:
    """Data may come back, but only B's (A's marker is checked for every result anyway)."""
    return True


def _spec_session() -> SessionSpec:
    return SessionSpec(occurred_on=date(2026, 11, 21), club="B club")


def _attach(b: Seeded, owner: AttachmentOwner, owner_id: int) -> AttachmentSpec:
    """B's own file (in B's folder) pointed at ``owner_id``."""
    return attachment_spec(owner, owner_id, f"{user_folder(b.user_id)}{owner}-{owner_id}.jpg")


async def _all_raise(*calls: Awaitable[Any]) -> None:
    for call in calls:
        with pytest.raises(NotFound):
            await call


AUDIT = AIAudit(status=AIStatus.FAILED, error="B overwrote")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

CASES = [
    # weapons
    Case(WeaponRepo, "add", lambda r, a, b: r.add(WeaponSpec(name="B new")), _own_only),
    Case(WeaponRepo, "get", lambda r, a, b: r.get(a.weapon_used)),
    Case(
        WeaponRepo, "list_weapons", lambda r, a, b: r.list_weapons(include_retired=True), _own_only
    ),
    Case(
        WeaponRepo, "update", lambda r, a, b: r.update(a.weapon_used, WeaponSpec(name="B took it"))
    ),
    Case(WeaponRepo, "retire", lambda r, a, b: r.retire(a.weapon_used, on=date(2026, 1, 1))),
    Case(WeaponRepo, "reactivate", lambda r, a, b: r.reactivate(a.weapon_unused)),
    Case(WeaponRepo, "delete", lambda r, a, b: r.delete(a.weapon_unused)),
    Case(
        WeaponRepo,
        "usage",
        lambda r, a, b: r.usage(),
        lambda result, a, b: set(result) == {b.weapon_used},
    ),
    # sessions and entries
    Case(
        SessionRepo,
        "create",
        lambda r, a, b: r.create(
            _spec_session(), [EntrySpec(weapon_id=a.weapon_used, distance_m=25, shots=5)]
        ),
    ),
    Case(SessionRepo, "get", lambda r, a, b: r.get(a.session)),
    Case(
        SessionRepo,
        "list_sessions",
        lambda r, a, b: r.list_sessions(limit=100),
        lambda result, a, b: [s.id for s in result] == [b.session],
    ),
    Case(SessionRepo, "count", lambda r, a, b: r.count(), lambda result, a, b: result == 1),
    Case(SessionRepo, "update", lambda r, a, b: r.update(a.session, _spec_session())),
    Case(SessionRepo, "delete", lambda r, a, b: r.delete(a.session)),
    Case(
        SessionRepo,
        "add_entry",
        lambda r, a, b: _all_raise(
            r.add_entry(a.session, EntrySpec(weapon_id=b.weapon_used, distance_m=25, shots=5)),
            r.add_entry(b.session, EntrySpec(weapon_id=a.weapon_used, distance_m=25, shots=5)),
        ),
        _none,
    ),
    Case(
        SessionRepo,
        "update_entry",
        lambda r, a, b: _all_raise(
            r.update_entry(a.entry, EntrySpec(weapon_id=b.weapon_used, distance_m=10, shots=1)),
            r.update_entry(b.entry, EntrySpec(weapon_id=a.weapon_used, distance_m=10, shots=1)),
        ),
        _none,
    ),
    Case(SessionRepo, "delete_entry", lambda r, a, b: r.delete_entry(a.entry)),
    Case(
        SessionRepo,
        "history",
        lambda r, a, b: _collect(
            r.history(), r.history(weapon_id=a.weapon_used, since=date(2000, 1, 1))
        ),
        lambda result, a, b: [[s.id for s in found] for found in result] == [[b.session], []],
    ),
    Case(
        SessionRepo,
        "between",
        lambda r, a, b: _collect(
            r.between(date(2000, 1, 1), date(2100, 1, 1)),
            r.between(date(2000, 1, 1), date(2100, 1, 1), weapon_id=a.weapon_used),
        ),
        lambda result, a, b: [[s.id for s in found] for found in result] == [[b.session], []],
    ),
    Case(
        SessionRepo,
        "shooting_days",
        lambda r, a, b: _days_beside(r, b),
        lambda result, a, b: result == [date(2026, 11, 1)],
    ),
    Case(
        SessionRepo,
        "recent_clubs",
        lambda r, a, b: r.recent_clubs(),
        lambda result, a, b: result == [f"{b.marker} club"],
    ),
    Case(
        SessionRepo,
        "recent_distances",
        lambda r, a, b: r.recent_distances(a.weapon_used),
        lambda result, a, b: result == [],
    ),
    # attachments
    Case(
        AttachmentRepo,
        "add",
        lambda r, a, b: _all_raise(
            r.add(_attach(b, AttachmentOwner.SESSION, a.session)),
            r.add(_attach(b, AttachmentOwner.ENTRY, a.entry)),
            r.add(_attach(b, AttachmentOwner.WEAPON, a.weapon_used)),
        ),
        _none,
    ),
    Case(AttachmentRepo, "get", lambda r, a, b: r.get(a.attachment_session)),
    Case(
        AttachmentRepo,
        "list_for",
        lambda r, a, b: _collect(
            r.list_for(AttachmentOwner.SESSION, a.session),
            r.list_for(AttachmentOwner.ENTRY, a.entry),
            r.list_for(AttachmentOwner.WEAPON, a.weapon_unused),
        ),
        lambda result, a, b: result == [[], [], []],
    ),
    Case(AttachmentRepo, "delete", lambda r, a, b: r.delete(a.attachment_weapon)),
    # AI results
    Case(AIRepo, "reflection", lambda r, a, b: r.reflection(a.session), _none),
    Case(
        AIRepo,
        "save_reflection",
        lambda r, a, b: r.save_reflection(a.session, audit=AUDIT, summary="B"),
    ),
    Case(AIRepo, "mark_reflection", lambda r, a, b: r.mark_reflection(a.session, AIStatus.PENDING)),
    Case(AIRepo, "weapon_insight", lambda r, a, b: r.weapon_insight(a.weapon_used), _none),
    Case(
        AIRepo,
        "mark_weapon_insight",
        lambda r, a, b: r.mark_weapon_insight(a.weapon_used, AIStatus.PENDING),
    ),
    Case(
        AIRepo,
        "save_weapon_insight",
        lambda r, a, b: r.save_weapon_insight(a.weapon_used, audit=AUDIT, trends="B"),
    ),
    # coach
    Case(
        CoachRepo,
        "start_thread",
        lambda r, a, b: r.start_thread(title="B?", weapon_id=a.weapon_used),
    ),
    Case(CoachRepo, "get_thread", lambda r, a, b: r.get_thread(a.thread)),
    Case(
        CoachRepo,
        "threads",
        lambda r, a, b: r.threads(limit=100),
        lambda result, a, b: len(result) == 1,
    ),
    Case(
        CoachRepo,
        "add_message",
        lambda r, a, b: r.add_message(a.thread, role=MessageRole.USER, content="B injects"),
    ),
    Case(
        CoachRepo,
        "update_message",
        lambda r, a, b: _overwrite_answer_of(r, a),
    ),
    Case(CoachRepo, "messages", lambda r, a, b: r.messages(a.thread)),
    # conversation state
    Case(ConversationRepo, "load", lambda r, a, b: r.load("telegram", a.chat_id), _none),
    Case(
        ConversationRepo,
        "save",
        lambda r, a, b: r.save(
            ConversationState(transport="telegram", chat_id=a.chat_id, flow="x", step="y")
        ),
        lambda result, a, b: result.draft == {},
    ),
    Case(ConversationRepo, "clear", lambda r, a, b: r.clear("telegram", a.chat_id), _empty),
    # profile
    Case(
        ProfileRepo,
        "get",
        lambda r, a, b: r.get(),
        lambda result, a, b: result.user_id == b.user_id,
    ),
    Case(
        ProfileRepo,
        "update",
        lambda r, a, b: r.update(ProfileSpec(display_name="B renamed")),
        lambda result, a, b: result.user_id == b.user_id,
    ),
    Case(
        ProfileRepo,
        "set_reminders",
        lambda r, a, b: r.set_reminders(on=True),
        lambda result, a, b: result.user_id == b.user_id and result.reminders,
    ),
    # reminders on record: B's own, under A's keys too, never A's
    Case(
        ReminderLog,
        "record",
        lambda r, a, b: _collect(
            r.record(ReminderKind.LICENCE, f"{a.marker}-2026-11-20", at=EPOCH),
            r.record(ReminderKind.DRAFT, f"{a.marker}-draft", at=EPOCH),
        ),
        lambda result, a, b: result == [True, True],  # A's records do not count for B
    ),
    Case(
        ReminderLog,
        "since",
        lambda r, a, b: r.since(EPOCH),
        lambda result, a, b: {s.key for s in result} == {"b-data-2026-11-20", "b-data-draft"},
    ),
    Case(
        ReminderLog,
        "among",
        lambda r, a, b: r.among(ReminderKind.DRAFT, [f"{a.marker}-draft", f"{b.marker}-draft"]),
        lambda result, a, b: [s.key for s in result] == ["b-data-draft"],
    ),
    Case(
        ReminderLog,
        "latest",
        lambda r, a, b: _latest_beside(r, b),
        lambda result, a, b: result is not None and result.key == "b-data-2026-11-20",
    ),
    Case(
        ReminderLog,
        "delivered",
        lambda r, a, b: r.delivered(ReminderKind.LICENCE, f"{a.marker}-2026-11-20", at=EPOCH),
        lambda result, a, b: result is False,  # A's record is not B's to move
    ),
    # everything of one user (/mijndata, /verwijder): B's own rows only, and only B's erased
    Case(
        UserDataRepo, "export", lambda r, a, b: r.export(), lambda result, a, b: _all_of(result, b)
    ),
    Case(
        UserDataRepo,
        "counts",
        lambda r, a, b: r.counts(),
        lambda result, a, b: (result["users"], result["sessions"], result["weapons"]) == (1, 1, 2),
    ),
    Case(
        UserDataRepo,
        "erase",
        lambda r, a, b: r.erase(),
        lambda result, a, b: (result["users"], result["sessions"], result["weapons"]) == (1, 1, 2),
    ),
]


def _all_of(data: Any, b: Seeded) -> bool:
    """Every row exported belongs to B (``users`` by its id, the rest by ``user_id``)."""
    return data.user_id == b.user_id and all(
        row["id" if name == "users" else "user_id"] == b.user_id
        for name, rows in data.tables.items()
        for row in rows
    )


async def _days_beside(repo: SessionRepo, b: Seeded) -> list[date]:
    """B's one session moves to a day A never shot; A's day (20 November) must not show."""
    await repo.update(b.session, SessionSpec(occurred_on=date(2026, 11, 1)))
    return await repo.shooting_days(until=date(2100, 1, 1))


async def _latest_beside(repo: ReminderLog, b: Seeded) -> Any:
    """B's licence reminder moves back in time, behind A's; B's latest is still B's own."""
    await repo.delivered(ReminderKind.LICENCE, f"{b.marker}-2026-11-20", at=EPOCH)
    return await repo.latest(ReminderKind.LICENCE)


async def _collect(*calls: Awaitable[Any]) -> list[Any]:
    return [await call for call in calls]


async def _overwrite_answer_of(repo: CoachRepo, a: Seeded) -> Any:
    """B names A's assistant answer by id (looked up here, as a forged id would be)."""
    answer = await repo.db.scalar(
        sa.select(CoachMessageRow.id).where(
            CoachMessageRow.user_id == a.user_id, CoachMessageRow.role == MessageRole.ASSISTANT
        )
    )
    assert answer is not None
    return await repo.update_message(
        answer, content="B overwrote", status=AIStatus.SUCCEEDED, provider="B", error=None
    )


def scoped_repo_classes() -> set[type[UserScopedRepo]]:
    """Every UserScopedRepo subclass that AimTrack itself defines."""
    found: set[type[UserScopedRepo]] = set()
    pending = list(UserScopedRepo.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("aimtrack."):
            found.add(cls)
    return found


def public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def test_every_method_is_attacked() -> None:
    assert aimtrack.storage.repos.__all__  # every repository module is imported
    classes = scoped_repo_classes()
    assert classes  # guards against a discovery that finds nothing
    expected = {(cls, name) for cls in classes for name in public_methods(cls)}
    covered = {(case.repo, case.method) for case in CASES}
    missing = sorted(f"{cls.__name__}.{name}" for cls, name in expected - covered)
    stale = sorted(f"{cls.__name__}.{name}" for cls, name in covered - expected)
    assert not missing, f"add an isolation attack for: {missing}"
    assert not stale, f"attacks name methods that no longer exist: {stale}"


async def snapshot(db: AsyncSession, user_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of one user, in every table."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        if "user_id" in table.c:
            condition = table.c.user_id == user_id
        elif table.name == UserRow.__tablename__:
            condition = table.c.id == user_id
        else:
            continue
        result = await db.execute(
            sa.select(table).where(condition).order_by(*table.primary_key.columns)
        )
        rows[table.name] = [tuple(row) for row in result]
    return rows


async def run_attack(
    database: Database, case: Case, repo_cls: type[UserScopedRepo] | None = None
) -> None:
    """Seed A then B, run the attack as B, and assert A's data is untouched and unseen."""
    async with database.transaction() as db:
        a = await seed_user(db, telegram_id=1001, marker="SECRET-A")
        b = await seed_user(db, telegram_id=2002, marker="b-data")
    async with database.transaction() as db:
        before = await snapshot(db, a.user_id)
    assert all(before[name] for name in ("weapons", "sessions", "attachments", "coach_messages"))

    raised = False
    result: Any = None
    async with database.transaction() as db:
        repo = (repo_cls or case.repo)(db, b.user_id)
        try:
            result = await case.attack(repo, a, b)
        except NotFound:
            raised = True

    if case.check is RAISES_NOT_FOUND:
        assert raised, f"{case.id} reached A's row instead of raising NotFound: {result!r}"
    else:
        assert not raised, f"{case.id} raised NotFound where B's own data was expected"
        assert "SECRET-A" not in repr(result), f"{case.id} returned A's data: {result!r}"
        assert case.check(result, a, b), f"{case.id} returned {result!r}"

    async with database.transaction() as db:
        after = await snapshot(db, a.user_id)
    assert after == before, f"{case.id} changed A's rows"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_user_b_cannot_touch_user_a(db: Database, case: Case) -> None:
    await run_attack(db, case)


async def test_the_attack_catches_a_repo_that_forgets_the_scope(db: Database) -> None:
    """The harness itself can fail: an unscoped ``get`` is reported."""

    class LeakyWeaponRepo(WeaponRepo):
        async def get(self, weapon_id: int) -> Any:
            from aimtrack.core.model import Weapon  # noqa: PLC0415
            from aimtrack.storage.repos.base import to_domain  # noqa: PLC0415
            from aimtrack.storage.tables import WeaponRow  # noqa: PLC0415

            row = await self.db.scalar(sa.select(WeaponRow).where(WeaponRow.id == weapon_id))
            return to_domain(Weapon, row)

    case = next(c for c in CASES if c.id == "WeaponRepo.get")
    with pytest.raises(AssertionError, match="reached A's row"):
        await run_attack(db, case, repo_cls=LeakyWeaponRepo)
