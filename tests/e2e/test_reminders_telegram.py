"""Reminders on Telegram, end to end: ``run_telegram`` (real PTB, its JobQueue running the
reminder scan and ticking the worker) against the fake Bot API, with a fake clock inside the
daytime window. A due reminder reaches the chat once, however often the bot restarts; its button
switches reminders off. Every call is validated against the Bot API spec (the ``api`` fixture).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from aimtrack.assembly import assemble
from aimtrack.bot.app import command_menu
from aimtrack.bot.transports.telegram.service import TelegramOptions, run_telegram
from aimtrack.core.access import Access
from aimtrack.core.clock import FixedClock
from aimtrack.core.model import JobStatus, ProfileSpec
from aimtrack.jobs.reminders import REMINDER, ReminderScan, running_transports
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ProfileRepo, UserDirectory
from tests.helpers.fakebotapi import Call, FakeBotAPI
from tests.helpers.telegram import (
    ANNA,
    jobs,
    keyboard,
    plain,
    settled,
    stop_bot,
    tap,
    until,
)

NOW = datetime(2026, 12, 2, 11, tzinfo=UTC)  # 12:00 in Amsterdam
REMINDER_TEXT = "Je verlof verloopt op zo 31-01-2027."
STOP = [[("🔕 Herinneringen uit", "!n:off")]]


class CountedScan(ReminderScan):
    """The real scan, counting its runs, so a test knows the schedule had its chance."""

    runs = 0

    async def run(self) -> int:
        try:
            return await super().run()
        finally:
            self.runs += 1


async def anna_is_due(db: Database) -> int:
    """Anna: reminders on, her licence expires within four months, no shooting days yet."""
    async with db.transaction() as s:
        account = await UserDirectory(s).register("telegram", str(ANNA), allowed=True)
        profiles = ProfileRepo(s, account.user_id)
        await profiles.update(ProfileSpec(display_name="Anna", licence_expiry=date(2027, 1, 31)))
        await profiles.set_reminders(on=True)
    return account.user_id


@asynccontextmanager
async def reminding_bot(
    api: FakeBotAPI, db: Database, data_dir: Path, *, sends: bool = True
) -> AsyncIterator[CountedScan]:
    """``run_telegram`` as ``aimtrack run`` calls it, with the reminder scan every 0.3 s; with
    ``sends=False`` its worker leaves reminder jobs alone (a process stopped before sending)."""
    options = TelegramOptions(
        api.token, api.base_url.removesuffix("/bot"), job_poll_s=0.3, reminder_scan_s=0.3
    )
    clock = FixedClock(NOW)
    access = Access(telegram_ids=frozenset({ANNA}), console=False)
    bot = assemble(db, clock=clock, data_dir=data_dir, access=access)
    if not sends:
        del bot.worker.handlers[REMINDER]  # it claims only the kinds it has handlers for
    scan = CountedScan(db, clock=clock, access=access, reachable=running_transports(bot.messengers))
    polls = len(api.calls_to("getUpdates"))
    running = asyncio.create_task(
        run_telegram(
            options, bot.conversation, bot.worker, bot.messengers, menu=command_menu, reminders=scan
        )
    )
    try:
        await until(lambda: len(api.calls_to("getUpdates")) > polls or running.done(), "a poll")
        if running.done():
            running.result()  # raises what stopped it
        yield scan
    finally:
        await stop_bot(running)


def reminders(api: FakeBotAPI) -> list[Call]:
    return [
        call
        for call in api.calls_to("sendMessage")
        if call.status == 200 and REMINDER_TEXT in plain(call)
    ]


async def test_a_due_reminder_reaches_the_chat_once_across_a_restart(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    await anna_is_due(db)
    async with reminding_bot(api, db, tmp_path) as scan:
        await until(lambda: len(reminders(api)) == 1, "the reminder")
        await until(lambda: scan.runs >= 3, "more scans")
        await settled(db, 1)
    async with reminding_bot(api, db, tmp_path) as scan:
        await until(lambda: scan.runs >= 3, "scans after the restart")
        await settled(db, 1)

    (sent,) = reminders(api)
    assert sent.params["chat_id"] == ANNA
    shown = plain(sent)
    assert shown.startswith("🔔 Herinnering")
    assert "Schietdagen in de afgelopen 12 maanden: 0 van de 18; je hebt er nog 18 nodig." in shown
    assert keyboard(sent) == STOP
    (job,) = await jobs(db)
    assert (job.kind, job.status, job.attempts) == (REMINDER, JobStatus.SUCCEEDED, 1)
    assert job.sent_message_id is not None


async def test_a_reminder_queued_by_a_bot_that_stopped_before_sending_arrives_once(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    await anna_is_due(db)
    async with reminding_bot(api, db, tmp_path, sends=False) as scan:
        await until(lambda: scan.runs >= 2, "the scan")
        (job,) = await jobs(db)
    assert job.status is JobStatus.PENDING
    assert reminders(api) == []

    async with reminding_bot(api, db, tmp_path) as scan:
        await until(lambda: len(reminders(api)) == 1, "the reminder after the restart")
        await until(lambda: scan.runs >= 3, "more scans")
        await settled(db, 1)
    async with reminding_bot(api, db, tmp_path) as scan:
        await until(lambda: scan.runs >= 3, "scans after another restart")
        await settled(db, 1)

    (sent,) = reminders(api)
    assert keyboard(sent) == STOP
    (done,) = await jobs(db)
    assert (done.id, done.status) == (job.id, JobStatus.SUCCEEDED)


async def test_the_button_under_a_reminder_switches_reminders_off(
    api: FakeBotAPI, db: Database, tmp_path: Path
) -> None:
    uid = await anna_is_due(db)
    async with reminding_bot(api, db, tmp_path):
        await until(lambda: len(reminders(api)) == 1, "the reminder")
        said = await tap(api, "Herinneringen uit", "Herinneringen staan uit")
    assert "Herinneringen staan uit; zet ze weer aan in /profiel." in said
    assert api.calls_to("answerCallbackQuery")
    async with db.transaction(read_only=True) as s:
        assert (await ProfileRepo(s, uid).get()).reminders is False
