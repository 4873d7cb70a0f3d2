"""/mijndata as a background job: everything AimTrack keeps of the user, as one zip archive
sent as a document to the chat that asked.

A job for the reasons of ADR 0008: years of photos take a while to pack, which must hold
neither the turn's transaction nor anyone's chat, and the queue gives retries and "sent at
most once more" after a crash. The rows are read in one read-only transaction through
:class:`~aimtrack.storage.repos.userdata.UserDataRepo` (every table with a ``user_id``,
found from the schema); the archive is packed in a worker thread while the chat shows
"sending a file…".

The archive holds ``README.txt``, ``data.json`` (every row, every column, and which file
belongs to which attachment row) and ``files/<attachment id>.<ext>``. Telegram lets a bot
send files of up to 50 MB: when the files do not fit, the archive is sent without them and
the message says so and where the owner finds them; when not even the rows fit, only the
message is sent.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from aimtrack.bot.io import OutFile, Reply
from aimtrack.bot.push import Activity
from aimtrack.core import formatting
from aimtrack.core.errors import NotFound
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.model import Job
from aimtrack.exports.archive import Member, write_zip
from aimtrack.jobs.services import JobServices
from aimtrack.jobs.worker import JobHandler, Lease
from aimtrack.storage.repos import ProfileRepo, UserDataRepo
from aimtrack.storage.repos.attachments import user_folder
from aimtrack.storage.repos.userdata import UserData

MYDATA: Final = "user_data_export"
MYDATA_ATTEMPTS: Final = 3
UPLOAD_LIMIT: Final = 50_000_000  # Telegram: "bots can currently send files of up to 50 MB"
FORMAT: Final = "aimtrack-mydata"
FORMAT_VERSION: Final = 1
README: Final = "README.txt"
DATA: Final = "data.json"
FILES: Final = "files"
_EXTENSIONS: Final = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}

TEXTS: Final[Catalogue] = {
    "mydata.file": ("aimtrack-mijndata-{date}.zip", "aimtrack-mydata-{date}.zip"),
    "mydata.ready": (
        "📦 Al je gegevens uit AimTrack op {date} (sessies: {sessions}, wapens: {weapons}, "
        "foto's en pdf's: {files}). data.json in het zip-bestand bevat alles wat ik van je "
        "bewaar; je bestanden staan in de map files.",
        "📦 All your data in AimTrack on {date} (sessions: {sessions}, weapons: {weapons}, "
        "photos and PDFs: {files}). data.json in the zip file holds everything I keep of you; "
        "your files are in the folder files.",
    ),
    "mydata.without_files": (
        "📦 Al je gegevens uit AimTrack op {date} (sessies: {sessions}, wapens: {weapons}), "
        "zonder je foto's en pdf's: die zijn samen {size} MB, meer dan de {limit} MB die een "
        "bot via Telegram mag versturen. data.json noemt ze allemaal. Vraag de beheerder van "
        "deze AimTrack om ze: ze staan in de map attachments/{user_id} van de datamap en in "
        "de back-up (aimtrack backup).",
        "📦 All your data in AimTrack on {date} (sessions: {sessions}, weapons: {weapons}), "
        "without your photos and PDFs: together they are {size} MB, more than the {limit} MB "
        "a bot may send through Telegram. data.json lists them all. Ask the owner of this "
        "AimTrack for them: they are in the folder attachments/{user_id} of the data folder "
        "and in the backup (aimtrack backup).",
    ),
    "mydata.too_large": (
        "Je gegevens passen niet in één bestand van {limit} MB, het meeste dat een bot via "
        "Telegram mag versturen. Vraag de beheerder van deze AimTrack om een kopie: alles staat "
        "in de back-up (aimtrack backup), je foto's en pdf's in de map attachments/{user_id}.",
        "Your data does not fit in one file of {limit} MB, the most a bot may send through "
        "Telegram. Ask the owner of this AimTrack for a copy: everything is in the backup "
        "(aimtrack backup), your photos and PDFs in the folder attachments/{user_id}.",
    ),
    "mydata.missing": (
        "Niet op de schijf gevonden, dus niet in het zip-bestand: {missing:# bestand|# bestanden}; "
        "data.json noemt ze.",
        "Not found on disk, so not in the zip file: {missing:# file|# files}; data.json names "
        "them.",
    ),
    "mydata.failed": (
        "Het lukte niet om je gegevens te verzamelen. Probeer het later opnieuw met /mijndata.",
        "I could not gather your data. Please try again later with /mydata.",
    ),
    "mydata.readme": (
        "Al je gegevens uit AimTrack, gemaakt op {made_at} (UTC).\n\n"
        "data.json bevat alles wat AimTrack van je bewaart: onder 'tables' elke tabel met "
        "elke rij van jou en al zijn kolommen. Tijden staan in UTC (ISO 8601); scores staan "
        "in tienden (score_tenths 4315 is 431,5). 'users' is je profiel, 'user_identities' hoe "
        "je chat-app je kent, 'jobs' de achtergrondtaken voor jou (zoals deze), "
        "'conversation_states' waar je in een gesprek was.\n\n"
        "De map files bevat je foto's en pdf's. Onder 'files' in data.json staat welk "
        "bestand bij welke rij van 'attachments' hoort (attachment_id), en of het erin zit.\n",
        "All your data in AimTrack, made on {made_at} (UTC).\n\n"
        "data.json holds everything AimTrack keeps of you: under 'tables' every table with "
        "every row of yours and all its columns. Times are in UTC (ISO 8601); scores are in "
        "tenths (score_tenths 4315 is 431.5). 'users' is your profile, 'user_identities' how "
        "your chat app knows you, 'jobs' the background tasks for you (such as this one), "
        "'conversation_states' where you were in a conversation.\n\n"
        "The folder files holds your photos and PDFs. Under 'files' in data.json you find "
        "which file belongs to which row of 'attachments' (attachment_id), and whether it "
        "is included.\n",
    ),
}


def mydata_key(user_id: int) -> str:
    return f"{user_id}:{MYDATA}"


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One attachment row and what became of its file in the archive."""

    attachment_id: int
    name: str  # inside the archive: files/<id>.<ext>
    source: Path | None  # None: not on disk (or not where the user's files are)
    size: int


@dataclass(frozen=True, slots=True)
class Packed:
    path: Path | None  # None: not even the rows fit
    files: int  # files in the archive
    left_out: int  # bytes of files left out to stay within the limit (0: none)
    missing: int  # attachment rows whose file was not on disk


def stored_files(data: UserData, data_dir: Path) -> list[StoredFile]:
    """The files of ``data``'s attachment rows, found only inside the user's own folder (a
    path or link leading elsewhere counts as missing). Blocking: run it in a thread."""
    folder = (data_dir / user_folder(data.user_id)).resolve()
    found = []
    for row in data.tables.get("attachments", []):
        ident = int(row["id"])
        name = f"{FILES}/{ident}{_EXTENSIONS.get(str(row['mime']), '')}"
        source = (data_dir / str(row["path"])).resolve()
        if source.parent != folder or not source.is_file():
            found.append(StoredFile(ident, name, None, 0))
        else:
            found.append(StoredFile(ident, name, source, source.stat().st_size))
    return found


def pack(
    target: Path,
    data: UserData,
    *,
    data_dir: Path,
    readme: str,
    made_at: datetime,
    limit: int = UPLOAD_LIMIT,
) -> Packed:
    """Write the archive to ``target`` within ``limit`` bytes: with every file when they fit,
    else with the rows only, else not at all. Blocking: run it in a thread."""
    files = stored_files(data, data_dir)
    present = [f for f in files if f.source is not None]
    missing = len(files) - len(present)
    total = sum(f.size for f in present)
    for included in [present, []] if total <= limit else [[]]:
        names = {f.name for f in included}
        document = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "made_at": made_at.isoformat(),
            "user_id": data.user_id,
            "tables": data.tables,
            "files": [_listed(f, names) for f in files],
        }
        size = write_zip(target, _members(readme, document, included))
        if size <= limit:
            return Packed(target, len(included), total if not included else 0, missing)
    target.unlink(missing_ok=True)
    return Packed(None, 0, total, missing)


def _listed(stored: StoredFile, included: set[str]) -> dict[str, Any]:
    if stored.source is None:
        status = "missing"
    else:
        status = "included" if stored.name in included else "left_out"
    return {
        "attachment_id": stored.attachment_id,
        "name": stored.name if status == "included" else None,
        "status": status,
    }


def _members(readme: str, document: dict[str, Any], files: list[StoredFile]) -> Iterator[Member]:
    yield Member(README, text=readme)
    yield Member(DATA, text=json.dumps(document, ensure_ascii=False, indent=2))
    for stored in files:
        yield Member(stored.name, source=stored.source)


class MyDataJob(JobHandler):
    def __init__(self, jobs: JobServices, *, limit: int = UPLOAD_LIMIT) -> None:
        self.jobs = jobs
        self.limit = limit

    async def run(self, job: Job, lease: Lease) -> None:
        target = self.jobs.recipient(job, lease, "archive")
        if target is None or job.user_id is None:
            return
        try:
            async with self.jobs.db.transaction(read_only=True) as db:
                profile = await ProfileRepo(db, job.user_id).get()
                data = await UserDataRepo(db, job.user_id).export()
        except NotFound:  # the user erased everything after asking
            return
        t = self.jobs.translator(profile.language)
        now = self.jobs.clock.now()
        day = now.astimezone(ZoneInfo(profile.timezone)).date()
        name = t("mydata.file", date=day.isoformat())
        showing = self.jobs.messengers.showing(target, Activity.UPLOADING_DOCUMENT)
        async with self.jobs.scratch() as scratch, showing:
            packed = await asyncio.to_thread(
                pack,
                scratch / name,
                data,
                data_dir=self.jobs.data_dir,
                readme=t("mydata.readme", made_at=now.isoformat(timespec="seconds")),
                made_at=now,
                limit=self.limit,
            )
            reply = self._reply(t, data, packed, name, formatting.day(day))
            await self.jobs.send(job, lease, reply)

    def _reply(self, t: Translator, data: UserData, packed: Packed, name: str, day: str) -> Reply:
        limit = self.limit // 1_000_000
        if packed.path is None:
            return Reply(t("mydata.too_large", limit=limit, user_id=data.user_id))
        counts = {
            "date": day,
            "sessions": data.count("sessions"),
            "weapons": data.count("weapons"),
        }
        if packed.left_out:
            size = math.ceil(packed.left_out / 1_000_000)
            text = t("mydata.without_files", size=size, limit=limit, user_id=data.user_id, **counts)
        else:
            text = t("mydata.ready", files=packed.files, **counts)
        if packed.missing:
            text += "\n\n" + t("mydata.missing", missing=packed.missing)
        document = OutFile(packed.path, is_photo=False, name=name, transient=True)
        return Reply(text, files=(document,))

    async def give_up(self, job: Job, lease: Lease, error: str) -> None:
        if job.user_id is None:
            return
        try:
            t = await self.jobs.translator_for(job.user_id)
        except NotFound:
            return
        await self.jobs.send(job, lease, Reply(t("mydata.failed")))
