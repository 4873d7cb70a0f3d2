"""The weapon register of one user."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import sqlalchemy as sa

from aimtrack.core.errors import WeaponInUse
from aimtrack.core.model import Weapon, WeaponSpec
from aimtrack.storage.repos.base import UserScopedRepo, to_domain
from aimtrack.storage.tables import AttachmentRow, CoachThreadRow, EntryRow, SessionRow, WeaponRow


@dataclass(frozen=True, slots=True)
class WeaponUsage:
    entries: int
    shots: int
    last_used: date | None


class WeaponRepo(UserScopedRepo):
    async def add(self, spec: WeaponSpec) -> Weapon:
        row = WeaponRow(user_id=self.user_id, **asdict(spec))
        self.db.add(row)
        await self.db.flush()
        return to_domain(Weapon, row)

    async def get(self, weapon_id: int) -> Weapon:
        return to_domain(Weapon, await self._owned(WeaponRow, weapon_id, "weapon"))

    async def list_weapons(self, *, include_retired: bool = False) -> list[Weapon]:
        query = self._mine(WeaponRow).order_by(WeaponRow.retired_on.is_not(None), WeaponRow.name)
        if not include_retired:
            query = query.where(WeaponRow.retired_on.is_(None))
        return [to_domain(Weapon, row) for row in await self.db.scalars(query)]

    async def update(self, weapon_id: int, spec: WeaponSpec) -> Weapon:
        row = await self._owned(WeaponRow, weapon_id, "weapon")
        for name, value in asdict(spec).items():
            setattr(row, name, value)
        await self.db.flush()
        return to_domain(Weapon, row)

    async def retire(self, weapon_id: int, *, on: date) -> Weapon:
        """Take a weapon out of the pick lists; its history stays."""
        row = await self._owned(WeaponRow, weapon_id, "weapon")
        row.retired_on = on
        await self.db.flush()
        return to_domain(Weapon, row)

    async def reactivate(self, weapon_id: int) -> Weapon:
        row = await self._owned(WeaponRow, weapon_id, "weapon")
        row.retired_on = None
        await self.db.flush()
        return to_domain(Weapon, row)

    async def delete(self, weapon_id: int) -> list[str]:
        """Delete a weapon that was never used; returns attachment paths to remove from disk.

        A weapon with logged entries raises :class:`WeaponInUse`: retire it instead.
        """
        row = await self._owned(WeaponRow, weapon_id, "weapon")
        used = await self.db.scalar(
            sa.select(sa.func.count()).where(
                EntryRow.user_id == self.user_id, EntryRow.weapon_id == weapon_id
            )
        )
        if used:
            raise WeaponInUse(weapon_id, used)
        paths = await self._attachment_paths(AttachmentRow.weapon_id == weapon_id)
        await self.db.execute(
            sa.update(CoachThreadRow)
            .where(CoachThreadRow.user_id == self.user_id, CoachThreadRow.weapon_id == weapon_id)
            .values(weapon_id=None)
        )
        await self.db.delete(row)
        await self.db.flush()
        return paths

    async def usage(self) -> dict[int, WeaponUsage]:
        """Entries, shots and the last date per weapon that has been used."""

        query = (
            sa.select(
                EntryRow.weapon_id,
                sa.func.count(EntryRow.id),
                sa.func.sum(EntryRow.shots),
                sa.func.max(SessionRow.occurred_on),
            )
            .join(
                SessionRow,
                sa.and_(
                    SessionRow.id == EntryRow.session_id, SessionRow.user_id == EntryRow.user_id
                ),
            )
            .where(EntryRow.user_id == self.user_id)
            .group_by(EntryRow.weapon_id)
        )
        return {
            weapon_id: WeaponUsage(entries=entries, shots=int(shots or 0), last_used=last)
            for weapon_id, entries, shots, last in await self.db.execute(query)
        }
