"""Reminders the bot starts: a scan queues what is due, a job sends it, a button stops them.

The rules are pure (:mod:`aimtrack.core.reminders`); here they meet the database and the chat.

- :class:`ReminderScan` runs every few minutes (PTB's JobQueue in the Telegram process, a loop
  in the console chat). The schedule holds no state: every run reads everything from the
  database, so a restart recreates it as it was. For each allowed user with reminders on, in
  one transaction, it reads what the rules need and, for each reminder due, puts it on record
  (``reminders_sent``) and queues a durable ``reminder`` job addressed to the user's chat. A
  restart can neither lose a due reminder (the job is in the ``jobs`` table) nor queue it
  again (its record exists).
- :class:`ReminderJob` re-reads the profile and the log when it runs: it sends nothing when
  reminders were switched off meanwhile or the reminder no longer applies (the draft was
  finished), waits for the daytime window when it runs late (after a night the bot was down),
  and delivers through :meth:`~aimtrack.jobs.services.JobServices.send`, so a re-run after a
  crash skips a message already recorded as sent.
- Every reminder carries one button, ``!n:off``, that switches reminders off
  (``aimtrack.bot.actions.stop_reminders``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.bot.io import Button, Reply
from aimtrack.bot.push import Address, Messengers, NoRoute
from aimtrack.core import formatting
from aimtrack.core import reminders as rules
from aimtrack.core.access import Access
from aimtrack.core.clock import Clock
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.model import (
    Job,
    Profile,
    Recipient,
    ReminderKind,
    SessionStatus,
    ShootingSession,
)
from aimtrack.jobs.services import JobServices
from aimtrack.jobs.worker import JobHandler, Lease, NotYet
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import (
    JobQueue,
    ProfileRepo,
    ReminderLog,
    SessionRepo,
    UserDirectory,
)
from aimtrack.storage.repos.sessions import MAX_PAGE

log = logging.getLogger(__name__)

REMINDER: Final = "reminder"
REMINDER_ATTEMPTS: Final = 3
STOP: Final = "n"  # the action of the button under every reminder: "!n:off" (bot/actions.py)
STOP_ARG: Final = "off"
STOP_DATA: Final = f"!{STOP}:{STOP_ARG}"

TEXTS: Final[Catalogue] = {
    "reminders.title": ("🔔 Herinnering", "🔔 Reminder"),
    "reminders.licence": (
        "Je verlof verloopt op {expiry}. Schietdagen in de afgelopen 12 maanden: {days} van de "
        "{required}; je hebt er nog {short} nodig.",
        "Your licence expires on {expiry}. Shooting days in the last 12 months: {days} of "
        "{required}; you still need {short}.",
    ),
    "reminders.oldest": (
        "Op {leaves} valt je oudste getelde schietdag ({oldest}) uit de telling.",
        "On {leaves} your oldest counted shooting day ({oldest}) drops out of the count.",
    ),
    "reminders.matches": (
        "Wedstrijden in {year}: KNSA {knsa} van de {required_knsa}, club {club} van de "
        "{required_club}. Je loopt achter op schema voor {required_knsa} KNSA- of "
        "{required_club} clubwedstrijden dit jaar.",
        "Matches in {year}: KNSA {knsa} of {required_knsa}, club {club} of {required_club}. "
        "You are behind schedule for {required_knsa} KNSA or {required_club} club matches "
        "this year.",
    ),
    "reminders.draft": (
        "🔔 Je concept van {date} (foto nu, details later) is nog niet af. Maak het af met "
        "/sessie.",
        "🔔 Your draft of {date} (photo now, details later) is not finished yet. Complete it "
        "with /session.",
    ),
    "reminders.btn.stop": ("🔕 Herinneringen uit", "🔕 Stop reminders"),
}


# --- what a reminder says -----------------------------------------------------------------


def reminder_reply(t: Translator, reminder: rules.Reminder) -> Reply:
    """The message, in the user's language, with the one button that stops reminders."""
    if isinstance(reminder, rules.DraftReminder):
        parts = [t("reminders.draft", date=formatting.weekday(reminder.occurred_on, t.language))]
    else:
        parts = [t("reminders.title")]
        if reminder.licence is not None:
            parts.append(_licence_text(t, reminder.licence))
        if reminder.matches is not None:
            facts = reminder.matches
            parts.append(
                t(
                    "reminders.matches",
                    year=facts.year,
                    knsa=facts.knsa,
                    club=facts.club,
                    required_knsa=facts.required_knsa,
                    required_club=facts.required_club,
                )
            )
    stop = Button(t("reminders.btn.stop"), STOP_DATA)
    return Reply("\n\n".join(parts), ((stop,),))


def _licence_text(t: Translator, facts: rules.LicenceFacts) -> str:
    text = t(
        "reminders.licence",
        expiry=_day(facts.expiry, t),
        days=facts.days,
        required=facts.required,
        short=facts.short,
    )
    if facts.oldest_day is not None and facts.oldest_leaves_on is not None:
        oldest = _day(facts.oldest_day, t)
        text += " " + t("reminders.oldest", leaves=_day(facts.oldest_leaves_on, t), oldest=oldest)
    return text


def _day(day: date, t: Translator) -> str:
    return formatting.weekday(day, t.language)


# --- what the rules read --------------------------------------------------------------------


async def read_history(
    db: AsyncSession, profile: Profile, *, now: datetime
) -> list[ShootingSession]:
    """What the rules read of a user's log: the saved sessions the licence counts look at
    (this and last calendar year, up to today) and the open drafts."""
    today = rules.local_date(now, profile.timezone)
    sessions = SessionRepo(db, profile.user_id)
    saved = await sessions.between(date(today.year - 1, 1, 1), today)
    drafts = await sessions.list_sessions(limit=MAX_PAGE, status=SessionStatus.DRAFT)
    return [*saved, *drafts]


# --- the scan -------------------------------------------------------------------------------


Reachable = Callable[[Address], bool]


def running_transports(messengers: Messengers) -> Reachable:
    """An address is reachable when its transport runs in this process."""

    def reachable(address: Address) -> bool:
        try:
            messengers.get(address)
        except NoRoute:
            return False
        return True

    return reachable


class ReminderScan:
    """Queues the reminders due now (see the module's docstring)."""

    def __init__(self, db: Database, *, clock: Clock, access: Access, reachable: Reachable) -> None:
        self.db = db
        self.clock = clock
        self.access = access
        self.reachable = reachable

    async def run(self) -> int:
        """One pass over every user with reminders on; returns how many reminders it queued."""
        async with self.db.transaction(read_only=True) as db:
            recipients = await UserDirectory(db).with_reminders()
        queued = 0
        for recipient in recipients:
            target = self.address(recipient)
            if target is None:
                continue  # not allowed, or not reachable from here: nothing is recorded
            try:
                queued += await self._queue_due(recipient.user_id, target)
            except Exception:  # one user's trouble must not keep the others' reminders
                log.exception("reminders of user %s could not be checked", recipient.user_id)
        return queued

    async def safe_run(self) -> int:
        """:meth:`run` for timers: a database hiccup is logged, and the next run tries again."""
        try:
            return await self.run()
        except Exception:
            log.exception("the reminders could not be checked")
            return 0

    async def run_every(
        self, every: timedelta, *, stop: asyncio.Event, wake: Callable[[], None]
    ) -> None:
        """Scan every ``every`` until ``stop`` is set; ``wake`` the worker after queueing."""
        while not stop.is_set():
            if await self.safe_run():
                wake()
            try:
                await asyncio.wait_for(stop.wait(), timeout=every.total_seconds())
            except TimeoutError:
                continue

    def address(self, recipient: Recipient) -> Address | None:
        """Where the user's reminders go: their first identity that is allowed and whose
        transport runs here (a Telegram user's private chat has their user id as chat id)."""
        for transport, external_id in recipient.identities:
            if not (recipient.is_allowed or self.access.grants(transport, external_id)):
                continue
            target = Address(transport, external_id)
            if self.reachable(target):
                return target
        return None

    async def _queue_due(self, user_id: int, target: Address) -> int:
        now = self.clock.now()
        async with self.db.transaction() as db:
            profile = await ProfileRepo(db, user_id).get()
            if not profile.reminders or not rules.in_daytime(now, profile.timezone):
                return 0
            history = await read_history(db, profile, now=now)
            drafts = [rules.draft_key(s) for s in history if s.status is SessionStatus.DRAFT]
            sent = ReminderLog(db, user_id)
            earlier = [
                *await sent.since(now - rules.LOOKBACK),
                *await sent.among(ReminderKind.DRAFT, drafts),
            ]
            due = rules.due_reminders(profile, history, earlier, now=now)
            queued = 0
            for reminder in due:
                if not await sent.record(reminder.kind, reminder.key, at=now):
                    continue  # another scan put it on record first
                await _enqueue(db, user_id, reminder, target, now=now)
                queued += 1
            return queued


async def _enqueue(
    db: AsyncSession, user_id: int, reminder: rules.Reminder, target: Address, *, now: datetime
) -> None:
    await JobQueue(db).enqueue(
        REMINDER,
        user_id=user_id,
        payload={"reminder": reminder.kind.value, "key": reminder.key, **target.to_json()},
        now=now,
        max_attempts=REMINDER_ATTEMPTS,
        idempotency_key=f"{user_id}:{REMINDER}:{reminder.kind.value}:{reminder.key}",
    )


# --- the job --------------------------------------------------------------------------------


class ReminderJob(JobHandler):
    """Sends one queued reminder (see the module's docstring)."""

    def __init__(self, jobs: JobServices, *, access: Access) -> None:
        self.jobs = jobs
        self.access = access

    async def run(self, job: Job, lease: Lease) -> None:
        if lease.already_sent or job.user_id is None:
            return
        kind, key = _recorded(job)
        if kind is None:
            log.warning("job %s: not a reminder (%s); nothing is sent", job.id, job.payload)
            return
        now = self.jobs.clock.now()
        target = Address.from_json(job.payload)
        async with self.jobs.db.transaction(read_only=True) as db:
            profile = await ProfileRepo(db, job.user_id).get()
            history = await read_history(db, profile, now=now)
        if not profile.reminders:
            log.info("job %s: reminders were switched off; nothing is sent", job.id)
            return
        if not (profile.is_allowed or self.access.grants(target.transport, target.chat_id)):
            log.info("job %s: the user is no longer allowed; nothing is sent", job.id)
            return
        if not rules.in_daytime(now, profile.timezone):
            raise NotYet(rules.next_daytime(now, profile.timezone))  # no reminder at night
        reminder = rules.current(kind, key, profile, history, now=now)
        if reminder is None:
            log.info("job %s: the %s reminder no longer applies", job.id, kind.value)
            return
        if not lease.already_sent and not await self._arriving(job.user_id, kind, key, now):
            log.info("job %s: a newer %s reminder took over; nothing is sent", job.id, kind.value)
            return
        t = self.jobs.translator(profile.language)
        await self.jobs.send(job, lease, reminder_reply(t, reminder))

    async def _arriving(self, user_id: int, kind: ReminderKind, key: str, now: datetime) -> bool:
        """Whether this reminder still goes out — for the licence, only the latest one on
        record (one that waited a week for a stopped server must not arrive beside the next)
        — and then, moved to now on the record: the week is counted from its arrival."""
        async with self.jobs.db.transaction() as db:
            sent = ReminderLog(db, user_id)
            if kind is ReminderKind.LICENCE:
                latest = await sent.latest(kind)
                if latest is None or latest.key != key:
                    return False
            return await sent.delivered(kind, key, at=now)

    async def give_up(self, job: Job, lease: Lease, error: str) -> None:
        """A reminder that failed for good is dropped: the next one comes in its time."""
        log.warning("job %s: the reminder is not sent (%s)", job.id, error)


def _recorded(job: Job) -> tuple[ReminderKind | None, str]:
    try:
        return ReminderKind(str(job.payload["reminder"])), str(job.payload["key"])
    except (KeyError, ValueError):
        return None, ""
