"""The nonces of web links already exchanged, so each link opens the web page once.

Installation-wide, like :class:`~aimtrack.storage.repos.updates.UpdateLog`: the web page checks
a link's signature (which names its user) before it asks here, and a nonce is random.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.core import limits
from aimtrack.core.model import required_text, whole_number
from aimtrack.storage.repos.base import upsert
from aimtrack.storage.tables import WebLinkRow

MAX_NONCE = 64


class WebLinkLog:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def use(self, nonce: str, *, user_id: int, expires_at: datetime, now: datetime) -> bool:
        """Record the link's nonce as used; False when it was used before. Two requests with
        one link at once: one wins, the other gets False (the database's own upsert)."""
        values = {
            "nonce": required_text("nonce", nonce, max_len=MAX_NONCE),
            "user_id": whole_number("user_id", user_id, low=1, high=limits.MAX_ROW_ID),
            "expires_at": expires_at,
            "used_at": now,
        }
        inserted = await self.db.scalar(
            upsert(self.db, WebLinkRow)
            .values(values)
            .on_conflict_do_nothing(index_elements=["nonce"])
            .returning(WebLinkRow.nonce)
        )
        return inserted is not None

    async def prune(self, *, now: datetime) -> int:
        """Forget links that expired before ``now`` (they cannot be used any more)."""
        result = await self.db.execute(sa.delete(WebLinkRow).where(WebLinkRow.expires_at < now))
        return int(result.rowcount)  # type: ignore[attr-defined]
