"""The coach's answers: a question asked in /coach (or under a reflection) is saved in its
thread with a pending answer in the turn; this job reads the user's records, asks the coach
(or sums up the numbers without one), fills the answer in and sends it.

The answers of one thread are made and sent in order: a follow-up waits for the answer before
it, so its prompt holds that answer and its message comes after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from aimtrack.ai import prompts
from aimtrack.bot.push import Activity
from aimtrack.core import fallback, stats
from aimtrack.core.errors import NotFound
from aimtrack.core.model import AIStatus, AnswerText, CoachMessage, Job, JobStatus, MessageRole
from aimtrack.jobs.ai_results import ANSWER, AIJob, answer_reply, request_key
from aimtrack.jobs.records import Records, job_user, read_records
from aimtrack.jobs.worker import Lease, NotYet
from aimtrack.storage.repos import CoachRepo, JobQueue

FOLLOW_UP_WAIT: Final = timedelta(seconds=2)  # a follow-up's answer looks again this much later


class AnswerJob(AIJob):
    """The coach's answer to a question in a thread (the question is saved with a pending
    answer in the turn; this job fills it in and sends it)."""

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
        audit = self.failed_audit(error)
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
        return context, await read_records(self.jobs.db, user_id)

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
        coach = self.coach
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
            async with self.jobs.showing(job, Activity.TYPING):
                out = await coach.answer(facts)
        audit = self.audit()
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
