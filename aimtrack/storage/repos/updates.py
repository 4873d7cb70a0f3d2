"""Update ids already handled, so a replayed or re-delivered update is handled once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.core.model import Transport, whole_number
from aimtrack.storage.tables import ProcessedUpdateRow

MAX_UPDATE_ID = 2**63 - 1  # BIGINT


class UpdateLog:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def claim(self, transport: Transport, update_id: int) -> bool:
        """Record ``update_id``; False when it was recorded before (handle it no more)."""
        whole_number("update_id", update_id, low=0, high=MAX_UPDATE_ID)
        try:
            async with self.db.begin_nested():
                self.db.add(ProcessedUpdateRow(transport=transport, update_id=update_id))
        except IntegrityError:
            return False
        return True

    async def prune(self, *, before: datetime) -> int:
        """Forget ids processed before ``before``; returns how many were removed."""
        result = await self.db.execute(
            sa.delete(ProcessedUpdateRow).where(ProcessedUpdateRow.processed_at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
