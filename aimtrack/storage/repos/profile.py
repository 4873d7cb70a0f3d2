"""The user's own profile row."""

from __future__ import annotations

from dataclasses import asdict

import sqlalchemy as sa

from aimtrack.core.errors import NotFound
from aimtrack.core.model import Profile, ProfileSpec
from aimtrack.storage.repos.base import UserScopedRepo, to_domain
from aimtrack.storage.tables import UserRow


class ProfileRepo(UserScopedRepo):
    async def get(self) -> Profile:
        return to_domain(Profile, await self._row(), user_id=self.user_id)

    async def update(self, spec: ProfileSpec) -> Profile:
        row = await self._row()
        for name, value in asdict(spec).items():
            setattr(row, name, value)
        await self.db.flush()
        return to_domain(Profile, row, user_id=self.user_id)

    async def set_reminders(self, *, on: bool) -> Profile:
        """Switch reminders on or off (kept apart from :class:`ProfileSpec`, so saving the
        profile's fields never switches them)."""
        row = await self._row()
        row.reminders = bool(on)
        await self.db.flush()
        return to_domain(Profile, row, user_id=self.user_id)

    async def _row(self) -> UserRow:
        row = await self.db.scalar(sa.select(UserRow).where(UserRow.id == self.user_id))
        if row is None:
            raise NotFound("user", self.user_id)
        return row
