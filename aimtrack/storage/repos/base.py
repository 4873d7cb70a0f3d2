"""The one place where user scoping lives."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.core.errors import NotFound
from aimtrack.core.model import is_row_id
from aimtrack.storage.tables import AttachmentRow, Base, Owned

RowT = TypeVar("RowT", bound=Owned)
DomainT = TypeVar("DomainT")


class UserScopedRepo:
    """Base of every repository that reads or writes one user's rows.

    Bound to ``user_id`` at construction; every query filters on it. A row of another
    user is reported exactly like a missing row (:class:`NotFound`), so ids cannot be probed.
    ``tests/integration/test_isolation.py`` attacks every public method of every subclass.
    """

    def __init__(self, db: AsyncSession, user_id: int) -> None:
        self.db = db
        self.user_id = user_id

    def _mine(self, row_type: type[RowT]) -> sa.Select[RowT]:
        return sa.select(row_type).where(row_type.user_id == self.user_id)

    async def _owned(self, row_type: type[RowT], ident: int, kind: str) -> RowT:
        if not is_row_id(ident):
            raise NotFound(kind, ident)
        row = await self.db.scalar(self._mine(row_type).where(row_type.id == ident))
        if row is None:
            raise NotFound(kind, ident)
        return row

    async def _attachment_paths(self, *conditions: Any) -> list[str]:
        """This user's attachment paths matching ``conditions``, to remove after a delete."""
        query = sa.select(AttachmentRow.path).where(
            AttachmentRow.user_id == self.user_id, *conditions
        )
        return list(await self.db.scalars(query))

    async def _owns(self, row_type: type[RowT], ident: int) -> bool:
        if not is_row_id(ident):
            return False
        found = await self.db.scalar(
            sa.select(row_type.id).where(row_type.user_id == self.user_id, row_type.id == ident)
        )
        return found is not None


def upsert(db: AsyncSession, table: type[Base]) -> Any:
    """``INSERT`` with ``ON CONFLICT`` for the dialect in use (SQLite and PostgreSQL both have it).

    A read-then-insert races on PostgreSQL (two transactions both see no row, one fails on the
    unique key); the database's own upsert does not.
    """
    module = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table)


def to_domain(cls: type[DomainT], row: object, **overrides: Any) -> DomainT:
    """Build a domain dataclass from a row by field name; ``overrides`` fill the rest."""
    values = {
        field.name: overrides[field.name] if field.name in overrides else getattr(row, field.name)
        for field in fields(cls)  # type: ignore[arg-type]
        if field.name in overrides or hasattr(row, field.name)
    }
    return cls(**values)
