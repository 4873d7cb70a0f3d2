"""The reminder scan and job on a real database (SQLite and PostgreSQL), with a fake clock and a
recording transport: what is queued, for whom, how often, and what arrives."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aimtrack.bot.io import Button, Press, Sender
from aimtrack.core.model import (
    JobStatus,
    Language,
    ProfileSpec,
    ReminderKind,
    SessionSpec,
    SessionStatus,
)
from aimtrack.storage.repos import (
    ProfileRepo,
    SessionRepo,
)
from tests.helpers.jobs import drain
from tests.helpers.reminders import BOB, NOW, STOP, Rig


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
    assert [sent.reply.buttons for sent in rig.outbox.sent] == [(STOP,)] * 4
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
    buttons = {sent.reply.buttons for sent in rig.outbox.sent if sent.chat_id == "111"}
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
