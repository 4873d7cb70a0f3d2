"""Shooting sessions and their weapon entries, for one user."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from aimtrack.core import limits
from aimtrack.core.errors import NotFound
from aimtrack.core.model import (
    Entry,
    EntrySpec,
    SessionSpec,
    SessionStatus,
    ShootingSession,
    is_row_id,
)
from aimtrack.storage.repos.base import UserScopedRepo, to_domain
from aimtrack.storage.tables import AttachmentRow, EntryRow, SessionRow, WeaponRow

MAX_PAGE = 100
MAX_HISTORY = 1000


def _entry(row: EntryRow | sa.Row[Any]) -> Entry:
    score = None if row.score_tenths is None else Decimal(row.score_tenths) / 10
    return to_domain(Entry, row, score=score)


def _entry_values(spec: EntrySpec) -> dict[str, object]:
    values = asdict(spec)
    score = values.pop("score")
    values["score_tenths"] = None if score is None else int(score * 10)
    return values


class SessionRepo(UserScopedRepo):
    async def create(self, spec: SessionSpec, entries: Sequence[EntrySpec] = ()) -> ShootingSession:
        for entry in entries:
            await self._require_weapon(entry.weapon_id)
        row = SessionRow(user_id=self.user_id, **asdict(spec))
        self.db.add(row)
        await self.db.flush()
        for position, entry in enumerate(entries):
            self.db.add(
                EntryRow(
                    user_id=self.user_id,
                    session_id=row.id,
                    position=position,
                    **_entry_values(entry),
                )
            )
        await self.db.flush()
        return await self.get(row.id)

    async def get(self, session_id: int) -> ShootingSession:
        row = await self._owned(SessionRow, session_id, "session")
        return (await self._with_entries([row]))[0]

    async def list_sessions(
        self, *, limit: int = 10, offset: int = 0, status: SessionStatus | None = None
    ) -> list[ShootingSession]:
        """Newest first, a page at a time."""
        if not 0 <= offset <= limits.MAX_ROW_ID:  # a forged page number: nothing there
            return []
        query = (
            self._mine(SessionRow)
            .order_by(SessionRow.occurred_on.desc(), SessionRow.id.desc())
            .limit(max(1, min(limit, MAX_PAGE)))
            .offset(offset)
        )
        if status is not None:
            query = query.where(SessionRow.status == status)
        return await self._with_entries(list(await self.db.scalars(query)))

    async def history(
        self,
        *,
        since: date | None = None,
        until: date | None = None,
        weapon_id: int | None = None,
        limit: int = 500,
    ) -> list[ShootingSession]:
        """Saved sessions (drafts are not facts yet) for statistics and AI prompts, newest
        first: within ``since..until`` (inclusive) and, with ``weapon_id``, only the sessions
        that used that weapon, each still with all its entries."""
        query = (
            self._mine(SessionRow)
            .where(SessionRow.status == SessionStatus.SAVED)
            .order_by(SessionRow.occurred_on.desc(), SessionRow.id.desc())
            .limit(max(1, min(limit, MAX_HISTORY)))
        )
        if since is not None:
            query = query.where(SessionRow.occurred_on >= since)
        if until is not None:
            query = query.where(SessionRow.occurred_on <= until)
        if weapon_id is not None:
            if not is_row_id(weapon_id):
                return []
            used = (
                sa.select(EntryRow.id)
                .where(
                    EntryRow.user_id == self.user_id,
                    EntryRow.session_id == SessionRow.id,
                    EntryRow.weapon_id == weapon_id,
                )
                .exists()
            )
            query = query.where(used)
        return await self._with_entries(list(await self.db.scalars(query)))

    async def between(
        self, since: date, until: date, *, weapon_id: int | None = None
    ) -> list[ShootingSession]:
        """Every saved session dated ``since..until`` (inclusive) with all its entries, oldest
        first and without a cap: the register reads years at once; with ``weapon_id``, only
        the sessions that used that weapon. Two Core queries, whatever the number of sessions
        (no ``IN`` list that could outgrow the driver's parameter limit, and no ORM identity
        map to fill: plain rows become the read models directly)."""
        in_range: list[sa.ColumnElement[bool]] = [
            SessionRow.user_id == self.user_id,
            SessionRow.status == SessionStatus.SAVED,
            SessionRow.occurred_on >= since,
            SessionRow.occurred_on <= until,
        ]
        if weapon_id is not None:
            if not is_row_id(weapon_id):
                return []
            # Not a correlated EXISTS: SQLite then walks every entry of the weapon for each
            # session (quadratic in the history; bench/README "throughput"). The sessions of
            # the weapon are one indexed lookup.
            used = aliased(EntryRow)
            in_range.append(
                SessionRow.id.in_(
                    sa.select(used.session_id).where(
                        used.user_id == self.user_id, used.weapon_id == weapon_id
                    )
                )
            )
        rows = (
            await self.db.execute(
                sa.select(*SessionRow.__table__.c)
                .where(*in_range)
                .order_by(SessionRow.occurred_on, SessionRow.id)
            )
        ).all()
        entries = await self.db.execute(
            sa.select(*EntryRow.__table__.c)
            .join(
                SessionRow,
                sa.and_(
                    SessionRow.id == EntryRow.session_id, SessionRow.user_id == EntryRow.user_id
                ),
            )
            .where(EntryRow.user_id == self.user_id, *in_range)
            .order_by(EntryRow.session_id, EntryRow.position, EntryRow.id)
        )
        return _sessions(rows, entries)

    async def shooting_days(self, *, until: date) -> list[date]:
        """The distinct days with a saved session up to ``until``, oldest first: what a streak
        is counted over, however long ago it began."""
        rows = await self.db.scalars(
            sa.select(SessionRow.occurred_on)
            .where(
                SessionRow.user_id == self.user_id,
                SessionRow.status == SessionStatus.SAVED,
                SessionRow.occurred_on <= until,
            )
            .distinct()
            .order_by(SessionRow.occurred_on)
        )
        return list(rows)

    async def count(self, *, status: SessionStatus | None = None) -> int:
        query = sa.select(sa.func.count()).where(SessionRow.user_id == self.user_id)
        if status is not None:
            query = query.where(SessionRow.status == status)
        return int(await self.db.scalar(query) or 0)

    async def update(self, session_id: int, spec: SessionSpec) -> ShootingSession:
        row = await self._owned(SessionRow, session_id, "session")
        for name, value in asdict(spec).items():
            setattr(row, name, value)
        await self.db.flush()
        return await self.get(session_id)

    async def delete(self, session_id: int) -> list[str]:
        """Delete a session with its entries; returns attachment paths to remove from disk."""
        row = await self._owned(SessionRow, session_id, "session")
        entry_ids = sa.select(EntryRow.id).where(
            EntryRow.user_id == self.user_id, EntryRow.session_id == session_id
        )
        paths = await self._attachment_paths(
            sa.or_(AttachmentRow.session_id == session_id, AttachmentRow.entry_id.in_(entry_ids)),
        )
        await self.db.delete(row)
        await self.db.flush()
        return paths

    async def add_entry(self, session_id: int, spec: EntrySpec) -> Entry:
        await self._owned(SessionRow, session_id, "session")
        await self._require_weapon(spec.weapon_id)
        last = await self.db.scalar(
            sa.select(sa.func.max(EntryRow.position)).where(
                EntryRow.user_id == self.user_id, EntryRow.session_id == session_id
            )
        )
        row = EntryRow(
            user_id=self.user_id,
            session_id=session_id,
            position=0 if last is None else last + 1,
            **_entry_values(spec),
        )
        self.db.add(row)
        await self.db.flush()
        return _entry(row)

    async def update_entry(self, entry_id: int, spec: EntrySpec) -> Entry:
        row = await self._owned(EntryRow, entry_id, "entry")
        await self._require_weapon(spec.weapon_id)
        for name, value in _entry_values(spec).items():
            setattr(row, name, value)
        await self.db.flush()
        return _entry(row)

    async def delete_entry(self, entry_id: int) -> list[str]:
        row = await self._owned(EntryRow, entry_id, "entry")
        paths = await self._attachment_paths(AttachmentRow.entry_id == entry_id)
        await self.db.delete(row)
        await self.db.flush()
        return paths

    async def recent_clubs(self, *, limit: int = 5) -> list[str]:
        """The clubs of the latest sessions, most recent first, each once."""
        query = (
            sa.select(SessionRow.club, sa.func.max(SessionRow.occurred_on).label("last"))
            .where(SessionRow.user_id == self.user_id, SessionRow.club.is_not(None))
            .group_by(SessionRow.club)
            .order_by(sa.desc("last"), SessionRow.club)
            .limit(max(1, min(limit, MAX_PAGE)))
        )
        return [club for club, _ in await self.db.execute(query) if club is not None]

    async def recent_distances(self, weapon_id: int, *, limit: int = 4) -> list[int]:
        """The distances this weapon was last used at, most recent first, each once."""
        if not is_row_id(weapon_id):
            return []
        query = (
            sa.select(EntryRow.distance_m, sa.func.max(SessionRow.occurred_on).label("last"))
            .join(
                SessionRow,
                sa.and_(
                    SessionRow.id == EntryRow.session_id, SessionRow.user_id == EntryRow.user_id
                ),
            )
            .where(EntryRow.user_id == self.user_id, EntryRow.weapon_id == weapon_id)
            .group_by(EntryRow.distance_m)
            .order_by(sa.desc("last"), EntryRow.distance_m)
            .limit(max(1, min(limit, MAX_PAGE)))
        )
        return [distance for distance, _ in await self.db.execute(query)]

    async def _require_weapon(self, weapon_id: int) -> None:
        if not await self._owns(WeaponRow, weapon_id):
            raise NotFound("weapon", weapon_id)

    async def _with_entries(self, rows: list[SessionRow]) -> list[ShootingSession]:
        if not rows:
            return []
        entries = await self.db.scalars(
            self._mine(EntryRow)
            .where(EntryRow.session_id.in_([row.id for row in rows]))
            .order_by(EntryRow.session_id, EntryRow.position, EntryRow.id)
        )
        return _sessions(rows, entries)


def _sessions(
    rows: Sequence[SessionRow | sa.Row[Any]], entries: Iterable[EntryRow | sa.Row[Any]]
) -> list[ShootingSession]:
    """Sessions with their entries (ordered by session, then position), in ``rows``' order."""
    by_session: dict[int, list[Entry]] = {row.id: [] for row in rows}
    for entry in entries:
        by_session[entry.session_id].append(_entry(entry))
    return [to_domain(ShootingSession, row, entries=tuple(by_session[row.id])) for row in rows]
