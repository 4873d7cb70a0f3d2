"""Reflections on sessions and trends of weapons: jobs whose result lives on an AI row.

The job reads the user's records, asks the coach (or computes the statistics fallback), saves
the result on its AI row with its audit, and pushes it to the chat the request came from. Each
run is safe to repeat after a crash: a result already saved for this job is sent rather than
made again, and a message already recorded as sent is not sent again. Every read and write is
scoped to the job's user through the user-scoped repositories, so one user's job cannot see
another's records.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, replace
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.ai import prompts, vision
from aimtrack.ai.coach import ShooterCoach
from aimtrack.bot.io import Reply
from aimtrack.bot.push import Activity
from aimtrack.core import fallback, stats
from aimtrack.core.errors import NotFound
from aimtrack.core.i18n import Translator
from aimtrack.core.model import (
    AIAudit,
    AIStatus,
    AttachmentOwner,
    InsightText,
    Job,
    Reflection,
    ReflectionText,
    ShootingSession,
    Weapon,
    WeaponInsight,
)
from aimtrack.jobs.ai_results import (
    INSIGHT,
    REFLECTION,
    STATISTICS,
    AIJob,
    insight_reply,
    reflection_reply,
    request_key,
)
from aimtrack.jobs.records import Records, job_user, read_records
from aimtrack.jobs.worker import Lease
from aimtrack.storage.repos import AIRepo, AttachmentRepo, JobQueue, SessionRepo, WeaponRepo

log = logging.getLogger(__name__)

SubjectT = TypeVar("SubjectT", ShootingSession, Weapon)
ResultT = TypeVar("ResultT", Reflection, WeaponInsight)
Made = ReflectionText | InsightText  # what a model or the statistics made of a subject


class _AIRowJob(AIJob, Generic[SubjectT, ResultT]):
    """A job whose result lives on an AI row (a session's reflection, a weapon's insight):
    made once per job, kept on the row with its audit, then pushed.

    Only the latest request for a row counts: a job whose key (:func:`request_key`) moved on
    to a newer job ("again" pressed while it ran) writes and sends nothing. A job that fails
    for good sends the statistics, but a model's earlier result on the row stays there."""

    kind: str

    async def run(self, job: Job, lease: Lease) -> None:
        loaded = await self._load(job)
        if loaded is None or lease.already_sent or await self._outdated(job, loaded[0]):
            return
        subject, records, result = loaded
        if result is None or not _made_for(job, result):  # not made by an earlier run yet
            if self.coach is None:
                out = self._fallback(subject, records)
            else:
                out = await self._ask(self.coach, job, subject, records)
            saved = await self._save(job, subject, self.audit(), out)
            if saved is None:  # a newer request took the row over meanwhile: its result counts
                return
            result = saved
        t = self.jobs.translator(records.profile.language)
        await self.jobs.send(job, lease, self._reply(t, subject, result, records))

    async def give_up(self, job: Job, lease: Lease, error: str) -> None:
        loaded = await self._load(job)
        if loaded is None:
            return
        subject, records, stored = loaded
        out = self._fallback(subject, records)
        failed = self.failed_audit(error)
        shown: ResultT | None
        if stored is not None and _made_for(job, stored):
            shown = stored  # this job's own result was made (it failed later, sending it)
        elif stored is not None and _model_made(stored):
            # A regeneration failed: the model's earlier result is better than the statistics,
            # so it stays on the row (finished again); the fallback is only sent, labelled.
            if not await self._mark(job, subject, AIStatus.SUCCEEDED):
                return
            shown = replace(stored, **asdict(out), audit=failed)
        else:
            shown = await self._save(job, subject, failed, out)
        if shown is None:
            return
        t = self.jobs.translator(records.profile.language)
        await self.jobs.send(job, lease, self._reply(t, subject, shown, records))

    async def _save(self, job: Job, subject: SubjectT, audit: AIAudit, out: Made) -> ResultT | None:
        """Store the result, unless a newer request holds the row (then None)."""
        async with self.jobs.db.transaction() as db:
            if await self._superseded(db, job, subject):
                return None
            return await self._store(AIRepo(db, job_user(job)), subject, audit, out)

    async def _mark(self, job: Job, subject: SubjectT, status: AIStatus) -> bool:
        """Set the row's status, keeping its texts; False when a newer request holds it."""
        async with self.jobs.db.transaction() as db:
            if await self._superseded(db, job, subject):
                return False
            await self._set_status(AIRepo(db, job_user(job)), subject, status)
        return True

    async def _outdated(self, job: Job, subject: SubjectT) -> bool:
        async with self.jobs.db.transaction(read_only=True) as db:
            outdated = await self._superseded(db, job, subject)
        if outdated:
            log.info("job %s: a newer %s request for %s took over", job.id, self.kind, subject.id)
        return outdated

    async def _superseded(self, db: AsyncSession, job: Job, subject: SubjectT) -> bool:
        """Whether a newer job holds this row's key (one queued while this one ran)."""
        key = request_key(job_user(job), self.kind, subject.id)
        holder = await JobQueue(db).holder(key)
        return holder is not None and holder.id != job.id

    async def _load(self, job: Job) -> tuple[SubjectT, Records, ResultT | None] | None:
        raise NotImplementedError

    def _fallback(self, subject: SubjectT, records: Records) -> Made:
        raise NotImplementedError

    async def _ask(
        self, coach: ShooterCoach, job: Job, subject: SubjectT, records: Records
    ) -> Made:
        raise NotImplementedError

    async def _store(self, repo: AIRepo, subject: SubjectT, audit: AIAudit, out: Made) -> ResultT:
        raise NotImplementedError

    async def _set_status(self, repo: AIRepo, subject: SubjectT, status: AIStatus) -> None:
        raise NotImplementedError

    def _reply(self, t: Translator, subject: SubjectT, result: ResultT, records: Records) -> Reply:
        raise NotImplementedError


class ReflectionJob(_AIRowJob[ShootingSession, Reflection]):
    kind = REFLECTION

    async def _load(self, job: Job) -> tuple[ShootingSession, Records, Reflection | None] | None:
        user_id = job_user(job)
        session_id = int(job.payload["session_id"])
        async with self.jobs.db.transaction(read_only=True) as db:
            try:
                session = await SessionRepo(db, user_id).get(session_id)
            except NotFound:
                return None  # deleted since: nothing to reflect on
            reflection = await AIRepo(db, user_id).reflection(session_id)
        return session, await read_records(self.jobs.db, user_id), reflection

    def _fallback(self, subject: ShootingSession, records: Records) -> Made:
        return fallback.reflection(
            subject,
            records.history,
            records.weapons,
            today=records.today(self.jobs.clock.now()),
            language=records.profile.language,
        )

    async def _ask(
        self, coach: ShooterCoach, job: Job, subject: ShootingSession, records: Records
    ) -> Made:
        user_id = job_user(job)
        today = records.today(self.jobs.clock.now())
        facts = prompts.ReflectionFacts(
            session=subject,
            history=[
                s
                for s in records.history
                if s.id != subject.id and s.occurred_on <= subject.occurred_on
            ],
            weapons=records.weapons,
            stats={
                "compared_with_earlier": stats.compare_session(subject, records.history),
                "licence": stats.licence_progress(records.history, today=today),
            },
            language=records.profile.language,
            images=await self._photos(user_id, subject.id) if coach.vision else (),
        )
        await self._mark(job, subject, AIStatus.RUNNING)
        try:
            async with self.jobs.showing(job, Activity.TYPING):
                return await coach.reflect(facts)
        except Exception:
            await self._mark(job, subject, AIStatus.PENDING)  # waits for a retry
            raise

    async def _store(
        self, repo: AIRepo, subject: ShootingSession, audit: AIAudit, out: Made
    ) -> Reflection:
        return await repo.save_reflection(subject.id, audit=audit, **asdict(out))

    async def _set_status(self, repo: AIRepo, subject: ShootingSession, status: AIStatus) -> None:
        await repo.mark_reflection(subject.id, status)

    def _reply(
        self, t: Translator, subject: ShootingSession, result: Reflection, records: Records
    ) -> Reply:
        return reflection_reply(t, subject, result, records.weapons)

    async def _photos(self, user_id: int, session_id: int) -> list[str]:
        async with self.jobs.db.transaction(read_only=True) as db:
            attached = await AttachmentRepo(db, user_id).list_for(
                AttachmentOwner.SESSION, session_id
            )
        photos = [a for a in attached if a.mime in vision.IMAGE_MIMES][: vision.MAX_PHOTOS]
        urls = []
        for photo in photos:
            try:
                urls.append(
                    await asyncio.to_thread(vision.photo_data_url, self.jobs.data_dir / photo.path)
                )
            except OSError:
                log.warning("attachment %s could not be read for the model", photo.id)
        return urls


class InsightJob(_AIRowJob[Weapon, WeaponInsight]):
    kind = INSIGHT

    async def _load(self, job: Job) -> tuple[Weapon, Records, WeaponInsight | None] | None:
        user_id = job_user(job)
        weapon_id = int(job.payload["weapon_id"])
        async with self.jobs.db.transaction(read_only=True) as db:
            try:
                weapon = await WeaponRepo(db, user_id).get(weapon_id)
            except NotFound:
                return None
            insight = await AIRepo(db, user_id).weapon_insight(weapon_id)
        return weapon, await read_records(self.jobs.db, user_id, weapon_id=weapon_id), insight

    def _fallback(self, subject: Weapon, records: Records) -> Made:
        return fallback.weapon_insight(
            subject,
            records.history,
            today=records.today(self.jobs.clock.now()),
            language=records.profile.language,
        )

    async def _ask(self, coach: ShooterCoach, job: Job, subject: Weapon, records: Records) -> Made:
        today = records.today(self.jobs.clock.now())
        facts = prompts.InsightFacts(
            weapon=subject,
            history=records.history,
            weapons=records.weapons,
            stats=stats.weapon_stats(subject.id, records.history, today=today),
            language=records.profile.language,
        )
        async with self.jobs.showing(job, Activity.TYPING):
            return await coach.weapon_insight(facts)

    async def _store(
        self, repo: AIRepo, subject: Weapon, audit: AIAudit, out: Made
    ) -> WeaponInsight:
        return await repo.save_weapon_insight(subject.id, audit=audit, **asdict(out))

    async def _set_status(self, repo: AIRepo, subject: Weapon, status: AIStatus) -> None:
        await repo.mark_weapon_insight(subject.id, status)

    def _reply(
        self, t: Translator, subject: Weapon, result: WeaponInsight, records: Records
    ) -> Reply:
        return insight_reply(t, subject, result)


def _model_made(result: Reflection | WeaponInsight) -> bool:
    """Whether the row holds a model's successful result (not the statistics, not a blank
    row), possibly while a newer request for it is pending or running."""
    audit = result.audit
    return (
        audit.error is None
        and audit.model is not None
        and audit.provider != STATISTICS
        and audit.generated_at is not None
    )


def _made_for(job: Job, result: Reflection | WeaponInsight) -> bool:
    """Whether an earlier run of this job already made (and saved) the result."""
    return (
        result.audit.status is AIStatus.SUCCEEDED
        and result.audit.generated_at is not None
        and result.audit.generated_at >= job.created_at
    )
