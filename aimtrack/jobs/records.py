"""A user's records as the jobs that reason about them read them: profile, weapons, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from aimtrack.core.model import Job, Profile, ShootingSession, Weapon
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ProfileRepo, SessionRepo, WeaponRepo

HISTORY_LIMIT: Final = 1000  # sessions read for statistics (years of training); prompts take fewer


@dataclass(frozen=True, slots=True)
class Records:
    """One user's records as a job needs them, read in one transaction."""

    profile: Profile
    weapons: dict[int, Weapon]
    history: list[ShootingSession]

    def today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.profile.timezone)).date()


async def read_records(db: Database, user_id: int, **history: Any) -> Records:
    """The profile, every weapon (retired ones too: history names them) and the newest
    :data:`HISTORY_LIMIT` sessions (``history``: narrower, as ``SessionRepo.history`` takes)."""
    async with db.transaction(read_only=True) as session:
        profile = await ProfileRepo(session, user_id).get()
        weapons = await WeaponRepo(session, user_id).list_weapons(include_retired=True)
        sessions = await SessionRepo(session, user_id).history(limit=HISTORY_LIMIT, **history)
    return Records(profile, {w.id: w for w in weapons}, sessions)


def job_user(job: Job) -> int:
    """The user a job works for (a job of a user's kind always has one)."""
    if job.user_id is None:
        msg = f"job {job.id} ({job.kind}) has no user"
        raise ValueError(msg)
    return job.user_id
