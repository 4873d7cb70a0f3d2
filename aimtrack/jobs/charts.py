"""The /stats charts as a background job: the turn answers with the text at once and queues
this job, which draws the charts (matplotlib, in a worker thread) and sends them as photos.

A job for the same reasons as the export (ADR 0008): drawing takes a few hundred milliseconds
a chart, which must hold neither the turn's transaction nor anyone's chat, and the queue gives
retries and "sent at most once more" after a crash. Of several requests queued in a row (a
shooter tapping through weapons), one whose charts a newer pending request also draws is
skipped: only the latest selection is worth the picture.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Final

from aimtrack.bot.io import OutFile, Reply
from aimtrack.bot.push import Activity
from aimtrack.core import insight
from aimtrack.core.errors import InvalidInput
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.licence import licence_progress
from aimtrack.core.model import Job, JobStatus, Language
from aimtrack.jobs.records import Records
from aimtrack.jobs.services import JobServices
from aimtrack.jobs.worker import JobHandler, Lease
from aimtrack.storage.repos import JobQueue, ProfileRepo, SessionRepo, WeaponRepo

log = logging.getLogger(__name__)

CHARTS: Final = "stats_charts"
CHARTS_ATTEMPTS: Final = 3
TIMELINE_DAYS: Final = 365
_LONG_AGO: Final = date(1900, 1, 1)

TEXTS: Final[Catalogue] = {
    "stats.chart.score": (
        "🎯 {weapon} · {distance} m · {period}",
        "🎯 {weapon} · {distance} m · {period}",
    ),
    "stats.chart.rounds": (
        "🔫 Schoten per maand, laatste 12 maanden",
        "🔫 Rounds per month, last 12 months",
    ),
    "stats.chart.licence": (
        "📋 Verlof: schietdagen in de afgelopen 12 maanden, en de wedstrijden van {year}",
        "📋 Licence: shooting days in the last 12 months, and the matches of {year}",
    ),
    "stats.charts_failed": (
        "Het lukte niet om je grafieken te tekenen. Probeer het later opnieuw met /statistieken.",
        "I could not draw your charts. Please try again later with /stats.",
    ),
}


class Chart(StrEnum):
    SCORE = "score"  # one weapon at one distance over the chosen period
    ROUNDS = "rounds"  # the last 12 months
    LICENCE = "licence"  # the rolling count over the last year, and this year's matches


@dataclass(frozen=True, slots=True)
class ChartRequest:
    charts: tuple[Chart, ...]
    since: date | None  # the score chart's first day; None: since ever
    weapon_id: int | None
    distance_m: int | None
    period_label: str  # as the text named it: "laatste 12 maanden"

    def to_payload(self) -> dict[str, Any]:
        return {
            "charts": [c.value for c in self.charts],
            "since": None if self.since is None else self.since.isoformat(),
            "weapon": self.weapon_id,
            "distance": self.distance_m,
            "period": self.period_label,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ChartRequest:
        """The request a job carries (InvalidInput when the payload is not one)."""
        try:
            since = payload["since"]
            weapon, distance = payload["weapon"], payload["distance"]
            return cls(
                charts=tuple(Chart(str(c)) for c in payload["charts"]),
                since=None if since is None else date.fromisoformat(str(since)),
                weapon_id=None if weapon is None else int(weapon),
                distance_m=None if distance is None else int(distance),
                period_label=str(payload["period"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidInput("payload", f"is not a chart request ({error})") from None


@dataclass(frozen=True, slots=True)
class Drawing:
    """One chart to draw: which, what it shows, and its caption."""

    chart: Chart
    caption: str
    data: Mapping[str, Any]  # the keyword arguments of the chart function


def drawings(
    request: ChartRequest, records: Records, t: Translator, *, today: date
) -> list[Drawing]:
    """What each requested chart shows, from the user's records (pure). A score chart for a
    weapon or distance without scored results in the period is left out."""
    history = records.history
    out = []
    for chart in request.charts:
        if chart is Chart.SCORE:
            weapon = records.weapons.get(request.weapon_id or 0)
            if weapon is None or request.distance_m is None:
                continue
            points = insight.score_points(
                history, weapon.id, request.distance_m, since=request.since, until=today
            )
            if not points:
                continue
            window = insight.average_window(len(points))
            values = [p.per_shot for p in points]
            title = f"{weapon.name} · {request.distance_m} m"
            out.append(
                Drawing(
                    chart,
                    t(
                        "stats.chart.score",
                        weapon=weapon.name,
                        distance=request.distance_m,
                        period=request.period_label,
                    ),
                    {
                        "points": [(p.day, p.per_shot) for p in points],
                        "average": insight.moving_average(values, window),
                        "title": title,
                        "window": window,
                    },
                )
            )
        elif chart is Chart.ROUNDS:
            months = insight.rounds_per_month(history, today=today)
            out.append(
                Drawing(
                    chart,
                    t("stats.chart.rounds"),
                    {"months": [(m.month, m.rounds) for m in months]},
                )
            )
        else:
            progress = licence_progress(history, today=today)
            out.append(
                Drawing(
                    chart,
                    t("stats.chart.licence", year=progress.year),
                    {
                        "days": insight.licence_timeline(
                            history, today=today, span_days=TIMELINE_DAYS
                        ),
                        "required_days": progress.required_days,
                        "year": progress.year,
                        "knsa": progress.knsa_matches,
                        "club": progress.club_matches,
                        "required_knsa": progress.required_knsa,
                        "required_club": progress.required_club,
                    },
                )
            )
    return out


def render(drawings: Sequence[Drawing], language: Language) -> list[bytes]:
    """PNG bytes of each drawing. Blocking (matplotlib): run it in a worker thread. The
    charts module is imported here, so a bot that never draws never loads matplotlib."""
    from aimtrack import charts  # noqa: PLC0415 -- matplotlib costs memory; load on first use

    rendered = []
    for drawing in drawings:
        data: dict[str, Any] = dict(drawing.data)
        if drawing.chart is Chart.SCORE:
            rendered.append(charts.score_chart(**data, language=language))
        elif drawing.chart is Chart.ROUNDS:
            rendered.append(charts.rounds_chart(**data, language=language))
        else:
            rendered.append(charts.licence_chart(**data, language=language))
    # A figure is a web of reference cycles that only the cyclic collector frees: collecting
    # now keeps the process at about 76 MiB after the first charts instead of letting it
    # settle near 135 MiB (bench/README.md). It costs some 20 ms, in this thread.
    gc.collect()
    return rendered


@functools.cache
def _drawing_thread() -> ThreadPoolExecutor:
    """The one thread that draws. matplotlib caches fonts per thread, and drawing holds the
    GIL most of the time, so more threads would cost memory without drawing any faster
    (bench/README.md); requests wait for each other at about 0.1 s a chart."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="aimtrack-charts")


class ChartsJob(JobHandler):
    def __init__(self, jobs: JobServices) -> None:
        self.jobs = jobs

    async def run(self, job: Job, lease: Lease) -> None:
        target = self.jobs.recipient(job, lease, "charts")
        if target is None or job.user_id is None:
            return
        request = ChartRequest.from_payload(job.payload)
        if await self._superseded(job, request):
            log.info("job %s: a newer chart request draws the same; skipped", job.id)
            return
        records = await self._records(job.user_id, request)
        today = records.today(self.jobs.clock.now())
        language = records.profile.language
        planned = drawings(request, records, self.jobs.translator(language), today=today)
        if not planned:
            return
        async with self.jobs.messengers.showing(target, Activity.UPLOADING_PHOTO):
            loop = asyncio.get_running_loop()
            images = await loop.run_in_executor(_drawing_thread(), render, planned, language)
        async with self.jobs.scratch() as scratch:
            files = []
            for drawing, image in zip(planned, images, strict=True):
                path = scratch / f"aimtrack-{drawing.chart.value}.png"
                await asyncio.to_thread(path.write_bytes, image)
                files.append(OutFile(path, is_photo=True, caption=drawing.caption, transient=True))
            await self.jobs.send(job, lease, Reply("", files=tuple(files)))

    async def give_up(self, job: Job, lease: Lease, error: str) -> None:
        if job.user_id is None:
            return
        async with self.jobs.db.transaction(read_only=True) as db:
            language = (await ProfileRepo(db, job.user_id).get()).language
        await self.jobs.send(
            job, lease, Reply(self.jobs.translator(language)("stats.charts_failed"))
        )

    async def _superseded(self, job: Job, request: ChartRequest) -> bool:
        """Whether a newer chart request of this user, not done yet, draws every chart this
        one would (the score chart for a newer selection, or all of them again)."""
        async with self.jobs.db.transaction(read_only=True) as db:
            queue = JobQueue(db)
            waiting = [
                *await queue.list_jobs(status=JobStatus.PENDING, user_id=job.user_id),
                *await queue.list_jobs(status=JobStatus.RUNNING, user_id=job.user_id),
            ]
        for newer in waiting:
            if newer.kind != CHARTS or newer.id <= job.id:
                continue
            try:
                if set(request.charts) <= set(ChartRequest.from_payload(newer.payload).charts):
                    return True
            except InvalidInput:
                continue
        return False

    async def _records(self, user_id: int, request: ChartRequest) -> Records:
        """The user's records back to the first day a requested chart needs: the licence
        timeline's first day counts a year further back, the score chart its period."""
        async with self.jobs.db.transaction(read_only=True) as db:
            profile = await ProfileRepo(db, user_id).get()
            today = Records(profile, {}, []).today(self.jobs.clock.now())
            first = today - timedelta(days=TIMELINE_DAYS + 366)
            if Chart.SCORE in request.charts:
                first = min(first, request.since or _LONG_AGO)
            weapons = await WeaponRepo(db, user_id).list_weapons(include_retired=True)
            sessions = await SessionRepo(db, user_id).between(first, today)
        return Records(profile, {w.id: w for w in weapons}, sessions)
