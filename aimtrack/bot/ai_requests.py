"""Asking for AI work from inside a turn: the job is queued in the turn's own transaction.

So a session and the job that reflects on it are saved together or not at all, and a job
never points at a session that was rolled back. The AI row is marked pending at once, so
``/sessies`` shows "being made" from the first moment; an earlier result on it stays until a
new one replaces it (a regeneration that fails keeps a model's earlier text).

Each job carries a key per AI row or coach answer (:func:`request_key`). Asking again while a
job for that row runs queues a new job and moves the key to it: the job holding the key is the
latest request, and only that one saves and sends its result (see ``bot/ai_jobs.py``).
"""

from __future__ import annotations

from typing import Final

from aimtrack.bot.flow import Context
from aimtrack.bot.push import Address
from aimtrack.core.model import AIStatus
from aimtrack.storage.repos import AIRepo, JobQueue

REFLECTION: Final = "reflection"
INSIGHT: Final = "weapon_insight"
ANSWER: Final = "coach_answer"


def address(ctx: Context) -> Address:
    return Address(ctx.sender.transport, ctx.sender.chat_id)


def request_key(user_id: int, kind: str, ident: int) -> str:
    """The idempotency key of a job: per user, kind and session, weapon or coach message."""
    return f"{user_id}:{kind}:{ident}"


async def request_reflection(ctx: Context, session_id: int) -> None:
    """Queue a reflection on one of the user's sessions (the caller checked it is theirs)."""
    await AIRepo(ctx.db, ctx.user_id).mark_reflection(session_id, AIStatus.PENDING)
    await _enqueue(ctx, REFLECTION, {"session_id": session_id}, session_id)


async def request_insight(ctx: Context, weapon_id: int) -> None:
    await AIRepo(ctx.db, ctx.user_id).mark_weapon_insight(weapon_id, AIStatus.PENDING)
    await _enqueue(ctx, INSIGHT, {"weapon_id": weapon_id}, weapon_id)


async def request_answer(ctx: Context, thread_id: int, message_id: int) -> None:
    """Queue the coach's answer to a question; ``message_id`` is the pending assistant message
    the answer will fill."""
    await _enqueue(ctx, ANSWER, {"thread_id": thread_id, "message_id": message_id}, message_id)


async def _enqueue(ctx: Context, kind: str, payload: dict[str, int], ident: int) -> None:
    await JobQueue(ctx.db).enqueue(
        kind,
        user_id=ctx.user_id,
        payload={**payload, **address(ctx).to_json()},
        now=ctx.clock.now(),
        max_attempts=ctx.job_attempts,
        idempotency_key=request_key(ctx.user_id, kind, ident),
    )
    ctx.jobs_queued = True
