"""Regressions found in review of /stats, records and streaks, and reminders: each test here
reproduced one finding. Real conversation core on a real database (SQLite,
and PostgreSQL when available), fake clocks, recording transports."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from aimtrack.bot.io import Command, Press, Sender
from aimtrack.core.model import (
    EntrySpec,
    SessionSpec,
    SessionStatus,
    Transport,
    WeaponSpec,
)
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import SessionRepo, UserDirectory, WeaponRepo
from aimtrack.storage.tables import SessionRow
from tests.helpers.chat import NOW, Chat
from tests.helpers.jobs import drain
from tests.helpers.reminders import ANNA, Rig

RECORD = "🏆"


async def _console_user(db: Database, user: str = "anna") -> tuple[int, int]:
    """A console user with one weapon, "CZ 75"; returns (user id, weapon id)."""
    async with db.transaction() as s:
        account = await UserDirectory(s).register(
            Transport.CONSOLE, user, display_name="Anna", allowed=True
        )
        weapon = await WeaponRepo(s, account.user_id).add(WeaponSpec(name="CZ 75"))
        return account.user_id, weapon.id


async def _sessions(
    db: Database, uid: int, weapon_id: int, results: list[tuple[date, int, Decimal | None]]
) -> None:
    async with db.transaction() as s:
        sessions = SessionRepo(s, uid)
        for day, shots, score in results:
            await sessions.create(
                SessionSpec(occurred_on=day),
                [EntrySpec(weapon_id=weapon_id, distance_m=25, shots=shots, score=score)],
            )


async def _quick(chat: Chat, text: str) -> str:
    await chat.say(text)
    await chat.press("Opslaan")
    assert "Opgeslagen" in chat.text, chat.text
    return chat.text


# --- personal bests -----------------------------------------------------------------------


async def test_a_best_older_than_the_newest_thousand_sessions_still_counts(
    db: Database, tmp_path: Path
) -> None:
    """session.py achievements(): the history of a weapon is read newest first with
    limit=MAX_HISTORY (1000). A shooter with more than 1000 sessions of one weapon (ten years
    of twice a week) whose best is older than that is told a worse result is a record."""
    uid, cz = await _console_user(db)
    start = date(2016, 1, 4)
    results: list[tuple[date, int, Decimal | None]] = [(start, 50, Decimal(480))]  # 9,60
    results += [(start + timedelta(days=3 * (i + 1)), 50, Decimal(400)) for i in range(1000)]
    assert results[-1][0] < NOW.date()
    began = time.monotonic()
    await _sessions(db, uid, cz, results)
    assert time.monotonic() - began < 120
    chat = Chat.open(db, tmp_path)
    text = await _quick(chat, "CZ 75 25m 50 schoten 450")  # 9,00: below the 9,60 of 2016
    assert RECORD not in text, text


async def test_editing_a_record_session_does_not_announce_the_record_again(
    db: Database, tmp_path: Path
) -> None:
    """session.py _save()/achievements(): the streak is only told for a *new* session, but
    the personal best is recomputed on every save, so opening an old record in /sessies and
    pressing Opslaan (nothing changed) says "Persoonlijk record" again, every time."""
    uid, cz = await _console_user(db)
    await _sessions(db, uid, cz, [(date(2026, 11, 2), 50, Decimal(425))])
    chat = Chat.open(db, tmp_path)
    assert RECORD in await _quick(chat, "CZ 75 25m 50 schoten 431")  # a real record
    await chat.say("/sessies")
    await chat.press("23-11-2026")
    await chat.press("Wijzigen")
    await chat.press("Opslaan")
    assert "Opgeslagen" in chat.text
    assert RECORD not in chat.text, chat.text


# --- /stats ---------------------------------------------------------------------------------


async def test_the_streak_does_not_depend_on_the_period_shown(db: Database, tmp_path: Path) -> None:
    """flows/stats.py _view(): the history read for the text starts a year and a week back
    (unless the period reaches further), and week_streak() counts over that history. Seventy
    weeks in a row read as 53 or 54 in the default view and 70 under "Alles"."""
    uid, cz = await _console_user(db)
    monday = date(2026, 11, 23)
    await _sessions(
        db, uid, cz, [(monday - timedelta(weeks=w, days=2), 50, None) for w in range(70)]
    )
    chat = Chat.open(db, tmp_path)
    await chat.say("/stats")
    twelve_months = next(line for line in chat.text.split("\n") if "🔥" in line)
    await chat.press("Alles")
    all_time = next(line for line in chat.text.split("\n") if "🔥" in line)
    assert "🔥 70 weken op rij geschoten" in all_time
    assert twelve_months == all_time


async def test_a_weapon_button_selects_that_weapon(db: Database, tmp_path: Path) -> None:
    """flows/stats.py _buttons()/_used_weapons(): weapon buttons are made from the whole
    history read (about a year), but _select() only accepts a weapon used in the *period*.
    In "3 mnd" a weapon last used six months ago has a button that does nothing: the press
    silently shows the other weapon again, without a word."""
    uid, cz = await _console_user(db)
    async with db.transaction() as s:
        old = await WeaponRepo(s, uid).add(WeaponSpec(name="Anschütz"))
    await _sessions(db, uid, cz, [(date(2026, 11, 14), 50, Decimal(450))])
    async with db.transaction() as s:
        await SessionRepo(s, uid).create(
            SessionSpec(occurred_on=date(2026, 5, 16)),
            [EntrySpec(weapon_id=old.id, distance_m=50, shots=60, score=Decimal(540))],
        )
    chat = Chat.open(db, tmp_path)
    await chat.say("/stats")
    await chat.press("3 mnd")
    assert "✓ 3 mnd" in chat.labels()
    if any("Anschütz" in label for label in chat.labels()):  # offered, so it must work
        await chat.press("Anschütz")
        assert "✓ Anschütz" in chat.labels(), chat.labels()


async def test_a_last_result_of_zero_is_shown_as_zero(db: Database, tmp_path: Path) -> None:
    """flows/stats.py _focus_line(): ``last=number(at.last_per_shot or at.mean_per_shot)``.
    Decimal("0.00") is falsy, so a last result of 0 points is shown as the mean instead."""
    uid, cz = await _console_user(db)
    await _sessions(
        db,
        uid,
        cz,
        [
            (date(2026, 11, 7), 50, Decimal(450)),
            (date(2026, 11, 14), 50, Decimal(450)),
            (date(2026, 11, 21), 50, Decimal(0)),  # a disqualified series, say
        ],
    )
    chat = Chat.open(db, tmp_path)
    await chat.say("/stats")
    focus = next(line for line in chat.text.split("\n") if line.startswith("🎯"))
    assert "gemiddeld 6,00 per schot" in focus  # (9 + 9 + 0) / 3
    assert "laatste 0,00" in focus, focus


# --- reminders ------------------------------------------------------------------------------


async def _open_drafts(rig: Rig, name: str, count: int) -> None:
    """``count`` more "photo now" drafts of ``name``, each left open for days."""
    async with rig.db.transaction() as s:
        sessions = SessionRepo(s, rig.users[name])
        for i in range(count):
            made = await sessions.create(
                SessionSpec(
                    occurred_on=date(2026, 11, 20) + timedelta(days=i % 5),
                    status=SessionStatus.DRAFT,
                )
            )
            await s.execute(
                sa.update(SessionRow)
                .where(SessionRow.id == made.id)
                .values(created_at=rig.clock.now() - timedelta(days=3, minutes=i))
            )


async def test_switching_reminders_on_with_old_drafts_is_not_a_burst(rig: Rig) -> None:
    """core/reminders.py due_reminders(): every open draft older than a day gets its own
    message, all in the same scan, with no limit. A shooter who switches reminders on with
    six forgotten drafts gets seven messages at once (six drafts and the licence)."""
    await _open_drafts(rig, "anna", 5)  # with the one the rig made: six drafts
    await rig.scan.run()
    await drain(rig.worker)
    to_anna = rig.texts(str(ANNA))
    drafts = [text for text in to_anna if "concept" in text]
    assert len(drafts) == 1  # one draft note a day, the oldest first
    assert len(to_anna) == 2, to_anna  # with the licence reminder


async def test_a_reminder_queued_before_a_long_stop_is_not_sent_twice(rig: Rig) -> None:
    """bot/reminders.py ReminderJob.run(): a licence reminder queued at 19:59 whose job then
    waits (NotYet, or the process stopped) for over a week is still sent, and so is the new
    one the scan queues a week after the first was recorded: two licence reminders at once."""
    rig.clock.advance(timedelta(hours=7, minutes=59))  # 19:59 in Amsterdam
    assert await rig.scan.run() == 4
    # The server is off for a week (holiday); it comes back at 10:00 a week and a day later.
    back = datetime(2026, 12, 10, 9, tzinfo=UTC)  # Thursday 10:00 in Amsterdam
    rig.clock.advance(back - rig.clock.now())
    await rig.scan.run()
    await drain(rig.worker)
    licence = [text for text in rig.texts(str(ANNA)) if text.startswith("🔔 Herinnering")]
    assert len(licence) == 1, licence


async def test_a_user_denied_before_the_job_runs_gets_no_reminder(rig: Rig) -> None:
    """bot/reminders.py ReminderJob.run(): the scan checks the allowlist, the job does not.
    A reminder queued at 19:59 waits for 10:00 (NotYet); a user the owner denies in between
    (access withdrawn) still gets it the next morning."""
    rig.clock.advance(timedelta(hours=7, minutes=59))  # 19:59 in Amsterdam
    assert await rig.scan.run() == 4
    rig.clock.advance(timedelta(minutes=2))  # 20:01: the jobs wait for the morning
    await drain(rig.worker)
    assert rig.outbox.sent == []
    async with rig.db.transaction() as s:
        await UserDirectory(s).deny_telegram(ANNA)  # the owner withdraws Anna's access
    morning = datetime(2026, 12, 3, 9, tzinfo=UTC)  # 10:00 in Amsterdam
    rig.clock.advance(morning - rig.clock.now())
    await drain(rig.worker)
    assert rig.texts(str(ANNA)) == [], rig.texts(str(ANNA))


async def test_the_stop_button_leaves_the_open_flow_working(rig: Rig) -> None:
    """bot/reminders.py stop_reminders() says "the flow the user is in stays as it was", but
    the turn returns the flow's state and the conversation stamps it with the next sequence
    number, so the buttons of the message the user was working in now answer "expired"."""
    sender = Sender("telegram", str(ANNA), str(ANNA), display_name="Anna")
    shown = await rig.conversation.handle(sender, Command("profiel", ""))
    buttons = [b for reply in shown.replies for row in reply.buttons for b in row]
    language = next(b for b in buttons if "Taal" in b.label)
    await rig.conversation.handle(sender, Press("!n:off"))  # under a reminder above
    after = await rig.conversation.handle(sender, Press(language.data))
    assert after.notice is None, after.notice
    assert any("taal" in reply.text.casefold() for reply in after.replies)


async def test_two_licence_reminders_arrive_at_least_a_week_apart(rig: Rig) -> None:
    """core/reminders.py due_reminders() measures the week from ``sent_at``, the moment the
    scan *queued* the reminder, not from when it arrived. One queued at 19:59 whose job only
    gets a slot after 20:00 (the worker busy with AI jobs, say) waits for 10:00 the next
    morning; the next one is queued and sent promptly at 19:59 six days later, so the
    shooter gets two licence reminders 6 days and 10 hours apart."""
    rig.clock.advance(timedelta(hours=7, minutes=59))  # Wednesday 19:59 in Amsterdam
    assert await rig.scan.run() == 4
    rig.clock.advance(timedelta(minutes=2))  # the worker gets to it at 20:01: NotYet
    await drain(rig.worker)
    assert rig.outbox.sent == []
    first = datetime(2026, 12, 3, 9, tzinfo=UTC)  # Thursday 10:00 in Amsterdam
    rig.clock.advance(first - rig.clock.now())
    await drain(rig.worker)
    assert sum(t.startswith("🔔 Herinnering") for t in rig.texts(str(ANNA))) == 1
    second = datetime(2026, 12, 9, 18, 59, tzinfo=UTC)  # the next Wednesday, 19:59
    rig.clock.advance(second - rig.clock.now())
    await rig.scan.run()
    await drain(rig.worker)
    if sum(t.startswith("🔔 Herinnering") for t in rig.texts(str(ANNA))) == 2:
        assert second - first >= timedelta(days=7), second - first
