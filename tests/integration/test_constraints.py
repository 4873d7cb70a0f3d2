"""The database itself refuses bad states, whatever code writes to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.storage.engine import Database
from aimtrack.storage.tables import (
    EntryRow,
    JobRow,
    ReflectionRow,
    ReminderSentRow,
    SessionRow,
    WeaponRow,
)
from tests.helpers.factories import Seeded, attachment_row, count_rows, seed_user

Build = Callable[[AsyncSession, Seeded, Seeded], Awaitable[None]]


def _entry(owner: Seeded, **overrides: object) -> EntryRow:
    values: dict[str, object] = {
        "user_id": owner.user_id,
        "session_id": owner.session,
        "weapon_id": owner.weapon_used,
        "distance_m": 25,
        "shots": 10,
    }
    values.update(overrides)
    return EntryRow(**values)


async def _add(db: AsyncSession, row: object) -> None:
    db.add(row)
    await db.flush()


async def _steps(*steps: Awaitable[None]) -> None:
    """Run the set-up statements, then the violation, in order."""
    for step in steps:
        await step


async def _raw(db: AsyncSession, sql: str, **params: object) -> None:
    await db.execute(sa.text(sql), params)


VIOLATIONS: dict[str, Build] = {
    "zero shots": lambda db, a, b: _add(db, _entry(a, shots=0)),
    "negative shots": lambda db, a, b: _add(db, _entry(a, shots=-5)),
    "absurd shot count": lambda db, a, b: _add(db, _entry(a, shots=1_000_000)),
    "zero distance": lambda db, a, b: _add(db, _entry(a, distance_m=0)),
    "absurd distance": lambda db, a, b: _add(db, _entry(a, distance_m=50_000)),
    "score above 10.9 a shot": lambda db, a, b: _add(db, _entry(a, shots=10, score_tenths=1091)),
    "negative score": lambda db, a, b: _add(db, _entry(a, score_tenths=-1)),
    "entry with another user's weapon": lambda db, a, b: _add(
        db, _entry(a, weapon_id=b.weapon_used)
    ),
    "entry in another user's session": lambda db, a, b: _add(db, _entry(a, session_id=b.session)),
    "entry with a missing weapon": lambda db, a, b: _add(db, _entry(a, weapon_id=999_999)),
    "second reflection for a session": lambda db, a, b: _add(
        db, ReflectionRow(user_id=a.user_id, session_id=a.session)
    ),
    "reflection on another user's session": lambda db, a, b: _steps(
        # Free the session's one reflection slot first, so only the cross-user key can refuse.
        _raw(db, "DELETE FROM ai_reflections WHERE session_id = :id", id=b.session),
        _add(db, ReflectionRow(user_id=a.user_id, session_id=b.session)),
    ),
    "attachment with two owners": lambda db, a, b: _add(
        db,
        attachment_row(a, "x/two.jpg", session_id=a.session, weapon_id=a.weapon_used),
    ),
    "attachment with no owner": lambda db, a, b: _add(
        db,
        attachment_row(a, "x/none.jpg"),
    ),
    "attachment on another user's session": lambda db, a, b: _add(
        db,
        attachment_row(a, "x/b.jpg", session_id=b.session),
    ),
    "attachment of a forbidden type": lambda db, a, b: _add(
        db,
        attachment_row(a, "x/e.exe", session_id=a.session, mime="application/x-msdownload"),
    ),
    "session ending before it starts": lambda db, a, b: _add(
        db,
        SessionRow(
            user_id=a.user_id,
            occurred_on=date(2026, 1, 1),
            started_at=datetime(2026, 1, 1, 12, tzinfo=UTC),
            ended_at=datetime(2026, 1, 1, 11, tzinfo=UTC),
        ),
    ),
    "job past its attempts": lambda db, a, b: _add(
        db, JobRow(kind="reflect", attempts=6, max_attempts=5)
    ),
    "blank weapon name": lambda db, a, b: _add(
        db, WeaponRow(user_id=a.user_id, name="", weapon_type="pistol")
    ),
    "unknown language (raw SQL)": lambda db, a, b: _raw(
        db, "UPDATE users SET language = 'fr' WHERE id = :id", id=a.user_id
    ),
    "unknown competition type (raw SQL)": lambda db, a, b: _raw(
        db, "UPDATE session_weapon_entries SET competition = 'open' WHERE id = :id", id=a.entry
    ),
    "the same reminder twice": lambda db, a, b: _add(
        db,
        ReminderSentRow(
            user_id=a.user_id, kind="draft", key="A-draft", sent_at=datetime(2026, 1, 1, tzinfo=UTC)
        ),
    ),
    "a reminder without a key": lambda db, a, b: _add(
        db,
        ReminderSentRow(
            user_id=a.user_id, kind="draft", key="", sent_at=datetime(2026, 1, 1, tzinfo=UTC)
        ),
    ),
    "unknown reminder kind (raw SQL)": lambda db, a, b: _raw(
        db, "UPDATE reminders_sent SET kind = 'bogus' WHERE user_id = :id", id=a.user_id
    ),
    "deleting a weapon with history (raw SQL)": lambda db, a, b: _steps(
        # Unlink the coach thread first, so only the logged entries can refuse the delete.
        _raw(db, "UPDATE coach_threads SET weapon_id = NULL WHERE user_id = :id", id=a.user_id),
        _raw(db, "DELETE FROM ai_weapon_insights WHERE weapon_id = :id", id=a.weapon_used),
        _raw(db, "DELETE FROM weapons WHERE id = :id", id=a.weapon_used),
    ),
}


async def _seed(database: Database) -> tuple[Seeded, Seeded]:
    async with database.transaction() as db:
        a = await seed_user(db, telegram_id=1, marker="A")
        b = await seed_user(db, telegram_id=2, marker="B")
    return a, b


@pytest.mark.parametrize("name", list(VIOLATIONS))
async def test_database_refuses(db: Database, name: str) -> None:
    a, b = await _seed(db)
    before = await count_rows(db)
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await VIOLATIONS[name](session, a, b)
    assert await count_rows(db) == before


async def test_naive_datetimes_are_refused_before_they_reach_the_database(db: Database) -> None:
    a, _ = await _seed(db)
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.transaction() as session:
            await _add(
                session,
                SessionRow(
                    user_id=a.user_id,
                    occurred_on=date(2026, 1, 1),
                    started_at=datetime(2026, 1, 1),  # noqa: DTZ001 - the point
                ),
            )


async def test_times_come_back_as_the_same_instant_in_utc(db: Database) -> None:
    a, _ = await _seed(db)
    instant = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)
    local = instant.astimezone(ZoneInfo("Europe/Amsterdam"))  # 00:30 on 1 July, +02:00
    assert local.day == 1
    async with db.transaction() as session:
        row = SessionRow(user_id=a.user_id, occurred_on=date(2026, 7, 1), started_at=local)
        session.add(row)
        await session.flush()
        row_id = row.id
    async with db.transaction() as session:
        stored = await session.scalar(
            sa.select(SessionRow.started_at).where(SessionRow.id == row_id)
        )
    assert stored == instant
    assert stored is not None
    assert stored.tzinfo == UTC
