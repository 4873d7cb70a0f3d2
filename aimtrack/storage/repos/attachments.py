"""Files attached to a session, an entry or a weapon of one user."""

from __future__ import annotations

from aimtrack.core.errors import InvalidInput
from aimtrack.core.model import Attachment, AttachmentOwner, AttachmentSpec, is_row_id
from aimtrack.storage.repos.base import UserScopedRepo, to_domain
from aimtrack.storage.tables import AttachmentRow, EntryRow, Owned, SessionRow, WeaponRow

_OWNER_TABLES: dict[AttachmentOwner, tuple[type[Owned], str]] = {
    AttachmentOwner.SESSION: (SessionRow, "session_id"),
    AttachmentOwner.ENTRY: (EntryRow, "entry_id"),
    AttachmentOwner.WEAPON: (WeaponRow, "weapon_id"),
}


def _attachment(row: AttachmentRow) -> Attachment:
    owner, owner_id = row.owner
    return to_domain(Attachment, row, owner=owner, owner_id=owner_id)


def user_folder(user_id: int) -> str:
    """Where a user's files live, relative to the data directory: deleting a user can remove
    the whole folder, and no file of theirs sits anywhere else."""
    return f"attachments/{user_id}/"


class AttachmentRepo(UserScopedRepo):
    async def add(self, spec: AttachmentSpec) -> Attachment:
        if not spec.path.startswith(user_folder(self.user_id)):
            raise InvalidInput("path", f"must be inside {user_folder(self.user_id)}")
        table, column = _OWNER_TABLES[spec.owner]
        await self._owned(table, spec.owner_id, spec.owner.value)
        row = AttachmentRow(
            user_id=self.user_id,
            path=spec.path,
            mime=spec.mime,
            size_bytes=spec.size_bytes,
            sha256=spec.sha256,
            original_name=spec.original_name,
            **{column: spec.owner_id},
        )
        self.db.add(row)
        await self.db.flush()
        return _attachment(row)

    async def get(self, attachment_id: int) -> Attachment:
        return _attachment(await self._owned(AttachmentRow, attachment_id, "attachment"))

    async def list_for(self, owner: AttachmentOwner, owner_id: int) -> list[Attachment]:
        if not is_row_id(owner_id):
            return []
        column = getattr(AttachmentRow, _OWNER_TABLES[AttachmentOwner(owner)][1])
        rows = await self.db.scalars(
            self._mine(AttachmentRow).where(column == owner_id).order_by(AttachmentRow.id)
        )
        return [_attachment(row) for row in rows]

    async def delete(self, attachment_id: int) -> Attachment:
        """Remove the row; the caller removes the file at the returned path."""
        row = await self._owned(AttachmentRow, attachment_id, "attachment")
        gone = _attachment(row)
        await self.db.delete(row)
        await self.db.flush()
        return gone
