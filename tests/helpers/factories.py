"""Builders for test data: domain objects by hand for the pure tests (statistics, the fallback,
the quick-entry parser), and whole data sets through the real repositories."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.core.model import (
    AIAudit,
    AIStatus,
    AttachmentOwner,
    AttachmentSpec,
    CompetitionType,
    ConversationState,
    Entry,
    EntrySpec,
    Language,
    MessageRole,
    ProfileSpec,
    ReminderKind,
    SessionSpec,
    SessionStatus,
    ShootingSession,
    Weapon,
    WeaponSpec,
    WeaponType,
)
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import (
    AIRepo,
    AttachmentRepo,
    CoachRepo,
    ConversationRepo,
    ProfileRepo,
    ReminderLog,
    SessionRepo,
    UserDirectory,
    WeaponRepo,
)
from aimtrack.storage.repos.attachments import user_folder
from aimtrack.storage.tables import AttachmentRow, Base

SHA = "a" * 64
STAMP = datetime(2026, 11, 23, 12, tzinfo=UTC)  # created_at/updated_at of hand-built objects
CZ, WALTHER = 1, 2  # the weapon ids hand-built entries point at; entry() defaults to CZ


# --- domain objects by hand -----------------------------------------------------------------


def weapon(
    weapon_id: int,
    name: str,
    *,
    nickname: str | None = None,
    licensed: bool = True,
    retired_on: date | None = None,
    serial_number: str | None = None,
    storage_location: str | None = None,
    notes: str | None = None,
) -> Weapon:
    """A 9 mm pistol; the secrets (serial number, storage, notes) are empty unless given."""
    return Weapon(
        id=weapon_id,
        name=name,
        weapon_type=WeaponType.PISTOL,
        caliber="9mm",
        nickname=nickname,
        serial_number=serial_number,
        storage_location=storage_location,
        notes=notes,
        purchase_date=None,
        licensed=licensed,
        retired_on=retired_on,
        created_at=STAMP,
    )


def entry(
    weapon_id: int = CZ,
    distance_m: int = 25,
    shots: int = 50,
    score: str | None = None,
    *,
    competition: CompetitionType = CompetitionType.NONE,
    position: int = 0,
) -> Entry:
    """One line of a session; ``score`` as a string so the Decimal is exact (``"431.5"``)."""
    return Entry(
        id=0,
        session_id=0,
        position=position,
        weapon_id=weapon_id,
        distance_m=distance_m,
        shots=shots,
        score=None if score is None else Decimal(score),
        caliber=None,
        ammunition=None,
        discipline=None,
        competition=competition,
        grouping_note=None,
        notes=None,
    )


def session(
    session_id: int,
    occurred_on: date,
    *entries: Entry,
    club: str | None = None,
    status: SessionStatus = SessionStatus.SAVED,
) -> ShootingSession:
    """A session holding ``entries``; saved unless ``status`` says otherwise."""
    return ShootingSession(
        id=session_id,
        occurred_on=occurred_on,
        club=club,
        location=None,
        started_at=None,
        ended_at=None,
        weather=None,
        ammunition_brand=None,
        notes=None,
        reflection=None,
        status=status,
        created_at=STAMP,
        updated_at=STAMP,
        entries=tuple(entries),
    )


def weekly(*scores: str | None, weapon_id: int = CZ, distance_m: int = 25) -> list[ShootingSession]:
    """One session a week from 5 Jan 2026, each with one 50-shot entry; ids 1, 2, 3, ... oldest
    first. A None score is an unscored entry."""
    return [
        session(i + 1, date(2026, 1, 5) + timedelta(weeks=i), entry(weapon_id, distance_m, 50, s))
        for i, s in enumerate(scores)
    ]


# --- data sets through the repositories -----------------------------------------------------


def attachment_spec(
    owner: AttachmentOwner, owner_id: int, path: str, *, mime: str = "image/jpeg"
) -> AttachmentSpec:
    """A valid attachment record (the file itself is not written)."""
    return AttachmentSpec(
        owner=owner, owner_id=owner_id, path=path, mime=mime, size_bytes=1234, sha256=SHA
    )


def attachment_row(owner: Seeded, path: str, **columns: object) -> AttachmentRow:
    """A raw attachment row, bypassing validation, for constraint tests."""
    values: dict[str, object] = {"mime": "image/jpeg", "size_bytes": 1, "sha256": SHA}
    values.update(columns)
    return AttachmentRow(user_id=owner.user_id, path=path, **values)


@dataclass(frozen=True)
class Seeded:
    """Ids of one user's full data set; every text carries ``marker``."""

    marker: str
    user_id: int
    weapon_used: int
    weapon_unused: int
    session: int
    entry: int
    attachment_session: int
    attachment_entry: int
    attachment_weapon: int
    thread: int
    chat_id: str


async def seed_user(db: AsyncSession, *, telegram_id: int, marker: str) -> Seeded:
    """A user with one of everything: weapons, a session with an entry, attachments on each
    owner, a reflection, an insight, a coach thread with messages, reminders on record and a
    conversation state."""
    account = await UserDirectory(db).register(
        "telegram", str(telegram_id), display_name=f"{marker} name", allowed=True
    )
    uid = account.user_id
    await ProfileRepo(db, uid).update(
        ProfileSpec(
            display_name=f"{marker} name",
            language=Language.NL,
            knsa_number=f"{marker}-KNSA",
            club=f"{marker} club",
            licence_number=f"{marker}-LIC",
            licence_expiry=date(2027, 3, 1),
        )
    )
    weapons = WeaponRepo(db, uid)
    used = await weapons.add(
        WeaponSpec(
            name=f"{marker} CZ 75",
            weapon_type=WeaponType.PISTOL,
            caliber="9mm",
            serial_number=f"{marker}-SERIAL",
            storage_location=f"{marker} safe",
            notes=f"{marker} notes",
        )
    )
    unused = await weapons.add(
        WeaponSpec(name=f"{marker} Walther LG", weapon_type=WeaponType.AIR_RIFLE)
    )
    session = await SessionRepo(db, uid).create(
        SessionSpec(occurred_on=date(2026, 11, 20), club=f"{marker} club", notes=f"{marker} notes"),
        [
            EntrySpec(
                weapon_id=used.id,
                distance_m=25,
                shots=50,
                score=Decimal("431.5"),
                notes=f"{marker} entry",
                competition=CompetitionType.CLUB,
            )
        ],
    )
    attachments = AttachmentRepo(db, uid)
    ids = []
    for owner, owner_id in (
        (AttachmentOwner.SESSION, session.id),
        (AttachmentOwner.ENTRY, session.entries[0].id),
        (AttachmentOwner.WEAPON, unused.id),
    ):
        spec = attachment_spec(owner, owner_id, f"{user_folder(uid)}{marker}-{owner.value}.jpg")
        attachment = await attachments.add(dataclasses.replace(spec, original_name=f"{marker}.jpg"))
        ids.append(attachment.id)
    ai = AIRepo(db, uid)
    audit = AIAudit(status=AIStatus.SUCCEEDED, provider="stub", model="m")
    await ai.save_reflection(session.id, audit=audit, summary=f"{marker} summary")
    await ai.save_weapon_insight(used.id, audit=audit, trends=f"{marker} trends")
    coach = CoachRepo(db, uid)
    thread = await coach.start_thread(title=f"{marker} question", weapon_id=used.id)
    await coach.add_message(thread.id, role=MessageRole.USER, content=f"{marker} why left?")
    await coach.add_message(thread.id, role=MessageRole.ASSISTANT, content=f"{marker} answer")
    reminded = ReminderLog(db, uid)
    await reminded.record(ReminderKind.LICENCE, f"{marker}-2026-11-20", at=STAMP)
    await reminded.record(ReminderKind.DRAFT, f"{marker}-draft", at=STAMP)
    chat_id = f"chat-{telegram_id}"
    await ConversationRepo(db, uid).save(
        ConversationState(
            transport="telegram", chat_id=chat_id, flow="session", step="shots", draft={"n": marker}
        )
    )
    return Seeded(
        marker=marker,
        user_id=uid,
        weapon_used=used.id,
        weapon_unused=unused.id,
        session=session.id,
        entry=session.entries[0].id,
        attachment_session=ids[0],
        attachment_entry=ids[1],
        attachment_weapon=ids[2],
        thread=thread.id,
        chat_id=chat_id,
    )


async def count_rows(database: Database) -> dict[str, int]:
    """How many rows every table holds: a cheap fingerprint that nothing was lost or added."""
    async with database.transaction(read_only=True) as db:
        return {
            table.name: int(await db.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }
