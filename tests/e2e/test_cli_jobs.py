"""``aimtrack jobs``: the owner's view of the durable queue, through the real entry point.

Jobs are seeded with :class:`JobQueue` in a migrated database of each backend; the command runs
against it through :func:`aimtrack.cli.main` in this process (``tests/helpers/cli.py``), and its
effects are read back from the database. Usage errors need no database.
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aimtrack.cli import EXIT_ERROR, EXIT_OK
from aimtrack.core.model import Job, JobStatus
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import JobQueue, UserDirectory
from tests.helpers.cli import aimtrack, aimtrack_async, run_main

OWNER = "test-worker"
LEASE = timedelta(minutes=10)
ARGPARSE_ERROR = 2
UNKNOWN_ID = 999_999


@dataclass(frozen=True)
class Seeded:
    succeeded: int
    failed: int  # a reflection that had sent its message before it failed
    failed_too: int  # without a user (the queue allows installation-wide jobs)
    running: int
    pending: int


async def _seed(db: Database) -> Seeded:
    """One job in each state, made the way a worker makes them (claim, then finish)."""
    now = datetime.now(UTC)
    async with db.transaction() as session:
        account = await UserDirectory(session).register(
            "telegram", "42", display_name="Anna", allowed=True
        )

    async def enqueue(kind: str, user_id: int | None, **options: Any) -> Job:
        async with db.transaction() as session:
            return await JobQueue(session).enqueue(
                kind, user_id=user_id, payload={"n": 1}, now=now, **options
            )

    async def claim_it(job: Job) -> None:
        async with db.transaction() as session:
            claimed = await JobQueue(session).claim(owner=OWNER, now=now, lease=LEASE, limit=10)
        assert [c.id for c in claimed] == [job.id]

    succeeded = await enqueue("reflection", account.user_id, max_attempts=3)
    await claim_it(succeeded)
    async with db.transaction() as session:
        assert await JobQueue(session).succeed(succeeded.id, owner=OWNER, now=now)

    failed = await enqueue("reflection", account.user_id, max_attempts=1)
    await claim_it(failed)
    async with db.transaction() as session:
        queue = JobQueue(session)
        assert await queue.record_sent(failed.id, owner=OWNER, message_id="77")
        assert await queue.fail(
            failed.id,
            owner=OWNER,
            error="the AI server failed (503): down for maintenance\nsecond line of detail",
            now=now,
        )

    failed_too = await enqueue("weapon_insight", None, max_attempts=2)
    await claim_it(failed_too)
    async with db.transaction() as session:
        assert await JobQueue(session).fail(
            failed_too.id, owner=OWNER, error="ValueError: bad", now=now
        )

    running = await enqueue("coach_answer", account.user_id)
    await claim_it(running)

    pending = await enqueue("reflection", account.user_id, delay=timedelta(hours=1))
    return Seeded(succeeded.id, failed.id, failed_too.id, running.id, pending.id)


async def _job(db: Database, job_id: int) -> Job:
    async with db.transaction(read_only=True) as session:
        return await JobQueue(session).get(job_id)


def _rows(stdout: str) -> dict[int, str]:
    """The table of ``jobs list`` (after the queue line and the header): id -> its line, in
    the order listed."""
    lines = stdout.splitlines()
    assert lines[1].split() == ["id", "kind", "user", "status", "tries", "when", "error"], stdout
    return {int(line.split()[0]): line for line in lines[2:]}


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == EXIT_ERROR, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("aimtrack: ")
    return lines[0]


async def test_the_owner_lists_jobs_and_retries_failed_ones(db: Database) -> None:
    jobs = await _seed(db)
    pending = await _job(db, jobs.pending)

    # Nothing below changes a job (the runs take turns: they share the process).
    listing, failed_only, running, succeeded, unknown = await asyncio.gather(
        aimtrack_async("jobs", "list", db=db),
        aimtrack_async("jobs", "list", "--failed", db=db),
        aimtrack_async("jobs", "retry", str(jobs.running), db=db),
        aimtrack_async("jobs", "retry", str(jobs.succeeded), db=db),
        aimtrack_async("jobs", "retry", str(UNKNOWN_ID), db=db),
    )

    assert listing.returncode == EXIT_OK, listing.stderr
    oldest = pending.created_at.isoformat(timespec="seconds")
    queue_line = f"queue: 1 pending (oldest {oldest}), 1 running, 2 failed"
    assert listing.stdout.splitlines()[0] == queue_line
    rows = _rows(listing.stdout)
    assert list(rows) == [  # newest first
        jobs.pending,
        jobs.running,
        jobs.failed_too,
        jobs.failed,
        jobs.succeeded,
    ]
    shown = {job_id: line.split()[1:5] for job_id, line in rows.items()}
    user = shown[jobs.failed][1]
    assert user.isdecimal()
    assert shown == {
        jobs.pending: ["reflection", user, "pending", "0/5"],
        jobs.running: ["coach_answer", user, "running", "1/5"],
        jobs.failed_too: ["weapon_insight", "-", "failed", "1/2"],
        jobs.failed: ["reflection", user, "failed", "1/1"],
        jobs.succeeded: ["reflection", user, "succeeded", "1/3"],
    }
    assert rows[jobs.failed].endswith(" the AI server failed (503): down for maintenance")
    assert rows[jobs.failed_too].endswith(" ValueError: bad")
    assert "second line" not in listing.stdout  # an error shows its first line only

    assert failed_only.returncode == EXIT_OK, failed_only.stderr
    assert failed_only.stdout.splitlines()[0] == queue_line  # the counts cover the whole queue
    assert list(_rows(failed_only.stdout)) == [jobs.failed_too, jobs.failed]

    for refused in (running, succeeded):
        assert "not failed" in _one_error_line(refused)
    assert _one_error_line(unknown) == f"aimtrack: job {UNKNOWN_ID} not found"
    assert (await _job(db, jobs.running)).status is JobStatus.RUNNING  # left as they were
    assert (await _job(db, jobs.succeeded)).status is JobStatus.SUCCEEDED

    retried = await aimtrack_async("jobs", "retry", str(jobs.failed), db=db)

    assert retried.returncode == EXIT_OK, retried.stderr
    assert retried.stdout == (
        f"job {jobs.failed} (reflection) queued again; a running AimTrack picks it up\n"
    )
    job = await _job(db, jobs.failed)
    assert (job.status, job.attempts, job.finished_at) == (JobStatus.PENDING, 0, None)
    assert job.run_after <= datetime.now(UTC)  # due now
    assert job.sent_message_id is None  # its result will be a new message
    assert job.last_error is not None  # kept until the job succeeds
    assert (await _job(db, jobs.failed_too)).status is JobStatus.FAILED

    again = await aimtrack_async("jobs", "retry", str(jobs.failed), db=db)
    assert "not failed" in _one_error_line(again)  # it is pending now

    everything = await aimtrack_async("jobs", "retry", "--all-failed", db=db)

    assert everything.returncode == EXIT_OK, everything.stderr
    assert everything.stdout == "1 failed job(s) queued again\n"
    statuses = {
        job_id: (await _job(db, job_id)).status
        for job_id in (jobs.failed, jobs.failed_too, jobs.running, jobs.succeeded, jobs.pending)
    }
    assert statuses == {
        jobs.failed: JobStatus.PENDING,
        jobs.failed_too: JobStatus.PENDING,
        jobs.running: JobStatus.RUNNING,
        jobs.succeeded: JobStatus.SUCCEEDED,
        jobs.pending: JobStatus.PENDING,
    }


def test_an_empty_queue_is_listed_as_such() -> None:
    run_main("db", "upgrade")
    assert run_main("jobs", "list") == (
        EXIT_OK,
        "queue: 0 pending (oldest -), 0 running, 0 failed\nno jobs\n",
    )
    assert run_main("jobs", "list", "--failed")[1].endswith("\nno failed jobs\n")
    assert run_main("jobs", "retry", "--all-failed") == (
        EXIT_OK,
        "0 failed job(s) queued again\n",
    )


def test_jobs_before_the_schema_exists_say_what_to_run() -> None:
    done = aimtrack("jobs", "list")
    assert (done.returncode, done.stdout) == (EXIT_ERROR, "")
    assert done.stderr == (
        "aimtrack: the database has no AimTrack schema yet; run: aimtrack db upgrade\n"
    )


@pytest.mark.parametrize("bad", ["abc", "0", "-3", "1.5", "٣", "99999999999"])
def test_a_bad_job_id_is_a_usage_error(bad: str) -> None:
    done = aimtrack("jobs", "retry", "--", bad)
    assert done.returncode == ARGPARSE_ERROR
    err = done.stderr
    assert err.startswith("usage: aimtrack jobs retry")
    assert f"{bad!r} is not a job id (see: aimtrack jobs list)" in err


@pytest.mark.parametrize("args", [[], ["5", "--all-failed"]], ids=["no target", "both"])
def test_retry_takes_exactly_one_target(args: list[str]) -> None:
    done = aimtrack("jobs", "retry", *args)
    assert done.returncode == ARGPARSE_ERROR
    assert done.stderr.startswith("usage: aimtrack jobs retry")
