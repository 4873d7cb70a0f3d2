"""AI results of one user: a reflection per session, an insight per weapon."""

from __future__ import annotations

from aimtrack.core.model import AIAudit, Reflection, WeaponInsight
from aimtrack.storage.repos.base import UserScopedRepo, to_domain
from aimtrack.storage.tables import (
    AIAuditColumns,
    ReflectionRow,
    SessionRow,
    WeaponInsightRow,
    WeaponRow,
)


def _audit(row: AIAuditColumns) -> AIAudit:
    return to_domain(AIAudit, row)


def _apply_audit(row: AIAuditColumns, audit: AIAudit) -> None:
    row.status = audit.status
    row.provider = audit.provider
    row.model = audit.model
    row.error = audit.error
    row.generated_at = audit.generated_at


class AIRepo(UserScopedRepo):
    async def reflection(self, session_id: int) -> Reflection | None:
        row = await self.db.scalar(
            self._mine(ReflectionRow).where(ReflectionRow.session_id == session_id)
        )
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
        row = await self.db.scalar(
            self._mine(ReflectionRow).where(ReflectionRow.session_id == session_id)
        )
        if row is None:
            row = ReflectionRow(user_id=self.user_id, session_id=session_id)
            self.db.add(row)
        row.summary, row.went_well = summary, went_well
        row.needs_improvement, row.next_focus = needs_improvement, next_focus
        _apply_audit(row, audit)
        await self.db.flush()
        return to_domain(Reflection, row, audit=_audit(row))

    async def weapon_insight(self, weapon_id: int) -> WeaponInsight | None:
        row = await self.db.scalar(
            self._mine(WeaponInsightRow).where(WeaponInsightRow.weapon_id == weapon_id)
        )
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
        row = await self.db.scalar(
            self._mine(WeaponInsightRow).where(WeaponInsightRow.weapon_id == weapon_id)
        )
        if row is None:
            row = WeaponInsightRow(user_id=self.user_id, weapon_id=weapon_id)
            self.db.add(row)
        row.trends, row.typical_issues, row.recommendations = (
            trends,
            typical_issues,
            recommendations,
        )
        _apply_audit(row, audit)
        await self.db.flush()
        return to_domain(WeaponInsight, row, audit=_audit(row))
