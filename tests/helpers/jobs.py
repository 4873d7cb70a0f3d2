"""The durable job worker as the tests drive it: built beside a conversation, run by hand."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aimtrack.ai.coach import ShooterCoach
from aimtrack.bot.app import texts
from aimtrack.bot.push import Messengers
from aimtrack.core.access import Access
from aimtrack.core.clock import Clock
from aimtrack.jobs.registry import job_handlers
from aimtrack.jobs.services import JobServices
from aimtrack.jobs.worker import JobWorker, WorkerConfig
from aimtrack.storage.engine import Database


def job_worker(
    db: Database,
    *,
    clock: Clock,
    data_dir: Path,
    messengers: Messengers,
    coach: ShooterCoach | None = None,
    access: Access | None = None,
    config: WorkerConfig | None = None,
) -> JobWorker:
    """A worker for every job kind, as the composition root builds it, that runs only when a
    test ticks or drains it (a conversation built apart from it does not wake it)."""
    services = JobServices(
        db, clock=clock, messengers=messengers, catalogue=texts(), data_dir=data_dir
    )
    handlers = job_handlers(services, coach=coach, access=access or Access())
    return JobWorker(db, handlers, clock=clock, config=config)


async def drain(worker: JobWorker, *, rounds: int = 200) -> None:
    """Run ticks until nothing is due or running. (A job that ends also wakes the worker,
    which ticks on its own; a tick waits for another's claim, so after ours, whatever was due
    runs.)"""
    for _ in range(rounds):
        started = await worker.tick()
        if not started and not worker.busy:
            return
        while worker.busy:  # noqa: ASYNC110 -- the worker has no event for "idle"
            await asyncio.sleep(0.005)
    raise AssertionError(f"the queue did not drain in {rounds} rounds")
