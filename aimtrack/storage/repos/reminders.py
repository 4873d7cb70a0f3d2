"""The reminders already queued for one user: what makes "at most once" hold across restarts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa

from aimtrack.core import limits
from aimtrack.core.model import ReminderKind, SentReminder, required_text
from aimtrack.storage.repos.base import UserScopedRepo, to_domain, upsert
from aimtrack.storage.tables import ReminderSentRow

MAX_KEYS = 500


class ReminderLog(UserScopedRepo):
    async def record(self, kind: ReminderKind, key: str, *, at: datetime) -> bool:
        """Put a reminder on record; False when it already was (in another transaction too:
        the database's own upsert decides, so two scans cannot both queue it)."""
        values = {
            "user_id": self.user_id,
            "kind": ReminderKind(kind),
            "key": required_text("key", key, max_len=limits.MAX_REMINDER_KEY),
            "sent_at": at,
        }
        inserted = await self.db.scalar(
            upsert(self.db, ReminderSentRow)
            .values(values)
            .on_conflict_do_nothing(index_elements=["user_id", "kind", "key"])
            .returning(ReminderSentRow.id)
        )
        return inserted is not None

    async def latest(self, kind: ReminderKind) -> SentReminder | None:
        """The reminder of ``kind`` put on record last."""
        found = await self._sent(ReminderSentRow.kind == ReminderKind(kind))
        return found[-1] if found else None

    async def delivered(self, kind: ReminderKind, key: str, *, at: datetime) -> bool:
        """Move a reminder's time to ``at``, when it is actually sent: a reminder that waited
        (the night, a stopped server) counts its week from its arrival. False when it is not
        on record."""
        result = await self.db.execute(
            sa.update(ReminderSentRow)
            .where(
                ReminderSentRow.user_id == self.user_id,
                ReminderSentRow.kind == ReminderKind(kind),
                ReminderSentRow.key == key,
            )
            .values(sent_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def since(self, when: datetime) -> list[SentReminder]:
        """The reminders put on record at or after ``when``, oldest first."""
        return await self._sent(ReminderSentRow.sent_at >= when)

    async def among(self, kind: ReminderKind, keys: Collection[str]) -> list[SentReminder]:
        """The reminders of ``kind`` on record under one of ``keys`` (at most a page of them)."""
        wanted = [k for k in dict.fromkeys(keys) if isinstance(k, str) and k][:MAX_KEYS]
        if not wanted:
            return []
        return await self._sent(
            ReminderSentRow.kind == ReminderKind(kind), ReminderSentRow.key.in_(wanted)
        )

    async def _sent(self, *conditions: sa.ColumnElement[bool]) -> list[SentReminder]:
        rows = await self.db.scalars(
            self._mine(ReminderSentRow)
            .where(*conditions)
            .order_by(ReminderSentRow.sent_at, ReminderSentRow.id)
        )
        return [to_domain(SentReminder, row) for row in rows]
