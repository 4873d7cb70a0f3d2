"""The reminder scan and job on a real database (SQLite and PostgreSQL), with a fake clock and a
recording transport: what is queued, for whom, how often, and what arrives."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from aimtrack.bot.app import build_conversation
from aimtrack.bot.conversation import Conversation
from aimtrack.bot.io import Button, Press, Reply, Sender
from aimtrack.bot.push import Activity, Messengers
from aimtrack.core.access import Access
from aimtrack.core.clock import FixedClock
from aimtrack.core.model import (
    EntrySpec,
    Job,
    JobStatus,
    Language,
    ProfileSpec,
    ReminderKind,
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
from tests.helpers.jobs import drain, job_worker

NOW = datetime(2026, 12, 2, 11, tzinfo=UTC)  # 12:00 in Amsterdam: inside the window
EXPIRY = date(2027, 1, 31)
ANNA, BOB, CARLA, DIRK = 111, 222, 333, 444
STOP = (Button("🔕 Herinneringen uit", "!n:off"),)


@dataclass
class Outbox:
    sent: list[tuple[str, Reply]] = field(default_factory=list)

    async def push(self, chat_id: str, reply: Reply) -> str:
        self.sent.append((chat_id, reply))
        return f"m{len(self.sent)}"

    async def working(self, chat_id: str, activity: Activity) -> None:
        """Nothing to show."""


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
        return [reply.text for chat, reply in self.outbox.sent if chat == chat_id]


async def _user(
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


@pytest.fixture
async def rig(db: Database, tmp_path: Path) -> Rig:
    users = {
        "anna": await _user(db, ANNA, reminders=True),
        "bob": await _user(db, BOB, reminders=False),
        "carla": await _user(db, CARLA, reminders=True, allowed=False),  # denied by the owner
        # Not allowed in the database, but by AIMTRACK_ALLOWED_USERS:
        "dirk": await _user(db, DIRK, reminders=True, allowed=False),
        "eva": await _user(db, None, reminders=True, console="eva"),  # no transport here
    }
    clock = FixedClock(NOW)
    access = Access(telegram_ids=frozenset({DIRK}), console=False)
    conversation = build_conversation(db, clock=clock, data_dir=tmp_path, access=access)
    messengers = Messengers()
    outbox = Outbox()
    messengers.register(Transport.TELEGRAM, outbox)
    worker = job_worker(db, clock=clock, data_dir=tmp_path, messengers=messengers, access=access)
    scan = ReminderScan(db, clock=clock, access=access, reachable=running_transports(messengers))
    return Rig(db, clock, conversation, worker, scan, outbox, users)


async def test_a_scan_queues_each_due_reminder_once(rig: Rig) -> None:
    assert await rig.scan.run() == 4  # Anna's and Dirk's licence and draft
    assert await rig.scan.run() == 0  # a second scan finds everything on record
    jobs = await rig.jobs()
    queued = sorted((j.payload["chat_id"], j.payload["reminder"]) for j in jobs)
    assert queued == [
        ("111", "draft"),
        ("111", "licence"),
        ("444", "draft"),
        ("444", "licence"),
    ]
    assert {j.payload["transport"] for j in jobs} == {"telegram"}
    assert {j.status for j in jobs} == {JobStatus.PENDING}
    anna = await rig.on_record("anna")
    assert sorted((r.kind, r.key) for r in anna) == sorted(
        (ReminderKind(j.payload["reminder"]), j.payload["key"])
        for j in jobs
        if j.payload["chat_id"] == "111"
    )
    assert {r.sent_at for r in anna} == {NOW}
    for untouched in ("bob", "carla", "eva"):  # off, not allowed, reachable on no transport
        assert await rig.on_record(untouched) == []


async def test_nothing_is_queued_or_recorded_in_the_quiet_hours(rig: Rig) -> None:
    rig.clock.advance(timedelta(hours=8))  # 20:00 in Amsterdam
    assert await rig.scan.run() == 0
    assert await rig.jobs() == []
    assert await rig.on_record("anna") == []


async def test_a_week_later_the_licence_comes_again_but_not_the_draft(rig: Rig) -> None:
    assert await rig.scan.run() == 4
    rig.clock.advance(timedelta(days=6, hours=23, minutes=59))
    assert await rig.scan.run() == 0
    rig.clock.advance(timedelta(minutes=1))
    assert await rig.scan.run() == 2
    later = [j.payload for j in await rig.jobs()][4:]
    assert sorted((p["chat_id"], p["reminder"], p["key"]) for p in later) == [
        ("111", "licence", "2026-12-09"),
        ("444", "licence", "2026-12-09"),
    ]


async def test_the_job_sends_each_reminder_once_with_the_stop_button(rig: Rig) -> None:
    await rig.scan.run()
    await drain(rig.worker)
    licence, draft = rig.texts("111")
    assert licence.startswith("🔔 Herinnering\n\nJe verlof verloopt op zo 31-01-2027.")
    assert (
        "Schietdagen in de afgelopen 12 maanden: 3 van de 18; je hebt er nog 15 nodig." in licence
    )
    assert (
        "Op do 30-09-2027 valt je oudste getelde schietdag (wo 30-09-2026) uit de telling."
        in licence
    )
    assert "Wedstrijden in 2026: KNSA 0 van de 3, club 0 van de 5." in licence
    assert draft.startswith("🔔 Je concept van ma 30-11-2026 (foto nu, details later)")
    assert "/sessie" in draft
    assert [reply.buttons for _, reply in rig.outbox.sent] == [(STOP,)] * 4
    done = await rig.jobs()
    assert {(j.status, j.attempts) for j in done} == {(JobStatus.SUCCEEDED, 1)}
    assert all(j.sent_message_id for j in done)

    await rig.scan.run()
    await drain(rig.worker)
    assert len(rig.outbox.sent) == 4


async def test_in_english(rig: Rig) -> None:
    async with rig.db.transaction() as s:
        profiles = ProfileRepo(s, rig.users["anna"])
        current = await profiles.get()
        await profiles.update(
            ProfileSpec(
                display_name=current.display_name,
                language=Language.EN,
                licence_expiry=current.licence_expiry,
            )
        )
    await rig.scan.run()
    await drain(rig.worker)
    licence, draft = rig.texts("111")
    assert licence.startswith("🔔 Reminder\n\nYour licence expires on Sun 31-01-2027.")
    assert "/session." in draft
    buttons = {reply.buttons for chat, reply in rig.outbox.sent if chat == "111"}
    assert buttons == {((Button("🔕 Stop reminders", "!n:off"),),)}


async def test_reminders_switched_off_before_the_job_runs_send_nothing(rig: Rig) -> None:
    await rig.scan.run()
    await rig.set_reminders("anna", on=False)
    await drain(rig.worker)
    assert rig.texts("111") == []
    assert len(rig.texts("444")) == 2
    assert {j.status for j in await rig.jobs()} == {JobStatus.SUCCEEDED}


async def test_a_draft_finished_before_the_job_runs_is_not_reminded(rig: Rig) -> None:
    await rig.scan.run()
    async with rig.db.transaction() as s:
        sessions = SessionRepo(s, rig.users["anna"])
        (draft,) = await sessions.list_sessions(status=SessionStatus.DRAFT)
        await sessions.update(draft.id, SessionSpec(occurred_on=draft.occurred_on))
    await drain(rig.worker)
    (licence,) = rig.texts("111")
    assert licence.startswith("🔔 Herinnering")


async def test_a_job_that_runs_in_the_quiet_hours_waits_for_the_morning(rig: Rig) -> None:
    rig.clock.advance(timedelta(hours=7, minutes=59))  # 19:59: the scan queues ...
    assert await rig.scan.run() == 4
    rig.clock.advance(timedelta(minutes=31))  # ... but the worker only gets to it at 20:30
    await drain(rig.worker)
    assert rig.outbox.sent == []
    morning = datetime(2026, 12, 3, 9, tzinfo=UTC)  # 10:00 in Amsterdam
    assert {(j.status, j.attempts, j.run_after) for j in await rig.jobs()} == {
        (JobStatus.PENDING, 0, morning)
    }
    rig.clock.advance(morning - rig.clock.now())
    await drain(rig.worker)
    assert len(rig.outbox.sent) == 4


async def test_the_stop_button_switches_reminders_off(rig: Rig) -> None:
    await rig.set_reminders("bob", on=True)
    sender = Sender("telegram", str(BOB), str(BOB), display_name="Bob")
    out = await rig.conversation.handle(sender, Press("!n:off"))
    assert [r.text for r in out.replies] == [
        "Herinneringen staan uit; zet ze weer aan in /profiel."
    ]
    async with rig.db.transaction(read_only=True) as s:
        assert (await ProfileRepo(s, rig.users["bob"]).get()).reminders is False
    forged = await rig.conversation.handle(sender, Press("!n:on"))
    assert forged.replies == ()
    assert forged.notice is not None


async def test_the_console_loop_scans_at_once_and_wakes_the_worker(rig: Rig) -> None:
    stop, woken = asyncio.Event(), asyncio.Event()
    loop = asyncio.create_task(rig.scan.run_every(timedelta(minutes=15), stop=stop, wake=woken.set))
    async with asyncio.timeout(30):  # a deadline, not a measurement
        await woken.wait()
        stop.set()
        await loop  # stops at once, without waiting out its 15 minutes
    assert len(await rig.jobs()) == 4
