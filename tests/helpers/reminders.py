"""The reminder scan and job on a real database, as the tests rig them: five users with a
licence about to expire and a draft left open, a fixed clock inside the reminders' window, a
worker beside the conversation, Telegram's pushes recorded (the ``rig`` fixture,
``tests/integration/conftest.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from aimtrack.bot.app import build_conversation
from aimtrack.bot.conversation import Conversation
from aimtrack.bot.io import Button
from aimtrack.core.access import Access
from aimtrack.core.clock import FixedClock
from aimtrack.core.model import (
    EntrySpec,
    Job,
    Language,
    ProfileSpec,
    SentReminder,
    SessionSpec,
    SessionStatus,
    Transport,
    WeaponSpec,
)
from aimtrack.jobs.reminders import REMINDER, ReminderScan, running_transports
from aimtrack.jobs.worker import JobWorker
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import (
    JobQueue,
    ProfileRepo,
    ReminderLog,
    SessionRepo,
    UserDirectory,
    WeaponRepo,
)
from aimtrack.storage.tables import SessionRow
from tests.helpers.jobs import job_worker
from tests.helpers.outbox import Outbox, recording

NOW = datetime(2026, 12, 2, 11, tzinfo=UTC)  # 12:00 in Amsterdam: inside the window
EXPIRY = date(2027, 1, 31)
ANNA, BOB, CARLA, DIRK = 111, 222, 333, 444
STOP = (Button("🔕 Herinneringen uit", "!n:off"),)


@dataclass
class Rig:
    db: Database
    clock: FixedClock
    conversation: Conversation
    worker: JobWorker
    scan: ReminderScan
    outbox: Outbox
    users: dict[str, int]

    async def jobs(self) -> list[Job]:
        async with self.db.transaction(read_only=True) as s:
            return [j for j in reversed(await JobQueue(s).list_jobs()) if j.kind == REMINDER]

    async def on_record(self, name: str) -> list[SentReminder]:
        async with self.db.transaction(read_only=True) as s:
            return await ReminderLog(s, self.users[name]).since(datetime(2000, 1, 1, tzinfo=UTC))

    async def set_reminders(self, name: str, *, on: bool) -> None:
        async with self.db.transaction() as s:
            await ProfileRepo(s, self.users[name]).set_reminders(on=on)

    def texts(self, chat_id: str) -> list[str]:
        return self.outbox.texts(chat_id)


async def reminder_user(
    db: Database,
    telegram_id: int | None,
    *,
    reminders: bool,
    allowed: bool = True,
    console: str | None = None,
    language: Language = Language.NL,
) -> int:
    """A user with a licence expiring within four months, three shooting days and a draft
    left open for two days."""
    async with db.transaction() as s:
        users = UserDirectory(s)
        if telegram_id is None:
            assert console is not None
            account = await users.register("console", console, allowed=allowed)
        else:
            account = await users.register("telegram", str(telegram_id), allowed=allowed)
        uid = account.user_id
        profiles = ProfileRepo(s, uid)
        await profiles.update(
            ProfileSpec(display_name=f"user {uid}", language=language, licence_expiry=EXPIRY)
        )
        await profiles.set_reminders(on=reminders)
        if not allowed and telegram_id is not None:
            await users.deny_telegram(telegram_id)
        weapon = await WeaponRepo(s, uid).add(WeaponSpec(name="CZ 75"))
        sessions = SessionRepo(s, uid)
        for weeks in (1, 5, 9):
            await sessions.create(
                SessionSpec(occurred_on=date(2026, 12, 2) - timedelta(weeks=weeks)),
                [EntrySpec(weapon_id=weapon.id, distance_m=25, shots=50)],
            )
        draft = await sessions.create(
            SessionSpec(occurred_on=date(2026, 11, 30), status=SessionStatus.DRAFT)
        )
        await s.execute(
            sa.update(SessionRow)
            .where(SessionRow.id == draft.id)
            .values(created_at=NOW - timedelta(days=2))
        )
    return uid


async def reminder_rig(db: Database, data_dir: Path) -> Rig:
    """Anna and Dirk due for both reminders; Bob (reminders off), Carla (denied) and Eva (a
    console user: no transport here) not; Dirk allowed by the settings only."""
    users = {
        "anna": await reminder_user(db, ANNA, reminders=True),
        "bob": await reminder_user(db, BOB, reminders=False),
        "carla": await reminder_user(
            db, CARLA, reminders=True, allowed=False
        ),  # denied by the owner
        # Not allowed in the database, but by AIMTRACK_ALLOWED_USERS:
        "dirk": await reminder_user(db, DIRK, reminders=True, allowed=False),
        "eva": await reminder_user(db, None, reminders=True, console="eva"),  # no transport here
    }
    clock = FixedClock(NOW)
    access = Access(telegram_ids=frozenset({DIRK}), console=False)
    conversation = build_conversation(db, clock=clock, data_dir=data_dir, access=access)
    messengers, outbox = recording(Transport.TELEGRAM)
    worker = job_worker(db, clock=clock, data_dir=data_dir, messengers=messengers, access=access)
    scan = ReminderScan(db, clock=clock, access=access, reachable=running_transports(messengers))
    return Rig(db, clock, conversation, worker, scan, outbox, users)
