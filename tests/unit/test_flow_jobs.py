"""/jobs through the real conversation core and queue: admins only, retries reach the queue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from aimtrack.bot import app
from aimtrack.bot.commands import COMMANDS, canonical
from aimtrack.bot.conversation import TEXTS as CORE_TEXTS
from aimtrack.bot.conversation import Access
from aimtrack.bot.flows import coach, jobs
from aimtrack.bot.io import Press, Sender
from aimtrack.core.clock import FixedClock
from aimtrack.core.model import Job, JobStatus, Transport
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ConversationRepo, JobQueue, UserDirectory
from aimtrack.storage.tables import UserRow
from tests.helpers.chat import NOW, Chat

ADMIN_ID = 777
UNKNOWN = CORE_TEXTS["unknown_command"][0]
WORKER = "worker-1"


class Desk:
    """A chat with the queue behind it; ``nudges`` counts how often the worker was woken."""

    def __init__(self, db: Database, data_dir: Path, sender: Sender) -> None:
        self.db = db
        self.nudges = 0
        conversation = app.build_conversation(
            db,
            clock=FixedClock(NOW),
            data_dir=data_dir,
            access=Access(),
            on_jobs=self._nudge,  # where the app wakes its worker
        )
        self.chat = Chat(conversation, sender)

    def _nudge(self) -> None:
        self.nudges += 1

    async def failed(self, kind: str = "reflection", *, error: str = "boom") -> Job:
        """A job that ran once and failed for good, as the worker leaves it."""
        async with self.db.transaction() as s:
            queue = JobQueue(s)
            job = await queue.enqueue(
                kind, user_id=None, payload={"n": 1}, now=NOW - timedelta(hours=3), max_attempts=1
            )
            (claimed,) = await queue.claim(
                owner=WORKER, now=NOW - timedelta(hours=3), lease=timedelta(minutes=5), limit=1
            )
            assert claimed.id == job.id
            assert await queue.fail(job.id, owner=WORKER, error=error, now=NOW)
            return await queue.get(job.id)

    async def pending(self, *, ago: timedelta = timedelta(0), user_id: int | None = None) -> Job:
        async with self.db.transaction() as s:
            return await JobQueue(s).enqueue(
                "weapon_insight", user_id=user_id, payload={}, now=NOW - ago
            )

    async def job(self, job_id: int) -> Job:
        async with self.db.transaction(read_only=True) as s:
            return await JobQueue(s).get(job_id)


@pytest.fixture
async def admin(db: Database, tmp_path: Path) -> Desk:
    async with db.transaction() as s:
        await UserDirectory(s).allow_telegram(ADMIN_ID, admin=True)
    return Desk(db, tmp_path, Sender(Transport.TELEGRAM, str(ADMIN_ID), str(ADMIN_ID), "Beheer"))


@pytest.fixture
async def user(db: Database, tmp_path: Path) -> Desk:
    return Desk(db, tmp_path, Sender(Transport.CONSOLE, "anna", "anna", "Anna"))


async def test_jobs_is_unknown_to_a_user_who_is_not_an_admin(user: Desk) -> None:
    job = await user.failed(error="secret failure")
    await user.chat.say("/jobs")
    assert user.chat.text == UNKNOWN
    assert user.chat.labels() == []
    assert "secret" not in user.chat.text
    async with user.db.transaction(read_only=True) as s:
        account = await UserDirectory(s).find(Transport.CONSOLE, "anna")
        assert account is not None
        assert await ConversationRepo(s, account.user_id).load(Transport.CONSOLE, "anna") is None
    assert (await user.job(job.id)).status is JobStatus.FAILED


async def test_an_admin_sees_the_queue_and_the_failures(admin: Desk) -> None:
    first = await admin.failed("reflection", error="RuntimeError: model timed out\nTraceback …")
    second = await admin.failed("coach_answer", error="x" * 500)
    await admin.pending(ago=timedelta(hours=2))
    await admin.chat.say("/jobs")
    text = admin.chat.text
    assert "⚙️ Wachtrij: 1 wachtend, 0 bezig, 2 mislukt." in text
    assert "De oudste wachtende taak wacht al 2 uur." in text
    assert (
        f"#{first.id} reflection · gebruiker — · 1/1 pogingen · 23-11-2026 19:30\n"
        "   RuntimeError: model timed out"
    ) in text  # 18:30 UTC in the admin's Amsterdam
    assert "Traceback" not in text
    assert f"   {'x' * 120}\n" in text  # the error's first line, cut
    assert "x" * 121 not in text
    assert text.index(f"#{second.id} ") < text.index(f"#{first.id} ")  # newest first
    assert {
        f"🔁 Opnieuw #{first.id}",
        f"🔁 Opnieuw #{second.id}",
        "🔁 Alle mislukte opnieuw",
        "📋 Lijst",
    } <= set(admin.chat.labels())


async def test_retry_puts_a_failed_job_back_in_the_queue(admin: Desk) -> None:
    job = await admin.failed()
    other = await admin.failed()
    await admin.chat.say("/jobs")
    await admin.chat.press(f"Opnieuw #{job.id}")
    assert f"Taak #{job.id} staat weer in de wachtrij." in admin.chat.text
    assert "1 wachtend, 0 bezig, 1 mislukt" in admin.chat.text
    again = await admin.job(job.id)
    assert (again.status, again.attempts, again.run_after) == (JobStatus.PENDING, 0, NOW)
    assert (await admin.job(other.id)).status is JobStatus.FAILED
    assert admin.nudges == 1
    assert f"🔁 Opnieuw #{job.id}" not in admin.chat.labels()


async def test_retry_all_failed(admin: Desk) -> None:
    failed = [await admin.failed() for _ in range(3)]
    await admin.chat.say("/jobs")
    await admin.chat.press("Alle mislukte opnieuw")
    assert "3 mislukte taken staan weer in de wachtrij." in admin.chat.text
    assert "Geen mislukte taken." in admin.chat.text
    assert [(await admin.job(j.id)).status for j in failed] == [JobStatus.PENDING] * 3
    assert admin.nudges == 1


async def test_a_job_no_longer_failed_is_not_retried_again(admin: Desk) -> None:
    job = await admin.failed()
    await admin.chat.say("/jobs")
    async with admin.db.transaction() as s:  # another admin retried it meanwhile
        await JobQueue(s).retry(job.id, now=NOW)
        (claimed,) = await JobQueue(s).claim(
            owner=WORKER, now=NOW, lease=timedelta(minutes=5), limit=1
        )
        assert claimed.id == job.id
    await admin.chat.press(f"Opnieuw #{job.id}")
    assert f"Taak #{job.id} is niet (meer) mislukt" in admin.chat.text
    assert (await admin.job(job.id)).status is JobStatus.RUNNING
    assert admin.nudges == 0


async def test_a_forged_job_id_is_not_found(admin: Desk) -> None:
    await admin.failed()
    await admin.chat.say("/jobs")
    seq = admin.chat.button("Lijst").split(":", 1)[0]
    for forged in ("424242", "abc", "99999999999"):
        await admin.chat.do(Press(f"{seq}:r:{forged}"))
        assert "Dat kon ik niet vinden" in admin.chat.text
        seq = admin.chat.button("Lijst").split(":", 1)[0]


async def test_the_list_shows_the_newest_ten_jobs(admin: Desk) -> None:
    made = [await admin.pending(user_id=None) for _ in range(11)]
    failed = await admin.failed()
    await admin.chat.say("/jobs")
    await admin.chat.press("Lijst")
    text = admin.chat.text
    assert text.startswith("De nieuwste taken:")
    assert f"#{failed.id} reflection · mislukt · gebruiker —" in text
    assert f"#{made[-1].id} weapon_insight · wachtend" in text
    assert f"#{made[1].id} " not in text  # the 11th newest
    assert text.count("\n#") == 10
    await admin.chat.press("Overzicht")
    assert "11 wachtend" in admin.chat.text


async def test_a_demoted_admin_cannot_use_an_old_button(admin: Desk) -> None:
    job = await admin.failed()
    await admin.chat.say("/jobs")
    async with admin.db.transaction() as s:
        await s.execute(sa.update(UserRow).values(is_admin=False))
    await admin.chat.press(f"Opnieuw #{job.id}")
    assert admin.chat.text == UNKNOWN
    assert (await admin.job(job.id)).status is JobStatus.FAILED


async def test_done_closes_and_typing_points_at_the_buttons(admin: Desk) -> None:
    await admin.chat.say("/jobs")
    await admin.chat.say("hallo")
    assert "Kies een van de knoppen" in admin.chat.text
    assert "Wachtrij" in admin.chat.text
    await admin.chat.press("Klaar")
    assert admin.chat.text == "Klaar met de wachtrij."


# --- commands and texts ---------------------------------------------------------------------


def test_jobs_is_not_in_the_menu_and_unknown_without_admin() -> None:
    assert "jobs" not in {command.key for command in COMMANDS}
    assert "coach" in {command.key for command in COMMANDS}
    assert canonical("jobs") == "jobs"
    assert canonical("JOBS@AimTrackBot") == "jobs"
    assert canonical("jobs", admin=False) is None
    assert canonical("coach", admin=False) == "coach"
    assert canonical("hulp", admin=False) == "help"


@pytest.mark.parametrize(
    ("texts", "prefix"), [(coach.TEXTS, "coach."), (jobs.TEXTS, "jobs.")], ids=["coach", "jobs"]
)
def test_text_keys_carry_the_flow_prefix(texts: dict[str, tuple[str, str]], prefix: str) -> None:
    for key in texts:
        assert key.startswith((prefix, "cmd.")), key
