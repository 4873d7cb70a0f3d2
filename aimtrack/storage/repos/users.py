"""The user directory: who may use AimTrack, and how each transport knows them.

This is the owner's tool (``aimtrack users …``) and the transports' first look-up; it is not
scoped to one user and hands out no user's data beyond name and flags.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.core import limits
from aimtrack.core.errors import InvalidInput
from aimtrack.core.model import Language, Recipient, Transport, UserAccount, clean_text
from aimtrack.storage.tables import IdentityRow, UserRow


@dataclass(frozen=True, slots=True)
class NewUserDefaults:
    language: Language = Language.NL
    timezone: str = "Europe/Amsterdam"


_TRANSPORTS = frozenset(t.value for t in Transport)  # an identity of another build's app is skipped


class UserDirectory:
    def __init__(self, db: AsyncSession, defaults: NewUserDefaults | None = None) -> None:
        self.db = db
        self.defaults = defaults or NewUserDefaults()

    async def find(self, transport: Transport, external_id: str) -> UserAccount | None:
        row = await self._user_by_identity(transport, external_id)
        return None if row is None else await self._account(row)

    async def register(
        self,
        transport: Transport,
        external_id: str,
        *,
        display_name: str | None = None,
        allowed: bool,
    ) -> UserAccount:
        """The user behind this identity, created on first contact (with ``allowed``)."""
        row = await self._user_by_identity(transport, external_id)
        if row is None:
            row = await self._create(
                transport, external_id, display_name=display_name, allowed=allowed
            )
        if allowed and not row.is_allowed:  # also when a concurrent first contact created it
            row.is_allowed = True
        if display_name and not row.display_name:
            row.display_name = _name(display_name)
        await self.db.flush()
        return await self._account(row)

    async def allow_telegram(self, telegram_id: int, *, admin: bool = False) -> UserAccount:
        row = await self._user_by_identity(Transport.TELEGRAM, _telegram_id(telegram_id))
        if row is None:
            row = await self._create(
                Transport.TELEGRAM, _telegram_id(telegram_id), display_name=None, allowed=True
            )
        row.is_allowed = True
        row.is_admin = row.is_admin or admin
        await self.db.flush()
        return await self._account(row)

    async def deny_telegram(self, telegram_id: int) -> UserAccount | None:
        """Withdraw access; the user's data stays until they or the owner delete it."""
        row = await self._user_by_identity(Transport.TELEGRAM, _telegram_id(telegram_id))
        if row is None:
            return None
        row.is_allowed = False
        row.is_admin = False
        await self.db.flush()
        return await self._account(row)

    async def list_users(self) -> list[UserAccount]:
        rows = await self.db.scalars(sa.select(UserRow).order_by(UserRow.id))
        return [await self._account(row) for row in rows]

    async def with_reminders(self) -> list[Recipient]:
        """Every user who switched reminders on, with their identities (allowed or not: the
        caller decides, as the allowlist may also come from the settings)."""
        query = (
            sa.select(
                UserRow.id, UserRow.is_allowed, IdentityRow.transport, IdentityRow.external_id
            )
            .outerjoin(IdentityRow, IdentityRow.user_id == UserRow.id)
            .where(UserRow.reminders.is_(True))
            .order_by(UserRow.id, IdentityRow.id)
        )
        found: dict[int, Recipient] = {}
        for user_id, allowed, transport, external_id in await self.db.execute(query):
            known = found.get(user_id) or Recipient(user_id, allowed, ())
            if transport is not None and transport in _TRANSPORTS:
                identity = (Transport(transport), external_id)
                known = Recipient(user_id, allowed, (*known.identities, identity))
            found[user_id] = known
        return list(found.values())

    async def _create(
        self, transport: Transport, external_id: str, *, display_name: str | None, allowed: bool
    ) -> UserRow:
        """Create the user and identity; if a concurrent first contact won, use theirs."""
        row = UserRow(
            display_name=_name(display_name) if display_name else "",
            language=self.defaults.language,
            timezone=self.defaults.timezone,
            is_allowed=allowed,
            reminders=False,  # given, so the new row holds it without a reload
        )
        try:
            async with self.db.begin_nested():
                self.db.add(row)
                await self.db.flush()
                self.db.add(
                    IdentityRow(user_id=row.id, transport=transport, external_id=external_id)
                )
        except IntegrityError:
            existing = await self._user_by_identity(transport, external_id)
            if existing is None:
                raise
            return existing
        return row

    async def _user_by_identity(self, transport: Transport, external_id: str) -> UserRow | None:
        _identity(transport, external_id)
        return await self.db.scalar(
            sa.select(UserRow)
            .join(IdentityRow, IdentityRow.user_id == UserRow.id)
            .where(IdentityRow.transport == transport, IdentityRow.external_id == external_id)
        )

    async def _account(self, row: UserRow) -> UserAccount:
        telegram = await self.db.scalar(
            sa.select(IdentityRow.external_id).where(
                IdentityRow.user_id == row.id, IdentityRow.transport == Transport.TELEGRAM
            )
        )
        return UserAccount(
            user_id=row.id,
            display_name=row.display_name,
            telegram_id=int(telegram) if telegram is not None else None,
            is_allowed=row.is_allowed,
            is_admin=row.is_admin,
            created_at=row.created_at,
        )


def _telegram_id(telegram_id: int) -> str:
    if isinstance(telegram_id, bool) or not isinstance(telegram_id, int) or telegram_id <= 0:
        raise InvalidInput("telegram_id", "must be a positive whole number")
    return str(telegram_id)


def _identity(transport: Transport, external_id: str) -> None:
    if not transport or len(transport) > limits.MAX_TRANSPORT:
        raise InvalidInput("transport", "is not a transport name")
    if not external_id or len(external_id) > limits.MAX_EXTERNAL_ID:
        raise InvalidInput("external_id", "is empty or too long")


def _name(display_name: str) -> str:
    return clean_text("display_name", display_name, max_len=limits.MAX_NAME) or ""
