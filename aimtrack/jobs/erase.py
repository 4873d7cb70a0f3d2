"""Removing an erased user's files: a job queued in the very transaction that erased their
rows (``/verwijder``), so the folder ``attachments/<user_id>/`` goes once the erasure has
committed, and still goes after a crash right after the commit.

The job belongs to no user (its user is gone); its payload holds only the erased id. On
SQLite a new account may be given that id again (the highest id of a table is reused once its
row is deleted). If that happened before the job ran, the new account keeps every file its
rows name and every file written since it was created; only the older, unnamed ones go.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import datetime
from pathlib import Path
from typing import Final

from aimtrack.core.errors import InvalidInput
from aimtrack.core.model import Job, is_row_id
from aimtrack.jobs.services import JobServices
from aimtrack.jobs.worker import JobHandler, Lease
from aimtrack.storage.repos import UserDataRepo
from aimtrack.storage.repos.attachments import user_folder

log = logging.getLogger(__name__)

ERASE_FILES: Final = "erase_files"
ERASE_ATTEMPTS: Final = 5


def remove_user_files(
    data_dir: Path,
    user_id: int,
    *,
    keep: frozenset[str] = frozenset(),
    since: datetime | None = None,
) -> int:
    """Remove ``attachments/<user_id>/`` and everything in it; returns the files removed.

    With ``since`` (the id belongs to a new account), only the files that ``keep`` does not
    name (paths relative to ``data_dir``) and that were last written before ``since`` go, and
    the folder stays. A folder that is a link, or leads outside ``attachments``, is refused
    (ValueError). Blocking: run it in a thread.
    """
    if not is_row_id(user_id):
        raise InvalidInput("user_id", "is not a user id")
    folder = data_dir / user_folder(user_id)
    if not folder.exists() and not folder.is_symlink():
        return 0
    root = (data_dir / "attachments").resolve()
    if folder.is_symlink() or not folder.is_dir() or folder.resolve().parent != root:
        msg = f"{folder} is not a folder of attachments"
        raise ValueError(msg)
    if since is None:
        removed = sum(1 for entry in folder.rglob("*") if not entry.is_dir())
        shutil.rmtree(folder)
        return removed
    removed = 0
    for entry in folder.iterdir():
        relative = f"{user_folder(user_id)}{entry.name}"
        if relative in keep or entry.is_dir() or entry.is_symlink():
            continue
        if entry.stat().st_mtime < since.timestamp():
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def erase_payload(user_id: int) -> dict[str, int]:
    """What the job carries: only the erased id (the job belongs to no user: its user is
    gone)."""
    return {"user_id": user_id}


class EraseFilesJob(JobHandler):
    def __init__(self, jobs: JobServices) -> None:
        self.jobs = jobs

    async def run(self, job: Job, lease: Lease) -> None:
        user_id = job.payload.get("user_id")
        if not isinstance(user_id, int) or not is_row_id(user_id):
            log.error("job %s: %r is not a user id; nothing removed", job.id, user_id)
            return
        async with self.jobs.db.transaction(read_only=True) as db:
            again = await UserDataRepo(db, user_id).export()
        keep: frozenset[str] = frozenset()
        since: datetime | None = None
        if again.tables["users"]:  # a new account got the id before this job ran (SQLite)
            keep = frozenset(str(row["path"]) for row in again.tables["attachments"])
            since = datetime.fromisoformat(str(again.tables["users"][0]["created_at"]))
            log.warning(
                "job %s: user id %s is a new account's now; its files stay", job.id, user_id
            )
        removed = await asyncio.to_thread(
            remove_user_files, self.jobs.data_dir, user_id, keep=keep, since=since
        )
        log.info("job %s: removed %s file(s) of erased user %s", job.id, removed, user_id)

    async def give_up(self, job: Job, lease: Lease, error: str) -> None:
        user_id = job.payload.get("user_id")
        log.error(
            "job %s: the files of erased user %s could not be removed (%s); remove "
            "attachments/%s/ in the data folder by hand",
            job.id,
            user_id,
            error,
            user_id,
        )
