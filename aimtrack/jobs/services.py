"""What every job kind needs: the database, the clock, the texts, the data folder and the way
out to the chat a job came from (the pushers of the transports running in this process).

A job sends its message through :meth:`JobServices.send`, once: a run after a crash skips a
message already recorded as sent on the job (see :class:`~aimtrack.jobs.worker.Lease`).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from aimtrack.bot.io import Reply
from aimtrack.bot.push import Activity, Address, Messengers, NoRoute
from aimtrack.core.clock import Clock
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.model import Job, Language
from aimtrack.jobs.worker import Lease
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ProfileRepo

log = logging.getLogger(__name__)


class JobServices:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        messengers: Messengers,
        catalogue: Catalogue,
        data_dir: Path,
    ) -> None:
        self.db = db
        self.clock = clock
        self.messengers = messengers
        self.catalogue = catalogue
        self.data_dir = data_dir

    def translator(self, language: Language) -> Translator:
        return Translator(self.catalogue, language)

    async def translator_for(self, user_id: int) -> Translator:
        """The texts in the language of ``user_id``'s profile, read now."""
        async with self.db.transaction(read_only=True) as db:
            language = (await ProfileRepo(db, user_id).get()).language
        return self.translator(language)

    def recipient(self, job: Job, lease: Lease, what: str) -> Address | None:
        """Where a file-making job (export, charts, /mijndata) sends its result, or None when
        there is nothing to do: sent already, no user, or nobody here who could receive it
        (``what`` is not kept, so it is dropped, with a warning)."""
        if lease.already_sent or job.user_id is None:
            return None
        target = Address.from_json(job.payload)
        try:
            self.messengers.get(target)
        except NoRoute as missing:
            log.warning("job %s: %s; it is not kept, so the %s is dropped", job.id, missing, what)
            return None
        return target

    async def send(self, job: Job, lease: Lease, reply: Reply) -> None:
        """Push ``reply`` to the chat the job came from, once: a run after a crash skips a
        message already recorded as sent."""
        if lease.already_sent:
            return
        try:
            message_id = await self.messengers.push(Address.from_json(job.payload), reply)
        except NoRoute as missing:
            # Whatever the job saved is shown in the chat's lists; nobody here can deliver it.
            log.warning("job %s: %s; nothing was pushed", job.id, missing)
            return
        await lease.record_sent(message_id)

    def showing(self, job: Job, activity: Activity) -> AbstractAsyncContextManager[None]:
        """Show ``activity`` ("typing…", "sending a file…") in the job's chat meanwhile."""
        return self.messengers.showing(Address.from_json(job.payload), activity)

    @asynccontextmanager
    async def scratch(self) -> AsyncIterator[Path]:
        """A private folder for files being made, removed with what is in it afterwards (it
        lies in the data folder, which only AimTrack's user may read)."""
        folder = self.data_dir / "tmp"
        await asyncio.to_thread(folder.mkdir, mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            yield Path(scratch)
