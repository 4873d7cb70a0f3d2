"""The durable job worker: the queue's state lives in the ``jobs`` table, a timer only triggers.

Each :meth:`JobWorker.tick` claims due jobs with a lease (compare-and-set; ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL) up to the free concurrency slots and runs them as tasks. While a job
runs, its lease is renewed; a worker killed with ``kill -9`` stops renewing, the lease expires
and the next tick (of this or another process) runs the job again.

A failed attempt is retried with exponential backoff and full jitter (a random delay between 0
and ``base * 2**(attempt-1)``, capped), or later when the server asked so (429 Retry-After).
After the last attempt — or at once when retrying cannot help — the handler's ``give_up`` runs
(the statistics fallback) and the job is marked failed with its error, ready for a manual retry.
How an error counts is the job kind's call: its ``classify`` turns the error into a
:class:`Failure` (by default a bug or an outage: retried, and logged with its traceback; the AI
jobs know a model's errors, which say themselves whether to retry, and when).

A handler that must wait for another job raises :class:`NotYet`: its job is handed back,
due later, without using an attempt.

A job that sends a chat message records the message id through its :class:`Lease`, so a run
after a crash sends it at most once more (only when the crash fell between sending and
recording).

A queued job is started at once when the turn that queued it calls :meth:`JobWorker.wake`, and
a job that ends makes room for the next at once; the poll (PTB's JobQueue in the Telegram
process, :meth:`JobWorker.run` elsewhere) only catches what is due later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from aimtrack.core.clock import Clock
from aimtrack.core.model import Job
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import JobQueue
from aimtrack.storage.repos.jobs import INTERRUPTED_ON_LAST

log = logging.getLogger(__name__)

MAX_REASON: Final = 500  # characters of an error kept on the job


@dataclass(frozen=True, slots=True)
class Failure:
    """How the queue treats an error of a job's attempt."""

    reason: str  # one line for the job's record
    retryable: bool = True  # False: trying again cannot help; give up at once
    retry_after: float | None = None  # seconds the other side asked us to wait
    expected: bool = False  # a known way to fail (a model down): logged without a traceback


class JobHandler(Protocol):
    """One job kind. Subclass it to inherit :meth:`classify`."""

    async def run(self, job: Job, lease: Lease) -> None:
        """Do the job; raise to fail this attempt (:meth:`classify` says what it means)."""
        ...

    async def give_up(self, job: Job, lease: Lease, error: str) -> None:
        """The last attempt failed: leave the user with something useful (the fallback)."""
        ...

    def classify(self, error: Exception) -> Failure:
        """An attempt raised ``error``: by default a bug or an outage we did not foresee,
        retried with backoff and logged with its traceback."""
        return Failure(describe(error))


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    concurrency: int = 2
    lease: timedelta = timedelta(minutes=2)
    backoff_base: timedelta = timedelta(seconds=10)
    backoff_max: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    shutdown_grace: timedelta = timedelta(seconds=10)


class LeaseLost(Exception):
    """Another worker took the job over (our lease expired): stop without writing anything."""


class NotYet(Exception):
    """Raised by a handler that cannot run its job yet (it waits for another job): the job
    goes back to the queue, due again no sooner than ``until``, without using an attempt."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"waits until {until.isoformat()}")
        self.until = until


class Lease:
    """A running job as its handler sees it: record a sent message, check the lease is ours."""

    def __init__(self, worker: JobWorker, job: Job) -> None:
        self._worker = worker
        self.job = job
        self.sent_message_id = job.sent_message_id

    @property
    def already_sent(self) -> bool:
        return self.sent_message_id is not None

    async def record_sent(self, message_id: str) -> None:
        async with self._worker.db.transaction() as db:
            if not await JobQueue(db).record_sent(
                self.job.id, owner=self._worker.owner, message_id=message_id
            ):
                raise LeaseLost
        self.sent_message_id = message_id


class JobWorker:
    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, JobHandler],
        *,
        clock: Clock,
        config: WorkerConfig | None = None,
        rng: random.Random | None = None,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.handlers = dict(handlers)
        self.clock = clock
        self.config = config or WorkerConfig()
        self.rng = rng or random.SystemRandom()
        self.owner = owner or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._running: dict[int, asyncio.Task[None]] = {}
        self._claiming = asyncio.Lock()
        self._ticks: set[asyncio.Task[int]] = set()
        self._stopping = False

    @property
    def busy(self) -> int:
        return len(self._running)

    def wake(self) -> None:
        """A job was queued (or a slot came free): look now, not at the next poll. Call it
        from the event loop the worker runs in."""
        if self._stopping:
            return
        tick = asyncio.get_running_loop().create_task(self.safe_tick(), name="job-tick")
        self._ticks.add(tick)  # keep a reference until it is done
        tick.add_done_callback(self._ticks.discard)

    async def run(self, *, poll: timedelta, stop: asyncio.Event) -> None:
        """Tick every ``poll`` until ``stop`` is set, then :meth:`stop`. The Telegram bot
        triggers these ticks from PTB's JobQueue instead."""
        try:
            while not stop.is_set():
                await self.safe_tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=poll.total_seconds())
        finally:
            await self.stop()

    async def safe_tick(self) -> int:
        """:meth:`tick` for timers: a database hiccup is logged, and the next tick tries again."""
        try:
            return await self.tick()
        except Exception:
            log.exception("the job queue could not be read")
            return 0

    async def tick(self) -> int:
        """Claim what is due (within the free slots) and start it; returns how many started."""
        if self._stopping:
            return 0
        async with self._claiming:
            free = self.config.concurrency - len(self._running)
            if free <= 0:
                return 0
            async with self.db.transaction() as db:
                jobs = await JobQueue(db).claim(
                    owner=self.owner,
                    now=self.clock.now(),
                    lease=self.config.lease,
                    limit=free,
                    kinds=tuple(self.handlers),
                )
            for job in jobs:
                task = asyncio.create_task(self._run(job), name=f"job-{job.id}-{job.kind}")
                self._running[job.id] = task
                task.add_done_callback(self._forget)
            return len(jobs)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for job_id, running in list(self._running.items()):
            if running is task:
                del self._running[job_id]
        self.wake()  # a slot came free: what waits behind it starts now

    async def stop(self) -> None:
        """Let running jobs finish for a grace period, then hand them back to the queue."""
        self._stopping = True
        if self._ticks:  # a claim under way finishes first: what it starts is waited for too
            await asyncio.wait(list(self._ticks))
        tasks = list(self._running.values())
        if not tasks:
            return
        _done, pending = await asyncio.wait(
            tasks, timeout=self.config.shutdown_grace.total_seconds()
        )
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _run(self, job: Job) -> None:
        handler = self.handlers[job.kind]
        lease = Lease(self, job)
        if job.last_error == INTERRUPTED_ON_LAST:
            # Its worker died on its last attempt (out of memory, kill -9): the claim started
            # no new one, and running it again could go on forever. The fallback alone is
            # cheap and safe. (A job re-taken with attempts to spare simply runs.)
            await self._give_up(job, lease, handler, INTERRUPTED_ON_LAST)
            return
        work = asyncio.create_task(handler.run(job, lease))
        keeper = asyncio.create_task(self._keep_lease(job, work))
        try:
            await work
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is None or not current.cancelling():
                return  # the lease keeper stopped the work: another worker holds the job now
            await self._release(job)  # shutting down: the next tick (anywhere) may take it
            raise
        except LeaseLost:
            log.warning("job %s: lease lost to another worker; leaving it to them", job.id)
        except NotYet as wait:
            log.info("job %s (%s) %s", job.id, job.kind, wait)
            async with self.db.transaction() as db:
                await JobQueue(db).release(
                    job.id, owner=self.owner, now=self.clock.now(), run_after=wait.until
                )
        except Exception as error:  # noqa: BLE001 -- every failure is recorded on the job
            await self._failed(job, lease, handler, error)
        else:
            await self._finish(job)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _keep_lease(self, job: Job, work: asyncio.Task[None]) -> None:
        interval = max(self.config.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.db.transaction() as db:
                    alive = await JobQueue(db).renew(
                        job.id, owner=self.owner, now=self.clock.now(), lease=self.config.lease
                    )
            except Exception:
                log.exception("job %s: could not renew its lease", job.id)
                continue
            if not alive:
                log.warning("job %s: lease lost; stopping it", job.id)
                work.cancel()
                return

    async def _finish(self, job: Job) -> None:
        async with self.db.transaction() as db:
            await JobQueue(db).succeed(job.id, owner=self.owner, now=self.clock.now())

    async def _failed(self, job: Job, lease: Lease, handler: JobHandler, error: Exception) -> None:
        failure = handler.classify(error)
        reason = failure.reason[:MAX_REASON]
        if not failure.expected:
            log.error("job %s (%s) failed", job.id, job.kind, exc_info=error)
        if failure.retryable and job.attempts < job.max_attempts:
            delay = self.backoff(job.attempts, retry_after=failure.retry_after)
            log.info(
                "job %s attempt %s failed (%s); retry in %.0fs",
                job.id,
                job.attempts,
                reason,
                delay.total_seconds(),
            )
            async with self.db.transaction() as db:
                await JobQueue(db).retry_later(
                    job.id, owner=self.owner, error=reason, run_after=self.clock.now() + delay
                )
            return
        await self._give_up(job, lease, handler, reason)

    async def _give_up(self, job: Job, lease: Lease, handler: JobHandler, reason: str) -> None:
        log.warning("job %s (%s) failed for good: %s", job.id, job.kind, reason)
        try:
            await handler.give_up(job, lease, reason)
        except LeaseLost:
            return
        except Exception as fallback_error:
            log.error("job %s: the fallback failed too", job.id, exc_info=fallback_error)
            reason = f"{reason}; fallback: {describe(fallback_error)}"
        async with self.db.transaction() as db:
            await JobQueue(db).fail(job.id, owner=self.owner, error=reason, now=self.clock.now())

    async def _release(self, job: Job) -> None:
        with contextlib.suppress(Exception):
            async with self.db.transaction() as db:
                await JobQueue(db).release(job.id, owner=self.owner, now=self.clock.now())

    def backoff(self, attempt: int, *, retry_after: float | None = None) -> timedelta:
        """Full jitter: uniform in [0, min(max, base * 2**(attempt-1))], not below the
        server's ``retry_after``."""
        base = self.config.backoff_base.total_seconds()
        ceiling = min(self.config.backoff_max.total_seconds(), base * 2 ** max(attempt - 1, 0))
        delay = self.rng.uniform(0, ceiling)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.backoff_max.total_seconds()))
        return timedelta(seconds=delay)


def describe(error: BaseException) -> str:
    """One line for the job's record: the error's type and the first line of its text."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:MAX_REASON] if text else type(error).__name__
