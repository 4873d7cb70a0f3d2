"""Where a user is in a conversation flow, per transport and chat."""

from __future__ import annotations

import json

import sqlalchemy as sa

from aimtrack.core import limits
from aimtrack.core.errors import InvalidInput
from aimtrack.core.model import ConversationState, Transport, required_text
from aimtrack.storage.repos.base import UserScopedRepo, to_domain, upsert
from aimtrack.storage.tables import ConversationRow, utcnow


class ConversationRepo(UserScopedRepo):
    async def load(self, transport: Transport, chat_id: str) -> ConversationState | None:
        row = await self.db.scalar(self._query(transport, chat_id))
        return None if row is None else to_domain(ConversationState, row, transport=transport)

    async def save(self, state: ConversationState) -> ConversationState:
        """Store the state after a step (create or replace, atomically); survives a restart."""
        transport = _key("transport", state.transport, max_len=limits.MAX_TRANSPORT)
        chat_id = _key("chat_id", state.chat_id, max_len=limits.MAX_CHAT_ID)
        flow = required_text("flow", state.flow, max_len=limits.MAX_FLOW_NAME)
        step = required_text("step", state.step, max_len=limits.MAX_FLOW_NAME)
        try:
            size = len(json.dumps(state.draft, ensure_ascii=False, allow_nan=False).encode())
        except (TypeError, ValueError):
            raise InvalidInput("draft", "must be plain JSON data") from None
        if size > limits.MAX_DRAFT_BYTES:
            raise InvalidInput("draft", f"is larger than {limits.MAX_DRAFT_BYTES} bytes")
        changes = {"flow": flow, "step": step, "draft": dict(state.draft), "updated_at": utcnow()}
        insert = upsert(self.db, ConversationRow).values(
            user_id=self.user_id, transport=transport, chat_id=chat_id, **changes
        )
        await self.db.execute(
            insert.on_conflict_do_update(
                index_elements=["user_id", "transport", "chat_id"], set_=changes
            )
        )
        row = await self.db.scalar(
            self._query(state.transport, chat_id).execution_options(populate_existing=True)
        )
        return to_domain(ConversationState, row, transport=state.transport)

    async def clear(self, transport: Transport, chat_id: str) -> bool:
        """Forget the state (cancel or finish); True when there was one."""
        result = await self.db.execute(
            sa.delete(ConversationRow).where(
                ConversationRow.user_id == self.user_id,
                ConversationRow.transport == transport,
                ConversationRow.chat_id == chat_id,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _query(self, transport: Transport, chat_id: str) -> sa.Select[ConversationRow]:
        return self._mine(ConversationRow).where(
            ConversationRow.transport == transport, ConversationRow.chat_id == chat_id
        )


def _key(name: str, value: str, *, max_len: int) -> str:
    """A key is stored exactly as given (load and clear look it up unchanged), so it may not
    need cleaning: no surrounding spaces, no control characters, not empty, not too long."""
    if required_text(name, value, max_len=max_len) != value:
        raise InvalidInput(name, "must not start or end with spaces")
    return value
