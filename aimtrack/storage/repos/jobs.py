"""The durable job queue: every job's state lives in the ``jobs`` table.

Installation-wide, not user-scoped: one worker serves every user. Bound to the caller's
transaction and never commits, so a job enqueued with a session exists exactly when the
session does.

A worker holds a job through a lease (``lease_owner``, ``lease_until``). Every change a worker
makes is one compare-and-set ``UPDATE … WHERE status = 'running' AND lease_owner = :owner``: a
worker whose lease expired and was taken over (it hung, or was killed with ``kill -9`` and
came back) finds nothing to update and cannot overwrite the new holder's result. Claiming
never hands a job to two workers: PostgreSQL skips rows another claim has locked
(``FOR UPDATE SKIP LOCKED``); SQLite, which has no row locks, serialises writers and each
claim still checks that the row is as it was seen.

Times come in as arguments (a clock), so tests control them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.core import limits
from aimtrack.core.errors import InvalidInput, NotFound
from aimtrack.core.model import (
    Job,
    JobStatus,
    QueueStats,
    fit_text,
    is_row_id,
    required_text,
    whole_number,
)
from aimtrack.storage.repos.base import to_domain, upsert
from aimtrack.storage.tables import JobRow

MAX_LIST = 500
MAX_CLAIM = 500
MAX_QUOTA_LOOKBACK = 10_000  # AIMTRACK_AI_REQUESTS_PER_DAY's bound
_ENQUEUE_TRIES = 3
_JOBS = JobRow.__table__
_NO_LEASE = {"lease_owner": None, "lease_until": None}


class JobQueue:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def enqueue(
        self,
        kind: str,
        *,
        user_id: int | None,
        payload: Mapping[str, Any],
        now: datetime,
        max_attempts: int = 5,
        delay: timedelta = timedelta(0),
        idempotency_key: str | None = None,
    ) -> Job:
        """Add a job, due at ``now + delay``, in the caller's transaction.

        With an ``idempotency_key``, a *pending* job holding that key is returned unchanged
        (its payload is kept); a key held by a job that is running or finished passes to the
        new job. Two transactions enqueueing one key at once make one job, without an error.
        """
        values = {
            "kind": required_text("kind", kind, max_len=limits.MAX_JOB_KIND),
            "user_id": None
            if user_id is None
            else whole_number("user_id", user_id, low=1, high=limits.MAX_ROW_ID),
            "payload": _plain_json(payload),
            "max_attempts": whole_number(
                "max_attempts", max_attempts, low=1, high=limits.MAX_JOB_ATTEMPTS
            ),
            "status": JobStatus.PENDING,
            "attempts": 0,
            "run_after": now + max(delay, timedelta(0)),
            "created_at": now,
            "updated_at": now,
        }
        if idempotency_key is None:
            result = await self.db.execute(sa.insert(JobRow).values(values).returning(JobRow.id))
            return await self.get(result.scalar_one())
        key = required_text("idempotency_key", idempotency_key, max_len=limits.MAX_IDEMPOTENCY_KEY)
        for _ in range(_ENQUEUE_TRIES):
            holder = await self._holding(key)
            if holder is not None and holder.status is JobStatus.PENDING:
                return holder
            if holder is not None:  # the key moves on to the new job; the old one keeps history
                await self._set(
                    sa.and_(JobRow.id == holder.id, JobRow.idempotency_key == key),
                    idempotency_key=None,
                )
            # Another transaction may insert the same key meanwhile: its row wins, ours is
            # skipped (PostgreSQL waits for that transaction to end, then sees its row).
            inserted = await self.db.scalar(
                upsert(self.db, JobRow)
                .values({**values, "idempotency_key": key})
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(JobRow.id)
            )
            if inserted is not None:
                return await self.get(inserted)
        # Only reachable when other transactions keep finishing the key's job in between.
        msg = f"could not enqueue {kind!r} with key {key!r}: the key kept changing hands"
        raise RuntimeError(msg)

    async def claim(
        self,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        kinds: Collection[str] | None = None,
    ) -> list[Job]:
        """Take up to ``limit`` due jobs for ``owner``, oldest ``run_after`` first.

        Due: pending with ``run_after <= now``, or running with an expired lease (its worker
        died; the job runs again). Each claim starts an attempt, with one exception: a running
        job whose interrupted attempt was already its last gets no new attempt; its
        ``last_error`` becomes :data:`INTERRUPTED_ON_LAST`, and the worker sends its fallback
        instead of running it again (it might kill every worker forever). A job re-taken with
        attempts to spare records :data:`INTERRUPTED` and runs normally.
        """
        owner = required_text("owner", owner, max_len=limits.MAX_LEASE_OWNER)
        if limit < 1 or (kinds is not None and not kinds):
            return []
        candidates = (
            sa.select(JobRow.id, JobRow.status, JobRow.lease_owner, JobRow.attempts)
            .where(
                sa.or_(
                    sa.and_(JobRow.status == JobStatus.PENDING, JobRow.run_after <= now),
                    sa.and_(JobRow.status == JobStatus.RUNNING, JobRow.lease_until < now),
                )
            )
            .order_by(JobRow.run_after, JobRow.id)
            .limit(min(limit, MAX_CLAIM))
        )
        if kinds is not None:
            candidates = candidates.where(JobRow.kind.in_(list(kinds)))
        lost = JobRow.status == JobStatus.RUNNING  # its worker died holding it
        spare = JobRow.attempts < JobRow.max_attempts
        claimed = {
            "status": JobStatus.RUNNING,
            "lease_owner": owner,
            "lease_until": now + lease,
            "attempts": sa.case((spare, JobRow.attempts + 1), else_=JobRow.max_attempts),
            # Whether the attempt its worker died on was the last one decides what the worker
            # does (see there); the history says the attempt was interrupted either way.
            "last_error": sa.case(
                (sa.and_(lost, spare), INTERRUPTED),
                (lost, INTERRUPTED_ON_LAST),
                else_=JobRow.last_error,
            ),
            "updated_at": now,
        }
        if self._postgresql:
            # Rows another claim has locked are skipped, not waited for; ours stay locked
            # until the commit, so the update below needs no second look.
            seen = list(await self.db.execute(candidates.with_for_update(skip_locked=True)))
            won = [row.id for row in seen]
            if won:
                await self._set(JobRow.id.in_(won), **claimed)
        else:
            seen = list(await self.db.execute(candidates))
            won = [
                row.id
                for row in seen
                if await self._set(
                    sa.and_(
                        JobRow.id == row.id,
                        JobRow.status == row.status,
                        JobRow.lease_owner.is_not_distinct_from(row.lease_owner),
                        JobRow.attempts == row.attempts,
                    ),
                    **claimed,
                )
            ]
        if not won:
            return []
        return await self._jobs(
            sa.select(_JOBS).where(JobRow.id.in_(won)).order_by(JobRow.run_after, JobRow.id)
        )

    async def release(
        self, job_id: int, *, owner: str, now: datetime, run_after: datetime | None = None
    ) -> bool:
        """Hand a job back undone: pending, due at ``run_after`` (default now), and the
        attempt it was claimed with does not count. For a graceful shutdown, and for a job
        that must wait for another (a coach answer for the one before it)."""
        return await self._owned(
            job_id,
            owner,
            status=JobStatus.PENDING,
            attempts=sa.case((JobRow.attempts > 0, JobRow.attempts - 1), else_=0),
            run_after=now if run_after is None else max(run_after, now),
            updated_at=now,
            **_NO_LEASE,
        )

    async def renew(self, job_id: int, *, owner: str, now: datetime, lease: timedelta) -> bool:
        """Extend the lease; False when it was lost (taken over, or the job is finished)."""
        return await self._owned(job_id, owner, lease_until=now + lease, updated_at=now)

    async def record_sent(self, job_id: int, *, owner: str, message_id: str) -> bool:
        """Remember the chat message this job sent, before it can be lost in a crash."""
        message_id = required_text("message_id", message_id, max_len=limits.MAX_MESSAGE_ID)
        return await self._owned(job_id, owner, sent_message_id=message_id)

    async def succeed(self, job_id: int, *, owner: str, now: datetime) -> bool:
        return await self._owned(
            job_id,
            owner,
            status=JobStatus.SUCCEEDED,
            finished_at=now,
            last_error=None,
            updated_at=now,
            **_NO_LEASE,
        )

    async def retry_later(
        self, job_id: int, *, owner: str, error: str, run_after: datetime
    ) -> bool:
        """Hand the job back to the queue, due again at ``run_after`` (the attempt counts)."""
        return await self._owned(
            job_id,
            owner,
            status=JobStatus.PENDING,
            run_after=run_after,
            last_error=fit_text(error, limits.MAX_AI_TEXT),
            **_NO_LEASE,
        )

    async def fail(self, job_id: int, *, owner: str, error: str, now: datetime) -> bool:
        """Give up on the job; it waits for a manual :meth:`retry`."""
        return await self._owned(
            job_id,
            owner,
            status=JobStatus.FAILED,
            last_error=fit_text(error, limits.MAX_AI_TEXT),
            finished_at=now,
            updated_at=now,
            **_NO_LEASE,
        )

    async def get(self, job_id: int) -> Job:
        if not is_row_id(job_id):
            raise NotFound("job", job_id)
        jobs = await self._jobs(sa.select(_JOBS).where(JobRow.id == job_id))
        if not jobs:
            raise NotFound("job", job_id)
        return jobs[0]

    async def holder(self, key: str) -> Job | None:
        """The job holding an idempotency key: the latest one enqueued with it."""
        if not isinstance(key, str) or not key or len(key) > limits.MAX_IDEMPOTENCY_KEY:
            return None
        return await self._holding(key)

    async def unfinished(self, keys: Collection[str]) -> list[Job]:
        """The pending or running jobs that hold one of ``keys``, oldest first."""
        wanted = _keys(keys)
        if not wanted:
            return []
        return await self._jobs(
            sa.select(_JOBS)
            .where(
                JobRow.idempotency_key.in_(wanted),
                JobRow.status.in_([JobStatus.PENDING, JobStatus.RUNNING]),
            )
            .order_by(JobRow.id)
        )

    async def hurry(self, keys: Collection[str], *, now: datetime) -> int:
        """Make the pending jobs holding ``keys`` due now (what they waited for is done);
        returns how many."""
        wanted = _keys(keys)
        if not wanted:
            return 0
        return await self._update(
            sa.and_(
                JobRow.idempotency_key.in_(wanted),
                JobRow.status == JobStatus.PENDING,
                JobRow.run_after > now,
            ),
            run_after=now,
            updated_at=now,
        )

    async def list_jobs(
        self, *, status: JobStatus | None = None, user_id: int | None = None, limit: int = 50
    ) -> list[Job]:
        """Newest first."""
        query = sa.select(_JOBS).order_by(JobRow.id.desc()).limit(max(1, min(limit, MAX_LIST)))
        if status is not None:
            query = query.where(JobRow.status == JobStatus(status))
        if user_id is not None:
            if not is_row_id(user_id):
                return []
            query = query.where(JobRow.user_id == user_id)
        return await self._jobs(query)

    async def queued_at(
        self, *, user_id: int, kinds: Collection[str], since: datetime, limit: int
    ) -> list[datetime]:
        """When the user's jobs of ``kinds`` queued after ``since`` were queued, newest first,
        at most ``limit``: what the AI quota counts. Every such job counts, finished or not;
        a job whose idempotency key passed on to a newer one still counts."""
        if not is_row_id(user_id) or not kinds or limit < 1:
            return []
        query = (
            sa.select(JobRow.created_at)
            .where(
                JobRow.user_id == user_id,
                JobRow.kind.in_(list(kinds)),
                JobRow.created_at > since,
            )
            .order_by(JobRow.created_at.desc(), JobRow.id.desc())
            .limit(min(limit, MAX_QUOTA_LOOKBACK))
        )
        return list(await self.db.scalars(query))

    async def retry(self, job_id: int, *, now: datetime, user_id: int | None = None) -> Job:
        """Run a failed job again from scratch, due now.

        With ``user_id``, only that user's job (how a chat user retries their own; another
        user's job is :class:`NotFound`). Its result is a new message: ``sent_message_id``
        is cleared. ``last_error`` stays until the job succeeds, as history, but no longer
        makes it give up: :data:`INTERRUPTED_ON_LAST` reads :data:`INTERRUPTED` again, so the
        retry really runs (see :func:`_restart`).
        """
        job = await self.get(job_id)
        if user_id is not None and job.user_id != user_id:
            raise NotFound("job", job_id)
        if job.status is not JobStatus.FAILED or not await self._set(
            sa.and_(JobRow.id == job_id, JobRow.status == JobStatus.FAILED), **_restart(now)
        ):
            raise InvalidInput(f"job {job_id}", f"is {job.status.value}, not failed")
        return await self.get(job_id)

    async def retry_all_failed(self, *, now: datetime) -> int:
        """Retry every failed job (after an outage is over); returns how many."""
        return await self._update(JobRow.status == JobStatus.FAILED, **_restart(now))

    async def stats(self) -> QueueStats:
        by_status = sa.select(JobRow.status, sa.func.count()).group_by(JobRow.status)
        counts = {status: int(n) for status, n in await self.db.execute(by_status)}
        oldest = await self.db.scalar(
            sa.select(sa.func.min(JobRow.created_at)).where(JobRow.status == JobStatus.PENDING)
        )
        return QueueStats(
            pending=counts.get(JobStatus.PENDING, 0),
            running=counts.get(JobStatus.RUNNING, 0),
            failed=counts.get(JobStatus.FAILED, 0),
            oldest_pending_at=oldest,
        )

    @property
    def _postgresql(self) -> bool:
        return self.db.get_bind().dialect.name == "postgresql"

    async def _holding(self, key: str) -> Job | None:
        jobs = await self._jobs(sa.select(_JOBS).where(JobRow.idempotency_key == key))
        return jobs[0] if jobs else None

    async def _jobs(self, query: sa.Select[Any]) -> list[Job]:
        return [to_domain(Job, row) for row in await self.db.execute(query)]

    async def _owned(self, job_id: int, owner: str, **changes: Any) -> bool:
        """Change a job only while ``owner`` holds it: one compare-and-set."""
        if not is_row_id(job_id):
            return False
        return await self._set(
            sa.and_(
                JobRow.id == job_id,
                JobRow.status == JobStatus.RUNNING,
                JobRow.lease_owner == owner,
            ),
            **changes,
        )

    async def _set(self, condition: sa.ColumnElement[bool], **changes: Any) -> bool:
        return await self._update(condition, **changes) == 1

    async def _update(self, condition: sa.ColumnElement[bool], **changes: Any) -> int:
        result = await self.db.execute(
            sa.update(JobRow)
            .where(condition)
            .values(changes)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


INTERRUPTED = "interrupted: its worker stopped before finishing (the lease expired)"
# Set by a claim only, on a job whose worker died on its last attempt: give up, do not run it.
INTERRUPTED_ON_LAST = (
    "interrupted on its last attempt: its worker stopped before finishing (the lease expired)"
)


def _restart(now: datetime) -> dict[str, Any]:
    """A failed job, pending again with all its attempts and nothing that makes it give up."""
    return {
        "status": JobStatus.PENDING,
        "attempts": 0,
        "last_error": sa.case(
            (JobRow.last_error == INTERRUPTED_ON_LAST, INTERRUPTED), else_=JobRow.last_error
        ),
        "run_after": now,
        "finished_at": None,
        "sent_message_id": None,
        "updated_at": now,
        **_NO_LEASE,
    }


def _keys(keys: Collection[str]) -> list[str]:
    """Idempotency keys fit to look up (others cannot be held by any job), at most a page."""
    return [
        key
        for key in dict.fromkeys(keys)
        if isinstance(key, str) and key and len(key) <= limits.MAX_IDEMPOTENCY_KEY
    ][:MAX_LIST]


def _plain_json(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as it will read back (JSON round trip), or InvalidInput."""
    if not isinstance(payload, Mapping):
        raise InvalidInput("payload", "must be a mapping")
    try:
        text = json.dumps(dict(payload), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidInput("payload", "must be plain JSON data") from None
    if len(text.encode()) > limits.MAX_JOB_PAYLOAD_BYTES:
        raise InvalidInput("payload", f"is larger than {limits.MAX_JOB_PAYLOAD_BYTES} bytes")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
