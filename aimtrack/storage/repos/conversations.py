"""Where a user is in a conversation flow, per transport and chat."""

from __future__ import annotations

import json

import sqlalchemy as sa

from aimtrack.core import limits
from aimtrack.core.errors import InvalidInput
from aimtrack.core.model import ConversationState, clean_text
from aimtrack.storage.repos.base import UserScopedRepo, to_domain
from aimtrack.storage.tables import ConversationRow


class ConversationRepo(UserScopedRepo):
    async def load(self, transport: str, chat_id: str) -> ConversationState | None:
        row = await self.db.scalar(self._query(transport, chat_id))
        return None if row is None else to_domain(ConversationState, row)

    async def save(self, state: ConversationState) -> ConversationState:
        """Store the state after a step (create or replace); survives a restart."""
        flow = clean_text("flow", state.flow, max_len=limits.MAX_FLOW_NAME, required=True)
        step = clean_text("step", state.step, max_len=limits.MAX_FLOW_NAME, required=True)
        try:
            size = len(json.dumps(state.draft, ensure_ascii=False).encode())
        except (TypeError, ValueError):
            raise InvalidInput("draft", "must be plain JSON data") from None
        if size > limits.MAX_DRAFT_BYTES:
            raise InvalidInput("draft", f"is larger than {limits.MAX_DRAFT_BYTES} bytes")
        row = await self.db.scalar(self._query(state.transport, state.chat_id))
        if row is None:
            row = ConversationRow(
                user_id=self.user_id, transport=state.transport, chat_id=state.chat_id
            )
            self.db.add(row)
        row.flow, row.step, row.draft = flow or "", step or "", dict(state.draft)
        await self.db.flush()
        return to_domain(ConversationState, row)

    async def clear(self, transport: str, chat_id: str) -> bool:
        """Forget the state (cancel or finish); True when there was one."""
        result = await self.db.execute(
            sa.delete(ConversationRow).where(
                ConversationRow.user_id == self.user_id,
                ConversationRow.transport == transport,
                ConversationRow.chat_id == chat_id,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _query(self, transport: str, chat_id: str) -> sa.Select[ConversationRow]:
        return self._mine(ConversationRow).where(
            ConversationRow.transport == transport, ConversationRow.chat_id == chat_id
        )
