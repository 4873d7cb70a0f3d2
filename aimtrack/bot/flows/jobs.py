"""/jobs: the background queue at a glance, for the installation's admins.

An admin sees how many jobs wait, run and failed, the latest failures with their error, and
can send a failed job (or every failed one, after an outage) back to the queue. To anyone
else /jobs does not exist: it answers like an unknown command, even from an old button.

The queue serves the whole installation, so an admin sees every user's jobs: kind, user id
and error only, never the payload's content.

Steps: ``overview`` (``r:<id>`` retries one job, ``all`` every failed job, ``list`` shows
the newest jobs, ``ov`` refreshes, ``done`` closes) and ``list`` (``ov`` goes back).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from aimtrack.bot.flow import Context, State, StoredUpload, Turn, button_id, chunked, reply
from aimtrack.core.errors import InvalidInput, NotFound
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.model import Job, JobStatus
from aimtrack.storage.repos import JobQueue

NAME: Final = "jobs"
FAILED_SHOWN: Final = 8
LISTED: Final = 10
MAX_ERROR: Final = 120

TEXTS: Final[Catalogue] = {
    "cmd.jobs": (
        "achtergrondtaken bekijken en opnieuw proberen (beheer)",
        "view and retry background jobs (admin)",
    ),
    "jobs.stats": (
        "⚙️ Wachtrij: {pending} wachtend, {running} bezig, {failed} mislukt.",
        "⚙️ Queue: {pending} pending, {running} running, {failed} failed.",
    ),
    "jobs.oldest": (
        "De oudste wachtende taak wacht al {age}.",
        "The oldest pending job has been waiting for {age}.",
    ),
    "jobs.age.minutes": ("{n} min", "{n} min"),
    "jobs.age.hours": ("{n} uur", "{n} h"),
    "jobs.age.days": ("{n} dagen", "{n} days"),
    "jobs.no_failed": ("Geen mislukte taken.", "No failed jobs."),
    "jobs.failed": ("Laatst mislukt:", "Latest failures:"),
    "jobs.failed_line": (
        "#{id} {kind} · gebruiker {user} · {attempts}/{max} pogingen · {when}\n   {error}",
        "#{id} {kind} · user {user} · {attempts}/{max} attempts · {when}\n   {error}",
    ),
    "jobs.list": ("De nieuwste taken:", "The newest jobs:"),
    "jobs.list_line": (
        "#{id} {kind} · {status} · gebruiker {user} · {when}",
        "#{id} {kind} · {status} · user {user} · {when}",
    ),
    "jobs.none": ("Er zijn nog geen taken.", "There are no jobs yet."),
    "jobs.status.pending": ("wachtend", "pending"),
    "jobs.status.running": ("bezig", "running"),
    "jobs.status.succeeded": ("gelukt", "succeeded"),
    "jobs.status.failed": ("mislukt", "failed"),
    "jobs.nobody": ("—", "—"),
    "jobs.no_error": ("(geen foutmelding)", "(no error message)"),
    "jobs.btn.retry": ("🔁 Opnieuw #{id}", "🔁 Retry #{id}"),
    "jobs.btn.retry_all": ("🔁 Alle mislukte opnieuw", "🔁 Retry all failed"),
    "jobs.btn.list": ("📋 Lijst", "📋 List"),
    "jobs.btn.refresh": ("🔄 Vernieuwen", "🔄 Refresh"),
    "jobs.btn.back": ("↩️ Overzicht", "↩️ Overview"),
    "jobs.btn.done": ("✔️ Klaar", "✔️ Done"),
    "jobs.retried": (
        "🔁 Taak #{id} staat weer in de wachtrij.",
        "🔁 Job #{id} is back in the queue.",
    ),
    "jobs.retried_all": (
        "🔁 {count:# mislukte taak staat|# mislukte taken staan} weer in de wachtrij.",
        "🔁 {count:# failed job is|# failed jobs are} back in the queue.",
    ),
    "jobs.not_failed": (
        "Taak #{id} is niet (meer) mislukt; er is niets veranderd.",
        "Job #{id} is not failed (any more); nothing was changed.",
    ),
    "jobs.closed": ("Klaar met de wachtrij.", "Done with the queue."),
    "jobs.use_buttons": (
        "Kies een van de knoppen, of sluit met /annuleer.",
        "Choose one of the buttons, or close with /cancel.",
    ),
    "jobs.upload": (
        "Dit bestand heb ik niet bewaard. Sluit eerst de wachtrij met /annuleer en stuur het "
        "dan opnieuw.",
        "I did not keep this file. Close the queue with /cancel first, then send it again.",
    ),
}


class JobsFlow:
    name = NAME

    async def start(self, ctx: Context, args: str) -> Turn:
        if not ctx.profile.is_admin:
            return _unknown(ctx)
        return await _overview(ctx)

    async def prompt(self, ctx: Context, state: State) -> Turn:
        if not ctx.profile.is_admin:
            return _unknown(ctx)
        return await (_list(ctx) if state.step == "list" else _overview(ctx))

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        return Turn([reply(ctx.t("cancelled"))], None)

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        return Turn([reply(ctx.t("jobs.upload"))], state)

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn:
        turn = await self.prompt(ctx, state)
        if turn.state is not None:
            turn.replies.insert(0, reply(ctx.t("jobs.use_buttons")))
        return turn

    async def on_press(self, ctx: Context, state: State, action: str) -> Turn:
        if not ctx.profile.is_admin:  # no longer an admin since the button was shown
            return _unknown(ctx)
        verb, _, arg = action.partition(":")
        if verb == "r":
            return await _retry(ctx, button_id(arg))
        if verb == "all":
            count = await JobQueue(ctx.db).retry_all_failed(now=ctx.clock.now())
            ctx.jobs_queued = ctx.jobs_queued or count > 0
            return await _overview(ctx, ctx.t("jobs.retried_all", count=count))
        if verb == "list":
            return await _list(ctx)
        if verb == "done":
            return Turn([reply(ctx.t("jobs.closed"))], None)
        return await _overview(ctx)


def _unknown(ctx: Context) -> Turn:
    """What any unknown command answers: /jobs is not there for someone who isn't an admin."""
    return Turn([reply(ctx.t("unknown_command"))], None)


async def _retry(ctx: Context, job_id: int) -> Turn:
    try:
        await JobQueue(ctx.db).retry(job_id, now=ctx.clock.now())
    except NotFound:
        return await _overview(ctx, ctx.t("not_found"))
    except InvalidInput:
        return await _overview(ctx, ctx.t("jobs.not_failed", id=job_id))
    ctx.jobs_queued = True
    return await _overview(ctx, ctx.t("jobs.retried", id=job_id))


async def _overview(ctx: Context, *notes: str) -> Turn:
    t = ctx.t
    queue = JobQueue(ctx.db)
    stats = await queue.stats()
    lines = [t("jobs.stats", pending=stats.pending, running=stats.running, failed=stats.failed)]
    if stats.oldest_pending_at is not None:
        lines.append(t("jobs.oldest", age=_age(t, ctx.clock.now() - stats.oldest_pending_at)))
    failed = await queue.list_jobs(status=JobStatus.FAILED, limit=FAILED_SHOWN)
    if failed:
        lines.append(t("jobs.failed"))
        lines.extend(_failed_line(ctx, job) for job in failed)
    else:
        lines.append(t("jobs.no_failed"))
    retries = [ctx.button(t("jobs.btn.retry", id=job.id), f"r:{job.id}") for job in failed]
    rows = chunked(retries, 2)
    if failed:
        rows.append([ctx.button(t("jobs.btn.retry_all"), "all")])
    rows.append(
        [
            ctx.button(t("jobs.btn.list"), "list"),
            ctx.button(t("jobs.btn.refresh"), "ov"),
            ctx.button(t("jobs.btn.done"), "done"),
        ]
    )
    text = "\n\n".join([*notes, "\n".join(lines)])
    return Turn([reply(text, *rows)], State(NAME, "overview"))


async def _list(ctx: Context) -> Turn:
    t = ctx.t
    jobs = await JobQueue(ctx.db).list_jobs(limit=LISTED)
    lines = [t("jobs.list")] if jobs else [t("jobs.none")]
    lines.extend(
        t(
            "jobs.list_line",
            id=job.id,
            kind=job.kind,
            status=t(f"jobs.status.{job.status.value}"),
            user=_user(t, job),
            when=_when(ctx, job.created_at),
        )
        for job in jobs
    )
    back = [ctx.button(t("jobs.btn.back"), "ov"), ctx.button(t("jobs.btn.done"), "done")]
    return Turn([reply("\n".join(lines), back)], State(NAME, "list"))


def _failed_line(ctx: Context, job: Job) -> str:
    t = ctx.t
    first = (job.last_error or "").strip().splitlines()
    error = first[0][:MAX_ERROR] if first else t("jobs.no_error")
    return t(
        "jobs.failed_line",
        id=job.id,
        kind=job.kind,
        user=_user(t, job),
        attempts=job.attempts,
        max=job.max_attempts,
        when=_when(ctx, job.finished_at),
        error=error,
    )


def _user(t: Translator, job: Job) -> str:
    return t("jobs.nobody") if job.user_id is None else str(job.user_id)


def _when(ctx: Context, moment: datetime | None) -> str:
    """A moment in the admin's own time zone."""
    if moment is None:
        return ctx.t("jobs.nobody")
    return f"{moment.astimezone(ZoneInfo(ctx.profile.timezone)):%d-%m-%Y %H:%M}"


def _age(t: Translator, waited: timedelta) -> str:
    minutes = max(0, int(waited.total_seconds() // 60))
    if minutes < 60:
        return t("jobs.age.minutes", n=minutes)
    if minutes < 48 * 60:
        return t("jobs.age.hours", n=minutes // 60)
    return t("jobs.age.days", n=minutes // (24 * 60))
