"""Asking for AI work from inside a turn: the job is queued in the turn's own transaction.

So a session and the job that reflects on it are saved together or not at all, and a job
never points at a session that was rolled back. The AI row is marked pending at once, so
``/sessies`` shows "being made" from the first moment.
"""

from __future__ import annotations

from typing import Final

from aimtrack.bot.flow import Context
from aimtrack.bot.push import Address
from aimtrack.core.model import AIAudit, AIStatus
from aimtrack.storage.repos import AIRepo, JobQueue

REFLECTION: Final = "reflection"
INSIGHT: Final = "weapon_insight"
ANSWER: Final = "coach_answer"


def address(ctx: Context) -> Address:
    return Address(ctx.sender.transport, ctx.sender.chat_id)


async def request_reflection(ctx: Context, session_id: int) -> None:
    """Queue a reflection on one of the user's sessions (the caller checked it is theirs)."""
    await AIRepo(ctx.db, ctx.user_id).save_reflection(
        session_id, audit=AIAudit(status=AIStatus.PENDING)
    )
    await _enqueue(ctx, REFLECTION, {"session_id": session_id}, f"{REFLECTION}:{session_id}")


async def request_insight(ctx: Context, weapon_id: int) -> None:
    await AIRepo(ctx.db, ctx.user_id).save_weapon_insight(
        weapon_id, audit=AIAudit(status=AIStatus.PENDING)
    )
    await _enqueue(ctx, INSIGHT, {"weapon_id": weapon_id}, f"{INSIGHT}:{weapon_id}")


async def request_answer(ctx: Context, thread_id: int, message_id: int) -> None:
    """Queue the coach's answer to a question; ``message_id`` is the pending assistant message
    the answer will fill."""
    await _enqueue(
        ctx, ANSWER, {"thread_id": thread_id, "message_id": message_id}, f"{ANSWER}:{message_id}"
    )


async def _enqueue(ctx: Context, kind: str, payload: dict[str, int], key: str) -> None:
    await JobQueue(ctx.db).enqueue(
        kind,
        user_id=ctx.user_id,
        payload={**payload, **address(ctx).to_json()},
        now=ctx.clock.now(),
        max_attempts=ctx.job_attempts,
        idempotency_key=f"{ctx.user_id}:{key}",
    )
    ctx.jobs_queued = True
