"""The durable job queue on SQLite and PostgreSQL: leases, retries, idempotency, races."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.core import limits
from aimtrack.core.errors import InvalidInput, NotFound
from aimtrack.core.model import Job, JobStatus, QueueStats, SessionSpec
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import JobQueue, SessionRepo, UserDirectory
from aimtrack.storage.repos.jobs import INTERRUPTED, INTERRUPTED_ON_LAST
from aimtrack.storage.tables import JobRow
from tests.helpers.databases import racing

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
MINUTE = timedelta(minutes=1)


async def _user(db: Database, telegram_id: int = 42) -> int:
    async with db.transaction() as session:
        account = await UserDirectory(session).register(
            "telegram", str(telegram_id), display_name="Anna", allowed=True
        )
    return account.user_id


async def _enqueue(db: Database, kind: str = "reflect", **options: Any) -> Job:
    options.setdefault("user_id", None)
    options.setdefault("payload", {})
    options.setdefault("now", T0)
    async with db.transaction() as session:
        return await JobQueue(session).enqueue(kind, **options)


async def _claim(db: Database, owner: str, *, now: datetime = T0, **options: Any) -> list[Job]:
    options.setdefault("lease", LEASE)
    options.setdefault("limit", 10)
    async with db.transaction() as session:
        return await JobQueue(session).claim(owner=owner, now=now, **options)


async def _get(db: Database, job_id: int) -> Job:
    async with db.transaction(read_only=True) as session:
        return await JobQueue(session).get(job_id)


async def _queue(db: Database, action: str, *args: Any, **kwargs: Any) -> Any:
    """Call one JobQueue method in a transaction of its own (as the worker does)."""
    async with db.transaction() as session:
        return await getattr(JobQueue(session), action)(*args, **kwargs)


async def _key_of(db: Database, job_id: int) -> str | None:
    async with db.transaction(read_only=True) as session:
        return await session.scalar(sa.select(JobRow.idempotency_key).where(JobRow.id == job_id))


async def _job_count(session: AsyncSession) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(JobRow)) or 0)


async def test_a_job_is_enqueued_claimed_and_succeeds(db: Database) -> None:
    uid = await _user(db)
    job = await _enqueue(db, user_id=uid, payload={"session_id": 7, "note": "wind ë"})
    assert (job.status, job.attempts, job.max_attempts, job.run_after) == (
        JobStatus.PENDING,
        0,
        5,
        T0,
    )
    assert (job.payload, job.user_id, job.created_at) == (
        {"session_id": 7, "note": "wind ë"},
        uid,
        T0,
    )

    [claimed] = await _claim(db, "w1", now=T0 + MINUTE)
    assert claimed.id == job.id
    assert (claimed.status, claimed.attempts, claimed.lease_owner, claimed.lease_until) == (
        JobStatus.RUNNING,
        1,
        "w1",
        T0 + MINUTE + LEASE,
    )
    assert await _claim(db, "w2", now=T0 + MINUTE) == []  # held, not handed out twice

    assert await _queue(db, "succeed", job.id, owner="w1", now=T0 + 2 * MINUTE) is True
    done = await _get(db, job.id)
    assert (done.status, done.finished_at, done.lease_owner, done.lease_until) == (
        JobStatus.SUCCEEDED,
        T0 + 2 * MINUTE,
        None,
        None,
    )
    assert await _claim(db, "w1", now=T0 + timedelta(days=1)) == []


async def test_a_job_not_yet_due_waits(db: Database) -> None:
    job = await _enqueue(db, delay=10 * MINUTE)
    assert job.run_after == T0 + 10 * MINUTE
    assert await _claim(db, "w1", now=T0 + 9 * MINUTE) == []
    assert [j.id for j in await _claim(db, "w1", now=T0 + 10 * MINUTE)] == [job.id]


async def test_claim_takes_the_longest_due_first_and_respects_the_limit(db: Database) -> None:
    delays = [4, 1, 3, 0, 2]
    ids = {delay: (await _enqueue(db, delay=delay * MINUTE)).id for delay in delays}
    later = T0 + 10 * MINUTE
    first = await _claim(db, "w1", now=later, limit=2)
    second = await _claim(db, "w1", now=later, limit=2)
    third = await _claim(db, "w1", now=later, limit=2)
    assert [j.id for j in first] == [ids[0], ids[1]]
    assert [j.id for j in second] == [ids[2], ids[3]]
    assert [j.id for j in third] == [ids[4]]
    assert await _claim(db, "w1", now=later, limit=0) == []


async def test_claim_only_takes_the_kinds_asked_for(db: Database) -> None:
    reflect = await _enqueue(db, "reflect")
    coach = await _enqueue(db, "coach")
    assert await _claim(db, "w1", kinds=()) == []
    assert [j.id for j in await _claim(db, "w1", kinds=("coach", "other"))] == [coach.id]
    assert [j.id for j in await _claim(db, "w1", kinds=["reflect"])] == [reflect.id]


async def test_an_expired_lease_is_claimed_again_up_to_the_last_attempt(db: Database) -> None:
    job = await _enqueue(db, max_attempts=2)
    [first] = await _claim(db, "w1")
    assert await _claim(db, "w2", now=T0 + LEASE) == []  # not yet expired: still w1's
    [second] = await _claim(db, "w2", now=T0 + LEASE + MINUTE)  # w1 died (kill -9)
    assert (second.id, second.lease_owner, second.attempts) == (job.id, "w2", 2)
    assert (first.attempts, second.attempts, second.max_attempts) == (1, 2, 2)
    [third] = await _claim(db, "w3", now=T0 + 2 * LEASE + 2 * MINUTE)
    assert (third.lease_owner, third.attempts, third.max_attempts) == ("w3", 2, 2)
    # Only the claim after a death on the LAST attempt says so (the worker then gives up).
    assert (first.last_error, second.last_error) == (None, INTERRUPTED)
    assert third.last_error == INTERRUPTED_ON_LAST


async def test_a_manual_retry_of_a_job_interrupted_on_its_last_attempt_runs_it_again(
    db: Database,
) -> None:
    """The retry keeps why it failed, but not what makes the worker give up at once."""
    job = await _enqueue(db, max_attempts=1)
    await _claim(db, "w1")  # w1 dies on the only attempt
    [retaken] = await _claim(db, "w2", now=T0 + LEASE + MINUTE)
    assert (retaken.attempts, retaken.last_error) == (1, INTERRUPTED_ON_LAST)
    await _queue(db, "fail", job.id, owner="w2", error=INTERRUPTED_ON_LAST, now=T0 + LEASE)
    later = T0 + timedelta(hours=1)

    retried = await _queue(db, "retry", job.id, now=later)
    assert (retried.attempts, retried.last_error) == (0, INTERRUPTED)
    [claimed] = await _claim(db, "w3", now=later)
    assert (claimed.attempts, claimed.last_error) == (1, INTERRUPTED)

    await _queue(db, "fail", job.id, owner="w3", error=INTERRUPTED_ON_LAST, now=later)
    assert await _queue(db, "retry_all_failed", now=later) == 1
    assert (await _get(db, job.id)).last_error == INTERRUPTED


async def test_a_renewed_lease_is_not_taken_over(db: Database) -> None:
    job = await _enqueue(db)
    await _claim(db, "w1")
    assert await _queue(db, "renew", job.id, owner="w1", now=T0 + MINUTE, lease=LEASE) is True
    assert (await _get(db, job.id)).lease_until == T0 + MINUTE + LEASE
    assert await _claim(db, "w2", now=T0 + LEASE + MINUTE // 2) == []
    assert await _claim(db, "w2", now=T0 + LEASE + 2 * MINUTE) != []


async def test_a_worker_that_lost_its_lease_changes_nothing(db: Database) -> None:
    job = await _enqueue(db)
    await _claim(db, "w1")
    later = T0 + LEASE + MINUTE
    await _claim(db, "w2", now=later)
    assert await _queue(db, "record_sent", job.id, owner="w2", message_id="m-2") is True
    before = await _get(db, job.id)

    attempts = {
        "succeed": await _queue(db, "succeed", job.id, owner="w1", now=later),
        "fail": await _queue(db, "fail", job.id, owner="w1", error="late", now=later),
        "retry_later": await _queue(
            db, "retry_later", job.id, owner="w1", error="late", run_after=later
        ),
        "record_sent": await _queue(db, "record_sent", job.id, owner="w1", message_id="m-1"),
        "renew": await _queue(db, "renew", job.id, owner="w1", now=later, lease=LEASE),
    }
    assert attempts == dict.fromkeys(attempts, False)
    assert await _get(db, job.id) == before
    assert (before.lease_owner, before.sent_message_id) == ("w2", "m-2")

    # Once finished, even the holder of the last lease cannot change it any more.
    assert await _queue(db, "succeed", job.id, owner="w2", now=later) is True
    assert await _queue(db, "renew", job.id, owner="w2", now=later, lease=LEASE) is False
    assert await _queue(db, "fail", job.id, owner="w2", error="x", now=later) is False
    assert (await _get(db, job.id)).status is JobStatus.SUCCEEDED


async def test_retry_later_hands_the_job_back_with_its_error(db: Database) -> None:
    job = await _enqueue(db)
    await _claim(db, "w1")
    retry_at = T0 + 5 * MINUTE
    long_error = "timeout " + "x" * (limits.MAX_AI_TEXT * 2)
    assert await _queue(db, "retry_later", job.id, owner="w1", error=long_error, run_after=retry_at)
    back = await _get(db, job.id)
    assert (back.status, back.run_after, back.attempts, back.lease_owner, back.lease_until) == (
        JobStatus.PENDING,
        retry_at,
        1,
        None,
        None,
    )
    assert back.last_error == long_error[: limits.MAX_AI_TEXT]
    assert await _claim(db, "w1", now=retry_at - MINUTE) == []
    [again] = await _claim(db, "w1", now=retry_at)
    assert again.attempts == 2


async def test_fail_records_why_and_when(db: Database) -> None:
    job = await _enqueue(db)
    await _claim(db, "w1")
    assert await _queue(db, "fail", job.id, owner="w1", error="HTTP 500", now=T0 + MINUTE)
    failed = await _get(db, job.id)
    assert (failed.status, failed.last_error, failed.finished_at, failed.lease_owner) == (
        JobStatus.FAILED,
        "HTTP 500",
        T0 + MINUTE,
        None,
    )
    assert await _claim(db, "w1", now=T0 + timedelta(days=1)) == []  # waits for a person


async def test_a_manual_retry_starts_a_failed_job_afresh(db: Database) -> None:
    job = await _enqueue(db, max_attempts=1)
    await _claim(db, "w1")
    await _queue(db, "record_sent", job.id, owner="w1", message_id="msg-1")
    await _queue(db, "fail", job.id, owner="w1", error="boom", now=T0 + MINUTE)
    later = T0 + timedelta(hours=3)

    retried = await _queue(db, "retry", job.id, now=later)
    assert (retried.status, retried.attempts, retried.run_after) == (JobStatus.PENDING, 0, later)
    assert (retried.finished_at, retried.sent_message_id, retried.last_error) == (
        None,
        None,
        "boom",
    )
    [claimed] = await _claim(db, "w2", now=later)
    assert (claimed.id, claimed.attempts, claimed.sent_message_id) == (job.id, 1, None)


async def test_only_failed_jobs_can_be_retried(db: Database) -> None:
    pending = await _enqueue(db, "a")
    done = await _enqueue(db, "b")
    await _claim(db, "w1", kinds=["b"])
    await _queue(db, "succeed", done.id, owner="w1", now=T0)
    for job in (pending, done):
        with pytest.raises(InvalidInput, match="not failed"):
            await _queue(db, "retry", job.id, now=T0)
    assert (await _get(db, pending.id)).status is JobStatus.PENDING
    assert (await _get(db, done.id)).status is JobStatus.SUCCEEDED
    for missing in (done.id + 100, 0, -1, 2**31, 2**63):
        with pytest.raises(NotFound):
            await _queue(db, "retry", missing, now=T0)
        with pytest.raises(NotFound):
            await _get(db, missing)


async def _failed_job(db: Database, *, user_id: int | None, kind: str = "coach") -> Job:
    job = await _enqueue(db, kind, user_id=user_id)
    [claimed] = await _claim(db, "w1", kinds=[kind])
    assert claimed.id == job.id
    await _queue(db, "fail", job.id, owner="w1", error="down", now=T0)
    return job


async def test_a_user_can_retry_and_list_only_their_own_jobs(db: Database) -> None:
    anna, bert = await _user(db, 1), await _user(db, 2)
    annas = await _failed_job(db, user_id=anna)
    berts = await _failed_job(db, user_id=bert)
    system = await _enqueue(db, "cleanup")

    with pytest.raises(NotFound):
        await _queue(db, "retry", annas.id, now=T0, user_id=bert)
    assert (await _get(db, annas.id)).status is JobStatus.FAILED
    assert (await _queue(db, "retry", berts.id, now=T0, user_id=bert)).status is JobStatus.PENDING

    assert [j.id for j in await _queue(db, "list_jobs", user_id=anna)] == [annas.id]
    assert [j.id for j in await _queue(db, "list_jobs", user_id=bert)] == [berts.id]
    assert [j.id for j in await _queue(db, "list_jobs")] == [system.id, berts.id, annas.id]
    assert [j.id for j in await _queue(db, "list_jobs", status=JobStatus.FAILED)] == [annas.id]
    assert [j.id for j in await _queue(db, "list_jobs", limit=-5)] == [system.id]
    assert await _queue(db, "list_jobs", user_id=2**40) == []


async def test_retry_all_failed_counts_what_it_retried(db: Database) -> None:
    failed = [await _failed_job(db, user_id=None, kind=f"k{n}") for n in range(3)]
    pending = await _enqueue(db, "p")
    done = await _enqueue(db, "d")
    await _claim(db, "w1", kinds=["d"])
    await _queue(db, "succeed", done.id, owner="w1", now=T0)

    assert await _queue(db, "retry_all_failed", now=T0 + MINUTE) == 3
    statuses = {j.id: j.status for j in await _queue(db, "list_jobs")}
    assert statuses == {
        **{job.id: JobStatus.PENDING for job in failed},
        pending.id: JobStatus.PENDING,
        done.id: JobStatus.SUCCEEDED,
    }
    assert await _queue(db, "retry_all_failed", now=T0 + MINUTE) == 0


async def test_an_idempotency_key_reuses_a_pending_job_and_moves_on_when_it_ran(
    db: Database,
) -> None:
    first = await _enqueue(db, payload={"v": 1}, idempotency_key="reflect:session:7")
    again = await _enqueue(db, payload={"v": 2}, idempotency_key="reflect:session:7")
    assert again == first  # unchanged: the pending job keeps its payload

    await _claim(db, "w1")
    while_running = await _enqueue(db, payload={"v": 3}, idempotency_key="reflect:session:7")
    assert while_running.id != first.id
    assert (while_running.status, while_running.payload) == (JobStatus.PENDING, {"v": 3})
    assert await _key_of(db, first.id) is None  # the old job keeps its history, not the key
    assert await _key_of(db, while_running.id) == "reflect:session:7"

    await _claim(db, "w1")
    await _queue(db, "succeed", while_running.id, owner="w1", now=T0)
    after_done = await _enqueue(db, payload={"v": 4}, idempotency_key="reflect:session:7")
    assert after_done.id not in {first.id, while_running.id}
    assert len(await _queue(db, "list_jobs")) == 3


async def test_the_holder_of_a_key_and_the_unfinished_jobs_among_keys(db: Database) -> None:
    first = await _enqueue(db, idempotency_key="k:1")
    await _claim(db, "w1")
    newer = await _enqueue(db, idempotency_key="k:1")  # asked again while the first runs
    other = await _enqueue(db, idempotency_key="k:2")
    assert (await _queue(db, "holder", "k:1")).id == newer.id
    assert await _queue(db, "holder", "k:none") is None
    assert await _queue(db, "holder", "") is None

    keys = ["k:1", "k:2", "k:2", "k:none", "", "x" * 1000]
    assert [j.id for j in await _queue(db, "unfinished", keys)] == [newer.id, other.id]
    [claimed, _] = await _claim(db, "w1", now=T0 + MINUTE)
    await _queue(db, "succeed", claimed.id, owner="w1", now=T0 + MINUTE)
    assert first.id != claimed.id
    assert [j.id for j in await _queue(db, "unfinished", keys)] == [other.id]
    assert await _queue(db, "unfinished", []) == []


async def test_hurry_makes_waiting_jobs_with_the_keys_due_now(db: Database) -> None:
    waiting = await _enqueue(db, idempotency_key="k:1", delay=10 * MINUTE)
    elsewhere = await _enqueue(db, idempotency_key="k:2", delay=10 * MINUTE)
    assert await _queue(db, "hurry", ["k:1", "k:none", ""], now=T0 + MINUTE) == 1
    assert (await _get(db, waiting.id)).run_after == T0 + MINUTE
    assert (await _get(db, elsewhere.id)).run_after == T0 + 10 * MINUTE
    assert await _queue(db, "hurry", ["k:1"], now=T0 + MINUTE) == 0  # already due
    assert await _queue(db, "hurry", [], now=T0) == 0


async def test_a_released_job_is_due_again_when_asked_without_using_an_attempt(
    db: Database,
) -> None:
    job = await _enqueue(db)
    await _claim(db, "w1")
    later = T0 + 2 * MINUTE
    assert await _queue(db, "release", job.id, owner="w1", now=T0, run_after=later)
    back = await _get(db, job.id)
    assert (back.status, back.attempts, back.run_after, back.lease_owner) == (
        JobStatus.PENDING,
        0,
        later,
        None,
    )
    assert await _claim(db, "w1", now=later - MINUTE) == []
    assert await _queue(db, "release", job.id, owner="w1", now=T0) is False  # not held


async def test_two_transactions_enqueueing_one_key_make_one_job(db: Database) -> None:
    def enqueue(value: int) -> Any:
        return lambda session: JobQueue(session).enqueue(
            "reflect", user_id=None, payload={"v": value}, now=T0, idempotency_key="k"
        )

    first, second = await racing(db, enqueue(1), enqueue(2))
    assert first == second
    async with db.transaction(read_only=True) as session:
        assert await _job_count(session) == 1


async def test_two_workers_on_separate_engines_never_get_the_same_job(db: Database) -> None:
    """Both claim at once, round after round, until the queue is empty."""
    ids = {(await _enqueue(db, payload={"n": n})).id for n in range(20)}
    other = Database.from_url(db.engine.url.render_as_string(hide_password=False))
    try:
        claimed: dict[str, list[int]] = {"w1": [], "w2": []}
        for _ in range(20):
            one, two = await asyncio.gather(
                _claim(db, "w1", limit=3, lease=timedelta(hours=1)),
                _claim(other, "w2", limit=3, lease=timedelta(hours=1)),
            )
            claimed["w1"] += [j.id for j in one]
            claimed["w2"] += [j.id for j in two]
            if not one and not two:
                break
    finally:
        await other.dispose()
    everything = claimed["w1"] + claimed["w2"]
    assert len(everything) == len(set(everything)) == 20
    assert set(everything) == ids
    for owner, mine in claimed.items():  # what each was told matches what the table says
        for job_id in mine:
            assert (await _get(db, job_id)).lease_owner == owner


async def test_a_claim_in_progress_holds_its_jobs_from_another_worker(db: Database) -> None:
    """On PostgreSQL the second claim skips the locked rows without waiting for the first
    transaction; on SQLite it waits for the write lock and then sees them taken."""
    ids = [(await _enqueue(db)).id for _ in range(6)]
    other = Database.from_url(db.engine.url.render_as_string(hide_password=False))
    try:
        async with db.transaction() as session:
            first = await JobQueue(session).claim(owner="w1", now=T0, lease=LEASE, limit=2)
            second_claim = asyncio.create_task(_claim(other, "w2", limit=10))
            if db.engine.dialect.name == "postgresql":
                # A guard against a hang (a claim that waits for our locks), not a speed check.
                second = await asyncio.wait_for(asyncio.shield(second_claim), timeout=30)
        second = await second_claim
    finally:
        await other.dispose()
    assert [j.id for j in first] == ids[:2]
    assert [j.id for j in second] == ids[2:]


async def test_queue_stats_count_by_status(db: Database) -> None:
    async with db.transaction(read_only=True) as session:
        assert await JobQueue(session).stats() == QueueStats(0, 0, 0, None)
    await _enqueue(db, "a", now=T0)
    await _enqueue(db, "b", now=T0 + MINUTE, delay=timedelta(days=1))  # pending, not yet due
    await _enqueue(db, "c", now=T0 + 2 * MINUTE)
    await _failed_job(db, user_id=None, kind="d")
    await _claim(db, "w1", kinds=["a"])
    async with db.transaction(read_only=True) as session:
        stats = await JobQueue(session).stats()
    assert stats == QueueStats(pending=2, running=1, failed=1, oldest_pending_at=T0 + MINUTE)


@pytest.mark.parametrize(
    ("field", "options"),
    [
        ("kind", {"kind": ""}),
        ("kind", {"kind": "   "}),
        ("kind", {"kind": "k" * (limits.MAX_JOB_KIND + 1)}),
        ("payload", {"payload": {"text": "x" * limits.MAX_JOB_PAYLOAD_BYTES}}),
        ("payload", {"payload": {"when": T0}}),
        ("payload", {"payload": {"score": float("nan")}}),
        ("payload", {"payload": ["not", "a", "mapping"]}),
        ("max_attempts", {"max_attempts": 0}),
        ("max_attempts", {"max_attempts": limits.MAX_JOB_ATTEMPTS + 1}),
        ("user_id", {"user_id": 0}),
        ("idempotency_key", {"idempotency_key": "k" * (limits.MAX_IDEMPOTENCY_KEY + 1)}),
    ],
)
async def test_bad_jobs_are_refused(db: Database, field: str, options: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"kind": "reflect", "user_id": None, "payload": {}, "now": T0}
    arguments.update(options)
    async with db.transaction() as session:
        with pytest.raises(InvalidInput, match=field):
            await JobQueue(session).enqueue(**arguments)
        assert await _job_count(session) == 0


async def test_a_payload_reads_back_as_the_json_it_was_stored_as(db: Database) -> None:
    job = await _enqueue(db, payload={"ids": (1, 2), "nested": {"ok": True, "none": None}})
    assert job.payload == {"ids": [1, 2], "nested": {"ok": True, "none": None}}
    assert (await _get(db, job.id)).payload == job.payload


async def test_a_job_exists_exactly_when_the_transaction_that_enqueued_it_commits(
    db: Database,
) -> None:
    uid = await _user(db)

    async def save_session_with_job(session: AsyncSession) -> None:
        saved = await SessionRepo(session, uid).create(SessionSpec(occurred_on=date(2026, 11, 1)))
        await JobQueue(session).enqueue(
            "reflect", user_id=uid, payload={"session_id": saved.id}, now=T0
        )

    async def a_step_that_fails_after_the_enqueue() -> None:
        async with db.transaction() as session:
            await save_session_with_job(session)
            raise RuntimeError("the step failed after the enqueue")

    with pytest.raises(RuntimeError, match="after the enqueue"):
        await a_step_that_fails_after_the_enqueue()
    async with db.transaction(read_only=True) as session:
        assert await _job_count(session) == 0
        assert await SessionRepo(session, uid).count() == 0

    async with db.transaction() as session:
        await save_session_with_job(session)
    async with db.transaction(read_only=True) as session:
        [saved] = await SessionRepo(session, uid).list_sessions()
        [job] = await JobQueue(session).list_jobs()
    assert job.payload == {"session_id": saved.id}


async def test_a_deleted_user_takes_their_jobs_along(db: Database) -> None:
    uid = await _user(db)
    await _enqueue(db, user_id=uid)
    kept = await _enqueue(db, user_id=None)
    async with db.transaction() as session:
        await session.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": uid})
    async with db.transaction(read_only=True) as session:
        assert [j.id for j in await JobQueue(session).list_jobs()] == [kept.id]
