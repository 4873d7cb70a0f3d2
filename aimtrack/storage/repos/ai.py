"""AI results of one user: a reflection per session, an insight per weapon."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, TypeVar

from aimtrack.core.errors import NotFound
from aimtrack.core.model import AIAudit, AIStatus, Reflection, WeaponInsight, is_row_id
from aimtrack.storage.repos.base import UserScopedRepo, to_domain, upsert
from aimtrack.storage.tables import (
    AIAuditColumns,
    ReflectionRow,
    SessionRow,
    WeaponInsightRow,
    WeaponRow,
    utcnow,
)

AIRowT = TypeVar("AIRowT", ReflectionRow, WeaponInsightRow)


def _audit(row: AIAuditColumns) -> AIAudit:
    return to_domain(AIAudit, row)


class AIRepo(UserScopedRepo):
    async def reflection(self, session_id: int) -> Reflection | None:
        row = await self._result(ReflectionRow, "session_id", session_id)
        return None if row is None else to_domain(Reflection, row, audit=_audit(row))

    async def save_reflection(
        self,
        session_id: int,
        *,
        audit: AIAudit,
        summary: str | None = None,
        went_well: str | None = None,
        needs_improvement: str | None = None,
        next_focus: str | None = None,
    ) -> Reflection:
        """Create or replace the one reflection of a session."""
        await self._owned(SessionRow, session_id, "session")
        row = await self._put(
            ReflectionRow,
            "session_id",
            session_id,
            audit,
            summary=summary,
            went_well=went_well,
            needs_improvement=needs_improvement,
            next_focus=next_focus,
        )
        return to_domain(Reflection, row, audit=_audit(row))

    async def mark_reflection(self, session_id: int, status: AIStatus) -> Reflection:
        """Set the status of a session's reflection (one being made), creating a blank row
        when there is none; an earlier reflection's texts and audit stay as they were."""
        await self._owned(SessionRow, session_id, "session")
        row = await self._mark(ReflectionRow, "session_id", session_id, status)
        return to_domain(Reflection, row, audit=_audit(row))

    async def weapon_insight(self, weapon_id: int) -> WeaponInsight | None:
        row = await self._result(WeaponInsightRow, "weapon_id", weapon_id)
        return None if row is None else to_domain(WeaponInsight, row, audit=_audit(row))

    async def save_weapon_insight(
        self,
        weapon_id: int,
        *,
        audit: AIAudit,
        trends: str | None = None,
        typical_issues: str | None = None,
        recommendations: str | None = None,
    ) -> WeaponInsight:
        """Create or replace the one insight of a weapon."""
        await self._owned(WeaponRow, weapon_id, "weapon")
        row = await self._put(
            WeaponInsightRow,
            "weapon_id",
            weapon_id,
            audit,
            trends=trends,
            typical_issues=typical_issues,
            recommendations=recommendations,
        )
        return to_domain(WeaponInsight, row, audit=_audit(row))

    async def mark_weapon_insight(self, weapon_id: int, status: AIStatus) -> WeaponInsight:
        """Like :meth:`mark_reflection`, for a weapon's insight."""
        await self._owned(WeaponRow, weapon_id, "weapon")
        row = await self._mark(WeaponInsightRow, "weapon_id", weapon_id, status)
        return to_domain(WeaponInsight, row, audit=_audit(row))

    async def _result(self, row_type: type[AIRowT], key: str, ident: int) -> AIRowT | None:
        if not is_row_id(ident):
            return None
        return await self.db.scalar(
            self._mine(row_type)
            .where(getattr(row_type, key) == ident)
            .execution_options(populate_existing=True)
        )

    async def _put(
        self, row_type: type[AIRowT], key: str, ident: int, audit: AIAudit, **texts: Any
    ) -> AIRowT:
        """Upsert the one AI row keyed by ``key`` (unique per parent); the caller checked the
        parent belongs to this user."""
        changes = {**texts, **asdict(audit), "updated_at": utcnow()}
        insert = upsert(self.db, row_type).values(user_id=self.user_id, **{key: ident}, **changes)
        await self.db.execute(
            insert.on_conflict_do_update(
                index_elements=[key], set_=changes, where=row_type.user_id == self.user_id
            )
        )
        return await self._reread(row_type, key, ident)

    async def _mark(self, row_type: type[AIRowT], key: str, ident: int, status: AIStatus) -> AIRowT:
        """Insert a blank row with ``status``, or change only the status of the one there."""
        changes = {"status": AIStatus(status), "updated_at": utcnow()}
        insert = upsert(self.db, row_type).values(user_id=self.user_id, **{key: ident}, **changes)
        await self.db.execute(
            insert.on_conflict_do_update(
                index_elements=[key], set_=changes, where=row_type.user_id == self.user_id
            )
        )
        return await self._reread(row_type, key, ident)

    async def _reread(self, row_type: type[AIRowT], key: str, ident: int) -> AIRowT:
        row = await self._result(row_type, key, ident)
        if row is None:  # the key belongs to another user: impossible by the composite FK
            raise NotFound(key, ident)
        return row
