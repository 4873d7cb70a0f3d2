"""Asking for AI work from inside a turn: the job is queued in the turn's own transaction.

So a session and the job that reflects on it are saved together or not at all, and a job
never points at a session that was rolled back. The AI row is marked pending at once, so
``/sessies`` shows "being made" from the first moment; an earlier result on it stays until a
new one replaces it (a regeneration that fails keeps a model's earlier text).

Each job carries a key per AI row or coach answer
(:func:`~aimtrack.jobs.ai_results.request_key`). Asking again while a job for that row runs
queues a new job and moves the key to it: the job holding the key is the latest request, and
only that one saves and sends its result (see ``aimtrack/jobs/reflections.py``).

Every request counts against the user's AI quota (``Context.ai_quota``; docs/abuse.md),
counted from the ``jobs`` table so a restart does not reset it. Over it, a request raises
:class:`AIQuotaUsed` before anything is written (the turn rolls back and the user is told when
they can ask again), except the reflection on a session just saved: the session is saved
without it (:func:`reflect_if_allowed`). Asking again while the same request still waits in the
queue queues nothing, so it is neither counted nor refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from aimtrack.bot.flow import Context
from aimtrack.core.errors import AimTrackError
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.model import AIStatus, JobStatus
from aimtrack.core.quota import HOUR, QuotaUsed, next_allowed
from aimtrack.jobs.ai_results import ANSWER, INSIGHT, KINDS, REFLECTION, request_key
from aimtrack.storage.repos import AIRepo, JobQueue

TEXTS: Final[Catalogue] = {
    "ai_quota.used": (
        "Je AI-vragen zijn voor nu op (hoogstens {limit} {window}). Er is niets in de wachtrij "
        "gezet; vanaf {when} kan het weer.",
        "Your AI requests are used up for now (at most {limit} {window}). Nothing was queued; "
        "you can ask again from {when}.",
    ),
    "ai_quota.no_reflection": (
        "Geen AI-reflectie op deze sessie: je AI-vragen zijn voor nu op (hoogstens {limit} "
        "{window}). Vanaf {when} kun je er een vragen met de knop hieronder.",
        "No AI reflection on this session: your AI requests are used up for now (at most "
        "{limit} {window}). From {when} you can ask for one with the button below.",
    ),
    "ai_quota.coach": (
        "De coach kan je nu geen vragen beantwoorden: je AI-vragen zijn voor nu op (hoogstens "
        "{limit} {window}). Vanaf {when} kan het weer.",
        "The coach cannot answer questions right now: your AI requests are used up for now "
        "(at most {limit} {window}). You can ask again from {when}.",
    ),
    "ai_quota.hour": ("per uur", "an hour"),
    "ai_quota.day": ("per 24 uur", "per 24 hours"),
    "ai_quota.tomorrow": ("morgen {time}", "tomorrow at {time}"),
    "ai_quota.btn.reflect": ("🎯 Reflectie maken", "🎯 Make a reflection"),
}


class AIQuotaUsed(AimTrackError):
    """The user's AI quota is used up: nothing was queued."""

    def __init__(self, used: QuotaUsed) -> None:
        super().__init__(f"AI quota used up until {used.again_at.isoformat()}")
        self.used = used


async def request_reflection(ctx: Context, session_id: int) -> None:
    """Queue a reflection on one of the user's sessions (the caller checked it is theirs);
    :class:`AIQuotaUsed` over the quota."""
    await _within_quota(ctx, REFLECTION, session_id)
    await AIRepo(ctx.db, ctx.user_id).mark_reflection(session_id, AIStatus.PENDING)
    await _enqueue(ctx, REFLECTION, {"session_id": session_id}, session_id)


async def reflect_if_allowed(ctx: Context, session_id: int) -> QuotaUsed | None:
    """The reflection on a session just saved: queued, or — over the quota — not, and the
    quota is returned, so the session is saved all the same."""
    try:
        await request_reflection(ctx, session_id)
    except AIQuotaUsed as refused:
        return refused.used
    return None


async def request_insight(ctx: Context, weapon_id: int) -> None:
    await _within_quota(ctx, INSIGHT, weapon_id)
    await AIRepo(ctx.db, ctx.user_id).mark_weapon_insight(weapon_id, AIStatus.PENDING)
    await _enqueue(ctx, INSIGHT, {"weapon_id": weapon_id}, weapon_id)


async def request_answer(ctx: Context, thread_id: int, message_id: int) -> None:
    """Queue the coach's answer to a question; ``message_id`` is the pending assistant message
    the answer will fill. Over the quota the turn rolls back, the question with it."""
    await _within_quota(ctx, ANSWER, message_id)
    await _enqueue(ctx, ANSWER, {"thread_id": thread_id, "message_id": message_id}, message_id)


async def quota_used(ctx: Context) -> QuotaUsed | None:
    """None while one more AI request fits the user's quota; else when it will."""
    quota = ctx.ai_quota
    if quota is None:
        return None
    now = ctx.clock.now()
    back, newest = quota.looked_back
    queued = await JobQueue(ctx.db).queued_at(
        user_id=ctx.user_id, kinds=KINDS, since=now - back, limit=newest
    )
    return next_allowed(queued, quota, now=now)


def quota_text(t: Translator, used: QuotaUsed, *, timezone: str, now: datetime, key: str) -> str:
    """``key`` (``ai_quota.used`` or ``ai_quota.no_reflection``) with the limit and the first
    minute, on the user's clock, at which a request fits again."""
    zone = ZoneInfo(timezone)
    again = used.again_at
    if again.second or again.microsecond:  # "from 19:42" must not mean 19:41:30
        again = again.replace(second=0, microsecond=0) + timedelta(minutes=1)
    local = again.astimezone(zone)
    when = f"{local:%H:%M}"
    if local.date() != now.astimezone(zone).date():  # within a day: today or tomorrow
        when = t("ai_quota.tomorrow", time=when)
    window = t("ai_quota.hour" if used.window == HOUR else "ai_quota.day")
    return t(key, limit=used.limit, window=window, when=when)


async def _within_quota(ctx: Context, kind: str, ident: int) -> None:
    if ctx.ai_quota is None:
        return
    holder = await JobQueue(ctx.db).holder(request_key(ctx.user_id, kind, ident))
    if holder is not None and holder.status is JobStatus.PENDING:
        return  # the same request still waits: queuing it again adds nothing
    used = await quota_used(ctx)
    if used is not None:
        raise AIQuotaUsed(used)


async def _enqueue(ctx: Context, kind: str, payload: dict[str, int], ident: int) -> None:
    await ctx.enqueue(
        kind,
        payload,
        max_attempts=ctx.job_attempts,
        key=request_key(ctx.user_id, kind, ident),
    )
