"""``GET /health``: is the database there, how is the queue, when did Telegram last answer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy.exc import SQLAlchemyError

from aimtrack.core.clock import Clock
from aimtrack.core.model import QueueStats
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import JobQueue

TIMEOUT_S: Final = 5.0  # a database that answers slower than this counts as unavailable


@dataclass(slots=True)
class TelegramStatus:
    """When the bot last heard from Telegram: a successful ``getUpdates`` (polling) or an
    accepted webhook update. Stays None in console mode. Set by the transport, read here."""

    clock: Clock
    last_ok_at: datetime | None = field(default=None)

    def record_ok(self) -> None:
        self.last_ok_at = self.clock.now()


async def health_report(
    db: Database, telegram: TelegramStatus | None, *, now: datetime
) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of ``/health``: 200 when the database answers, else 503."""
    last_ok = None if telegram is None or telegram.last_ok_at is None else telegram.last_ok_at
    telegram_part = {"last_poll_ok_at": None if last_ok is None else last_ok.isoformat()}
    try:
        async with asyncio.timeout(TIMEOUT_S):
            stats = await _queue_stats(db)
    except TimeoutError:
        stats = None
    queue: dict[str, Any] | None = None
    if stats is not None:
        oldest = stats.oldest_pending_at
        queue = {
            "pending": stats.pending,
            "failed": stats.failed,
            "oldest_pending_age_s": None
            if oldest is None
            else max(0.0, (now - oldest).total_seconds()),
        }
    if queue is None:
        body = {
            "status": "unavailable",
            "database": "unavailable",
            "queue": None,
            "telegram": telegram_part,
        }
        return 503, body
    return 200, {"status": "ok", "database": "ok", "queue": queue, "telegram": telegram_part}


async def _queue_stats(db: Database) -> QueueStats | None:
    """The queue's figures, or None when the database does not answer."""
    if not await db.ping():
        return None
    try:
        async with db.transaction(read_only=True) as session:
            return await JobQueue(session).stats()
    except (SQLAlchemyError, OSError):
        return None
