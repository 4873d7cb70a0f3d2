"""The AI jobs: read the user's records, ask the coach (or compute the fallback), save the
result on its AI row, and push it to the chat the request came from.

Each run is safe to repeat after a crash: a result already saved for this job is sent rather
than made again, and a message already recorded as sent is not sent again. Of several requests
for one AI row, only the latest saves and sends its result; the answers of one coach thread
are made and sent in order. Every read and write is scoped to the job's user through the
user-scoped repositories, so one user's job cannot see another's records.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.ai import prompts, vision
from aimtrack.ai.coach import ShooterCoach
from aimtrack.ai.worker import JobHandler, Lease, NotYet
from aimtrack.bot.ai_messages import STATISTICS, answer_reply, insight_reply, reflection_reply
from aimtrack.bot.ai_requests import ANSWER, INSIGHT, REFLECTION, request_key
from aimtrack.bot.io import Reply
from aimtrack.bot.push import Activity, Address, Messengers, NoRoute, deliver
from aimtrack.core import fallback, stats
from aimtrack.core.clock import Clock
from aimtrack.core.errors import NotFound
from aimtrack.core.i18n import Translator
from aimtrack.core.model import (
    AIAudit,
    AIStatus,
    AnswerText,
    AttachmentOwner,
    CoachMessage,
    InsightText,
    Job,
    JobStatus,
    Language,
    MessageRole,
    Profile,
    Reflection,
    ReflectionText,
    ShootingSession,
    Weapon,
    WeaponInsight,
)
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import (
    AIRepo,
    AttachmentRepo,
    CoachRepo,
    JobQueue,
    ProfileRepo,
    SessionRepo,
    WeaponRepo,
)

log = logging.getLogger(__name__)

SubjectT = TypeVar("SubjectT", ShootingSession, Weapon)
ResultT = TypeVar("ResultT", Reflection, WeaponInsight)
Made = ReflectionText | InsightText  # what a model or the statistics made of a subject

HISTORY_LIMIT = 1000  # sessions read for statistics (years of training); prompts take fewer
FOLLOW_UP_WAIT = timedelta(seconds=2)  # a follow-up's answer looks again this much later


@dataclass(frozen=True, slots=True)
class Records:
    """One user's records as a job needs them, read in one transaction."""

    profile: Profile
    weapons: dict[int, Weapon]
    history: list[ShootingSession]

    def today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.profile.timezone)).date()


class AIJobs:
    """Everything the three job kinds share: the database, the coach, the way out."""

    def __init__(
        self,
        db: Database,
        *,
        coach: ShooterCoach | None,
        messengers: Messengers,
        catalogue: Mapping[str, tuple[str, str]],
        clock: Clock,
        data_dir: Path,
    ) -> None:
        self.db = db
        self.coach = coach
        self.messengers = messengers
        self.catalogue = catalogue
        self.clock = clock
        self.data_dir = data_dir

    def handlers(self) -> dict[str, JobHandler]:
        return {
            REFLECTION: ReflectionJob(self),
            INSIGHT: InsightJob(self),
            ANSWER: AnswerJob(self),
        }

    def translator(self, language: Language) -> Translator:
        return Translator(self.catalogue, language)

    async def translator_for(self, user_id: int) -> Translator:
        """The texts in the language of ``user_id``'s profile, read now."""
        async with self.db.transaction(read_only=True) as db:
            language = (await ProfileRepo(db, user_id).get()).language
        return self.translator(language)

    def audit(self) -> AIAudit:
        """The record of a result just made: by the model, or by the statistics."""
        now = self.clock.now()
        if self.coach is None:
            return AIAudit(status=AIStatus.SUCCEEDED, provider=STATISTICS, generated_at=now)
        return AIAudit(
            status=AIStatus.SUCCEEDED,
            provider=self.coach.provider,
            model=self.coach.model_name,
            generated_at=now,
        )

    def failed_audit(self, error: str) -> AIAudit:
        return AIAudit(
            status=AIStatus.FAILED,
            provider=self.coach.provider if self.coach else STATISTICS,
            model=self.coach.model_name if self.coach else None,
            error=error,
            generated_at=self.clock.now(),
        )

    async def records(self, user_id: int, **history: Any) -> Records:
        async with self.db.transaction(read_only=True) as db:
            profile = await ProfileRepo(db, user_id).get()
            weapons = await WeaponRepo(db, user_id).list_weapons(include_retired=True)
            sessions = await SessionRepo(db, user_id).history(limit=HISTORY_LIMIT, **history)
        return Records(profile, {w.id: w for w in weapons}, sessions)

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
        """Push ``reply`` once: a run after a crash skips a message already recorded."""
        await deliver(self.messengers, job, lease, reply)

    def typing(self, job: Job) -> AbstractAsyncContextManager[None]:
        """Show "typing…" in the chat while the model works."""
        return self.messengers.showing(Address.from_json(job.payload), Activity.TYPING)


class _AIRowJob(Generic[SubjectT, ResultT]):
    """A job whose result lives on an AI row (a session's reflection, a weapon's insight):
    made once per job, kept on the row with its audit, then pushed.

    Only the latest request for a row counts: a job whose key (:func:`request_key`) moved on
    to a newer job ("again" pressed while it ran) writes and sends nothing. A job that fails
    for good sends the statistics, but a model's earlier result on the row stays there."""

    kind: str

    def __init__(self, jobs: AIJobs) -> None:
        self.jobs = jobs

    async def run(self, job: Job, lease: Lease) -> None:
        loaded = await self._load(job)
        if loaded is None or lease.already_sent or await self._outdated(job, loaded[0]):
            return
        subject, records, result = loaded
        if result is None or not _made_for(job, result):  # not made by an earlier run yet
            if self.jobs.coach is None:
                out = self._fallback(subject, records)
            else:
                out = await self._ask(self.jobs.coach, job, subject, records)
            saved = await self._save(job, subject, self.jobs.audit(), out)
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
        failed = self.jobs.failed_audit(error)
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
        return session, await self.jobs.records(user_id), reflection

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
            async with self.jobs.typing(job):
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
        return weapon, await self.jobs.records(user_id, weapon_id=weapon_id), insight

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
        async with self.jobs.typing(job):
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


class AnswerJob:
    def __init__(self, jobs: AIJobs) -> None:
        self.jobs = jobs

    async def run(self, job: Job, lease: Lease) -> None:
        loaded = await self._load(job)
        if loaded is None or lease.already_sent:
            return
        context, records = loaded
        answer = context.answer
        if answer.status is not AIStatus.SUCCEEDED:
            await self._after_earlier_answers(job, context)
            answer = await self._make(job, context, records)
        t = self.jobs.translator(records.profile.language)
        await self.jobs.send(job, lease, answer_reply(t, answer))
        await self._next_answers_now(job, context)

    async def _next_answers_now(self, job: Job, context: _Thread) -> None:
        """This answer is out: the follow-ups waiting for it need not wait out their delay."""
        keys = [request_key(job_user(job), ANSWER, ident) for ident in context.later_answers]
        if keys:
            async with self.jobs.db.transaction() as db:
                await JobQueue(db).hurry(keys, now=self.jobs.clock.now())

    async def _after_earlier_answers(self, job: Job, context: _Thread) -> None:
        """A thread's answers are made and sent in order: while the job of an earlier answer
        in it is pending or running, this one waits (:class:`NotYet`, no attempt used), so
        its prompt holds that answer and its message comes after it. A job that ended without
        finishing its answer (failed for good) is not waited for."""
        keys = [request_key(job_user(job), ANSWER, ident) for ident in context.earlier_answers]
        async with self.jobs.db.transaction(read_only=True) as db:
            busy = [j for j in await JobQueue(db).unfinished(keys) if j.id != job.id]
        if busy:
            now = self.jobs.clock.now()
            due = [j.run_after for j in busy if j.status is JobStatus.PENDING]
            raise NotYet(max([now + FOLLOW_UP_WAIT, *due]))

    async def give_up(self, job: Job, lease: Lease, error: str) -> None:
        loaded = await self._load(job)
        if loaded is None:
            return
        context, records = loaded
        out = self._fallback(context, records)
        audit = self.jobs.failed_audit(error)
        async with self.jobs.db.transaction() as db:
            saved = await CoachRepo(db, job_user(job)).update_message(
                context.answer.id,
                content=out.answer,
                status=AIStatus.FAILED,
                provider=audit.provider,
                model=audit.model,
                error=audit.error,
            )
        t = self.jobs.translator(records.profile.language)
        await self.jobs.send(job, lease, answer_reply(t, saved))
        await self._next_answers_now(job, context)

    async def _load(self, job: Job) -> tuple[_Thread, Records] | None:
        user_id = job_user(job)
        thread_id = int(job.payload["thread_id"])
        message_id = int(job.payload["message_id"])
        async with self.jobs.db.transaction(read_only=True) as db:
            coach = CoachRepo(db, user_id)
            try:
                thread = await coach.get_thread(thread_id)
                messages = await coach.messages(thread_id)
            except NotFound:
                return None
        answer = next((m for m in messages if m.id == message_id), None)
        before = [m for m in messages if m.id < message_id and not _unfinished(m)]
        asked = [i for i, m in enumerate(before) if m.role is MessageRole.USER]
        if answer is None or not asked:
            return None
        context = _Thread(
            question=before[asked[-1]].content,
            earlier=before[: asked[-1]],
            earlier_answers=tuple(
                m.id for m in messages if m.id < message_id and m.role is MessageRole.ASSISTANT
            ),
            later_answers=tuple(
                m.id for m in messages if m.id > message_id and m.role is MessageRole.ASSISTANT
            ),
            answer=answer,
            weapon_id=thread.weapon_id,
            since=thread.period_from,
            until=thread.period_to,
        )
        # The whole history: the licence counts need every day; the scope is applied below.
        return context, await self.jobs.records(user_id)

    def _fallback(self, context: _Thread, records: Records) -> AnswerText:
        return fallback.coach_answer(
            context.question,
            records.history,
            records.weapons,
            today=records.today(self.jobs.clock.now()),
            language=records.profile.language,
            weapon_id=context.weapon_id,
            since=context.since,
            until=context.until,
        )

    async def _make(self, job: Job, context: _Thread, records: Records) -> CoachMessage:
        coach = self.jobs.coach
        if coach is None:
            out = self._fallback(context, records)
        else:
            today = records.today(self.jobs.clock.now())
            scoped = [
                session
                for session in stats.in_period(
                    records.history, since=context.since, until=context.until
                )
                if context.weapon_id is None
                or any(entry.weapon_id == context.weapon_id for entry in session.entries)
            ]
            scoped.reverse()  # newest first, as the prompt expects
            facts = prompts.QuestionFacts(
                question=context.question,
                thread=context.earlier,
                history=scoped,
                weapons=records.weapons,
                stats={
                    "in_scope": stats.totals(scoped),
                    "licence": stats.licence_progress(records.history, today=today),
                },
                language=records.profile.language,
                weapon_id=context.weapon_id,
                period=(
                    context.since.isoformat() if context.since else None,
                    context.until.isoformat() if context.until else None,
                ),
            )
            async with self.jobs.typing(job):
                out = await coach.answer(facts)
        audit = self.jobs.audit()
        async with self.jobs.db.transaction() as db:
            return await CoachRepo(db, job_user(job)).update_message(
                context.answer.id,
                content=out.answer,
                status=AIStatus.SUCCEEDED,
                provider=audit.provider,
                model=audit.model,
            )


@dataclass(frozen=True, slots=True)
class _Thread:
    question: str
    earlier: list[CoachMessage]  # oldest first, without the question
    earlier_answers: tuple[int, ...]  # ids of the thread's answers before this one, any state
    later_answers: tuple[int, ...]  # and after it (follow-ups that may wait for this one)
    answer: CoachMessage  # the pending assistant message this job fills
    weapon_id: int | None
    since: date | None
    until: date | None


def _unfinished(message: CoachMessage) -> bool:
    """A placeholder of an answer still being made: not part of the conversation yet."""
    return message.status in {AIStatus.PENDING, AIStatus.RUNNING}


def job_user(job: Job) -> int:
    if job.user_id is None:
        msg = f"job {job.id} ({job.kind}) has no user"
        raise ValueError(msg)
    return job.user_id
