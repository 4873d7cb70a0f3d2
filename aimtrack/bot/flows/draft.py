"""A session being logged, kept as JSON in the conversation state until it is saved.

The draft holds the date, club, notes, entries and the photos already stored on disk. Saving
turns it into a session (or completes the draft session a "photo now" started, or updates a
session being edited) with its entries and attachments, in the turn's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from aimtrack.bot.flow import Context, StoredUpload
from aimtrack.core import formatting, limits
from aimtrack.core.model import (
    AttachmentOwner,
    AttachmentSpec,
    EntrySpec,
    SessionSpec,
    SessionStatus,
    ShootingSession,
    Weapon,
)

MAX_ENTRIES = 20
MAX_PHOTOS = 20


@dataclass(slots=True)
class DraftEntry:
    weapon_id: int
    distance_m: int
    shots: int
    score: Decimal | None = None
    entry_id: int | None = None  # set when editing a saved entry
    extra: dict[str, Any] = field(default_factory=dict)  # fields the chat does not edit

    def to_json(self) -> dict[str, Any]:
        return {
            "w": self.weapon_id,
            "d": self.distance_m,
            "n": self.shots,
            "s": None if self.score is None else str(self.score),
            "id": self.entry_id,
            "x": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DraftEntry:
        score = data.get("s")
        return cls(
            weapon_id=int(data["w"]),
            distance_m=int(data["d"]),
            shots=int(data["n"]),
            score=None if score is None else Decimal(score),
            entry_id=data.get("id"),
            extra=dict(data.get("x") or {}),
        )

    def spec(self) -> EntrySpec:
        return EntrySpec(
            weapon_id=self.weapon_id,
            distance_m=self.distance_m,
            shots=self.shots,
            score=self.score,
            **self.extra,
        )


def entries(data: dict[str, Any]) -> list[DraftEntry]:
    return [DraftEntry.from_json(item) for item in data.get("entries", [])]


def set_entries(data: dict[str, Any], items: list[DraftEntry]) -> None:
    data["entries"] = [item.to_json() for item in items]


def occurred_on(data: dict[str, Any], ctx: Context) -> date:
    value = data.get("on")
    return date.fromisoformat(value) if isinstance(value, str) else ctx.today()


def add_photo(data: dict[str, Any], upload: StoredUpload) -> bool:
    photos = data.setdefault("photos", [])
    if len(photos) >= MAX_PHOTOS:
        return False
    photos.append(
        {
            "path": upload.path,
            "mime": upload.checked.mime,
            "size": upload.checked.size_bytes,
            "sha": upload.checked.sha256,
            "name": upload.file_name,
        }
    )
    return True


def attachment_spec(session_id: int, upload: StoredUpload) -> AttachmentSpec:
    return AttachmentSpec(
        owner=AttachmentOwner.SESSION,
        owner_id=session_id,
        path=upload.path,
        mime=upload.checked.mime,
        size_bytes=upload.checked.size_bytes,
        sha256=upload.checked.sha256,
        original_name=upload.file_name,
    )


def photo_paths(data: dict[str, Any]) -> list[str]:
    return [photo["path"] for photo in data.get("photos", [])]


def from_session(session: ShootingSession) -> dict[str, Any]:
    """A draft for editing a saved session (or completing a draft one)."""
    data: dict[str, Any] = {
        "on": session.occurred_on.isoformat(),
        "club": session.club,
        "notes": session.notes,
        "sid": session.id,
    }
    set_entries(
        data,
        [
            DraftEntry(
                weapon_id=entry.weapon_id,
                distance_m=entry.distance_m,
                shots=entry.shots,
                score=entry.score,
                entry_id=entry.id,
                extra={
                    "caliber": entry.caliber,
                    "ammunition": entry.ammunition,
                    "discipline": entry.discipline,
                    "competition": entry.competition.value,
                    "grouping_note": entry.grouping_note,
                    "notes": entry.notes,
                },
            )
            for entry in session.entries
        ],
    )
    return data


async def save(ctx: Context, data: dict[str, Any]) -> tuple[ShootingSession, list[str]]:
    """Store the draft; returns the saved session and files to delete after the commit."""
    on = occurred_on(data, ctx)
    items = entries(data)
    session_id = data.get("sid")
    remove: list[str] = []
    if isinstance(session_id, int):
        old = await ctx.sessions.get(session_id)
        spec = SessionSpec(
            occurred_on=on,
            club=data.get("club"),
            location=old.location,
            started_at=old.started_at,
            ended_at=old.ended_at,
            weather=old.weather,
            ammunition_brand=old.ammunition_brand,
            notes=data.get("notes"),
            reflection=old.reflection,
            status=SessionStatus.SAVED,
        )
        await ctx.sessions.update(session_id, spec)
        kept = {item.entry_id for item in items if item.entry_id is not None}
        for entry in old.entries:
            if entry.id not in kept:
                remove += await ctx.sessions.delete_entry(entry.id)
        for item in items:
            if item.entry_id is None:
                await ctx.sessions.add_entry(session_id, item.spec())
            else:
                await ctx.sessions.update_entry(item.entry_id, item.spec())
    else:
        spec = SessionSpec(occurred_on=on, club=data.get("club"), notes=data.get("notes"))
        session_id = (await ctx.sessions.create(spec, [item.spec() for item in items])).id
    for photo in data.get("photos", []):
        await ctx.attachments.add(
            AttachmentSpec(
                owner=AttachmentOwner.SESSION,
                owner_id=session_id,
                path=photo["path"],
                mime=photo["mime"],
                size_bytes=photo["size"],
                sha256=photo["sha"],
                original_name=photo.get("name"),
            )
        )
    return await ctx.sessions.get(session_id), remove


async def entry_lines(
    ctx: Context, data: dict[str, Any], weapons: dict[int, Weapon] | None = None
) -> list[str]:
    """A bullet line per entry of a draft: "• CZ 75 — 25 m, 50 schoten, 431" (``weapons``:
    the user's, when the turn has read them already)."""
    if weapons is None:
        weapons = await ctx.weapon_index()
    return [f"• {entry_line(ctx, item, weapons)}" for item in entries(data)]


def entry_line(ctx: Context, item: DraftEntry, weapons: dict[int, Weapon]) -> str:
    weapon = weapons.get(item.weapon_id)
    name = weapon.name if weapon else "?"
    score = "" if item.score is None else formatting.score_in(item.score, ctx.profile.language)
    text = ctx.t("session.entry_line", weapon=name, distance=item.distance_m, shots=item.shots)
    return f"{text}, {score}" if score else text


def parse_shots_and_score(text: str) -> tuple[int, Decimal | None] | str:
    """``"50 431"``, ``"50/431,5"`` or ``"50"`` → (shots, score); else an error text key."""
    parts = text.replace("/", " ").replace(",", ".").split()
    if not 1 <= len(parts) <= 2 or not all(_number(part) for part in parts):
        return "session.bad_shots"
    if not parts[0].isdecimal() or len(parts[0]) > 6:
        return "session.bad_shots"
    shots = int(parts[0])
    if not 1 <= shots <= limits.MAX_SHOTS:
        return "session.shots_range"
    score = Decimal(parts[1]) if len(parts) == 2 else None
    if score is not None and (
        len(parts[1]) > 10
        or score != score.quantize(Decimal("0.1"))
        or score > Decimal(str(limits.MAX_SCORE_PER_SHOT)) * shots
    ):
        return "session.score_range"
    return shots, score


def parse_distance(text: str) -> int | str:
    cleaned = text.lower().strip().removesuffix("meter").removesuffix("m").strip()
    if not cleaned.isdecimal() or len(cleaned) > 6:
        return "session.bad_distance"
    distance = int(cleaned)
    if not limits.MIN_DISTANCE_M <= distance <= limits.MAX_DISTANCE_M:
        return "session.distance_range"
    return distance


def _number(part: str) -> bool:
    head, _, tail = part.partition(".")
    return head.isdecimal() and (tail == "" or tail.isdecimal()) and part.isascii()
