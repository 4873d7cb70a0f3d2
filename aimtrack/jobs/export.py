"""The register export as a background job: /export queues it, the worker builds the file and
sends it as a document to the chat that asked.

A job, not work inside the turn: a PDF of years of sessions takes seconds, the turn holds a
database transaction, and the chat of every other user would wait behind it. The durable queue
also gives the export its retries and its "sent at most once more" after a crash. The document
is built in a worker thread (see :func:`aimtrack.exports.service.export_register`) while the
chat shows "sending a file…".
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from aimtrack.bot.io import OutFile, Reply
from aimtrack.bot.push import Activity
from aimtrack.core import formatting
from aimtrack.core.errors import InvalidInput, NotFound
from aimtrack.core.i18n import Catalogue
from aimtrack.core.model import Job
from aimtrack.exports.service import ExportFormat, ExportRequest, export_register
from aimtrack.jobs.services import JobServices
from aimtrack.jobs.worker import JobHandler, Lease

EXPORT: Final = "register_export"
EXPORT_ATTEMPTS: Final = 3  # a file that fails three times is a bug, not a hiccup

TEXTS: Final[Catalogue] = {
    "export.ready": (
        "📄 Je register {period} (schietdagen: {days}, regels: {rows}).",
        "📄 Your register {period} (shooting days: {days}, rows: {rows}).",
    ),
    "export.gone": (
        "Je export kon niet worden gemaakt: een gekozen wapen bestaat niet meer. Probeer "
        "/export opnieuw.",
        "Your export could not be made: a chosen weapon no longer exists. Try /export again.",
    ),
    "export.failed": (
        "Het lukte niet om je register te maken. Probeer het later opnieuw met /export.",
        "I could not make your register. Please try again later with /export.",
    ),
}


def to_payload(request: ExportRequest) -> dict[str, Any]:
    return {
        "from": request.period_from.isoformat(),
        "to": request.period_to.isoformat(),
        "format": request.format.value,
        "weapons": None if request.weapon_ids is None else sorted(request.weapon_ids),
    }


def from_payload(payload: Mapping[str, Any]) -> ExportRequest:
    """The request a job carries (InvalidInput when the payload is not one)."""
    try:
        weapons = payload["weapons"]
        return ExportRequest(
            period_from=date.fromisoformat(str(payload["from"])),
            period_to=date.fromisoformat(str(payload["to"])),
            format=ExportFormat(str(payload["format"])),
            weapon_ids=None if weapons is None else frozenset(int(w) for w in weapons),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput("payload", f"is not an export request ({error})") from None


class ExportJob(JobHandler):
    def __init__(self, jobs: JobServices) -> None:
        self.jobs = jobs

    async def run(self, job: Job, lease: Lease) -> None:
        target = self.jobs.recipient(job, lease, "export")
        if target is None or job.user_id is None:
            return
        t = await self.jobs.translator_for(job.user_id)
        request = from_payload(job.payload)
        try:
            async with self.jobs.messengers.showing(target, Activity.UPLOADING_DOCUMENT):
                made = await export_register(
                    self.jobs.db, job.user_id, request, now=self.jobs.clock.now()
                )
        except NotFound:  # a chosen weapon was deleted after the request
            await self.jobs.send(job, lease, Reply(t("export.gone")))
            return
        async with self.jobs.scratch() as scratch:
            path = scratch / made.name
            await asyncio.to_thread(path.write_bytes, made.content)
            period = formatting.period(request.period_from, request.period_to)
            caption = t("export.ready", period=period, rows=made.rows, days=made.days)
            reply = Reply(caption, files=(OutFile(path, is_photo=False, name=made.name),))
            await self.jobs.send(job, lease, reply)

    async def give_up(self, job: Job, lease: Lease, error: str) -> None:
        if job.user_id is None:
            return
        t = await self.jobs.translator_for(job.user_id)
        await self.jobs.send(job, lease, Reply(t("export.failed")))
