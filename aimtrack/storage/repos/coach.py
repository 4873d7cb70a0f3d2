"""Coach threads and their messages, for one user."""

from __future__ import annotations

from datetime import date

from aimtrack.core import limits
from aimtrack.core.errors import InvalidInput
from aimtrack.core.model import (
    AIStatus,
    CoachMessage,
    CoachThread,
    MessageRole,
    clean_text,
    fit_text,
)
from aimtrack.storage.repos.base import UserScopedRepo, to_domain
from aimtrack.storage.tables import CoachMessageRow, CoachThreadRow, WeaponRow, utcnow

MAX_THREADS = 100


class CoachRepo(UserScopedRepo):
    async def start_thread(
        self,
        *,
        title: str,
        weapon_id: int | None = None,
        period_from: date | None = None,
        period_to: date | None = None,
    ) -> CoachThread:
        clean = clean_text("title", title, max_len=limits.MAX_SHORT_TEXT, required=True)
        if period_from and period_to and period_from > period_to:
            raise InvalidInput("period_to", "is before the start of the period")
        if weapon_id is not None:
            await self._owned(WeaponRow, weapon_id, "weapon")
        row = CoachThreadRow(
            user_id=self.user_id,
            title=clean,
            weapon_id=weapon_id,
            period_from=period_from,
            period_to=period_to,
        )
        self.db.add(row)
        await self.db.flush()
        return to_domain(CoachThread, row)

    async def get_thread(self, thread_id: int) -> CoachThread:
        return to_domain(CoachThread, await self._owned(CoachThreadRow, thread_id, "thread"))

    async def threads(self, *, limit: int = 10) -> list[CoachThread]:
        rows = await self.db.scalars(
            self._mine(CoachThreadRow)
            .order_by(CoachThreadRow.updated_at.desc(), CoachThreadRow.id.desc())
            .limit(max(1, min(limit, MAX_THREADS)))
        )
        return [to_domain(CoachThread, row) for row in rows]

    async def add_message(
        self,
        thread_id: int,
        *,
        role: MessageRole,
        content: str,
        provider: str | None = None,
        model: str | None = None,
        status: AIStatus | None = None,
        error: str | None = None,
    ) -> CoachMessage:
        thread = await self._owned(CoachThreadRow, thread_id, "thread")
        row = CoachMessageRow(
            user_id=self.user_id,
            thread_id=thread_id,
            role=MessageRole(role),
            **_answer(content, status, provider, model, error),
        )
        self.db.add(row)
        thread.updated_at = utcnow()  # the thread with the latest message lists first
        await self.db.flush()
        return to_domain(CoachMessage, row)

    async def update_message(
        self,
        message_id: int,
        *,
        content: str,
        status: AIStatus,
        provider: str | None = None,
        model: str | None = None,
        error: str | None = None,
    ) -> CoachMessage:
        """Complete (or fail) an answer that was written as pending: the worker's half."""
        row = await self._owned(CoachMessageRow, message_id, "message")
        for name, value in _answer(content, status, provider, model, error).items():
            setattr(row, name, value)
        await self.db.flush()
        return to_domain(CoachMessage, row)

    async def messages(self, thread_id: int) -> list[CoachMessage]:
        await self._owned(CoachThreadRow, thread_id, "thread")
        rows = await self.db.scalars(
            self._mine(CoachMessageRow)
            .where(CoachMessageRow.thread_id == thread_id)
            .order_by(CoachMessageRow.id)
        )
        return [to_domain(CoachMessage, row) for row in rows]


def _answer(
    content: str,
    status: AIStatus | None,
    provider: str | None,
    model: str | None,
    error: str | None,
) -> dict[str, object]:
    """A message's columns: the text must be clean; the record of how it came about (who
    answered, why it failed) is cut to fit, never refused."""
    return {
        "content": clean_text("content", content, max_len=limits.MAX_AI_TEXT, required=True),
        "status": None if status is None else _ai_status(status),
        "provider": fit_text(provider, limits.MAX_AI_PROVIDER),
        "model": fit_text(model, limits.MAX_AI_MODEL),
        "error": fit_text(error, limits.MAX_AI_TEXT),
    }


def _ai_status(status: AIStatus) -> AIStatus:
    try:
        return AIStatus(status)
    except ValueError:
        raise InvalidInput("status", "is not an AI status") from None
