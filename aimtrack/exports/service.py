"""The register export as the chat, the command line and the web page ask for it.

:func:`export_register` reads one user's records in one read-only transaction (through that
user's repositories, so nothing of another user can get in), builds the pure
:class:`~aimtrack.core.register.Register`, and renders it to CSV or PDF in a worker thread, so a
long PDF never holds up the event loop the bot and the web page share.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from aimtrack.core.errors import InvalidInput, NotFound
from aimtrack.core.licence import licence_window
from aimtrack.core.register import Register, build_register, history_start, local_today
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ProfileRepo, SessionRepo, WeaponRepo

EARLIEST: Final = date(1900, 1, 1)
LATEST: Final = date(2199, 12, 31)
MAX_WEAPONS: Final = 100  # a selection longer than that is not a selection of one's own weapons


class NamedPeriod(StrEnum):
    """The periods the chat and the web page offer by name."""

    LAST_12_MONTHS = "last12"  # the rolling window the licence counts
    THIS_YEAR = "this_year"
    LAST_YEAR = "last_year"

    def dates(self, today: date) -> tuple[date, date]:
        """First and last day (both inclusive) of this period, seen from ``today``."""
        if self is NamedPeriod.LAST_12_MONTHS:
            return licence_window(today)
        year = today.year if self is NamedPeriod.THIS_YEAR else today.year - 1
        return date(year, 1, 1), date(year, 12, 31)


class ExportFormat(StrEnum):
    CSV = "csv"
    PDF = "pdf"


MIME: Final = {ExportFormat.CSV: "text/csv; charset=utf-8", ExportFormat.PDF: "application/pdf"}


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export: a period (both days inclusive), weapons (None: all) and a format."""

    period_from: date
    period_to: date
    format: ExportFormat
    weapon_ids: frozenset[int] | None = None

    def __post_init__(self) -> None:
        for name in ("period_from", "period_to"):
            value = getattr(self, name)
            if not isinstance(value, date) or isinstance(value, datetime):
                raise InvalidInput(name, "must be a date")
            if not EARLIEST <= value <= LATEST:
                raise InvalidInput(name, f"must be between {EARLIEST} and {LATEST}")
        if self.period_to < self.period_from:
            raise InvalidInput("period_to", "is before the start of the period")
        try:
            object.__setattr__(self, "format", ExportFormat(self.format))
        except ValueError:
            raise InvalidInput("format", "must be csv or pdf") from None
        if self.weapon_ids is not None:
            chosen = frozenset(self.weapon_ids)
            if not chosen:
                raise InvalidInput("weapon_ids", "must name at least one weapon")
            if len(chosen) > MAX_WEAPONS:
                raise InvalidInput("weapon_ids", f"must name at most {MAX_WEAPONS} weapons")
            object.__setattr__(self, "weapon_ids", chosen)

    @property
    def file_name(self) -> str:
        return f"aimtrack-register-{self.period_from}_{self.period_to}.{self.format.value}"


@dataclass(frozen=True, slots=True)
class ExportFile:
    name: str
    mime: str
    content: bytes
    rows: int  # register rows in the file
    days: int  # distinct shooting days in the period


async def load_register(
    db: Database, user_id: int, request: ExportRequest, *, now: datetime
) -> Register:
    """The register of one user. A weapon id that is not theirs is :class:`NotFound`."""
    async with db.transaction(read_only=True) as session:
        profile = await ProfileRepo(session, user_id).get()
        weapons = {
            w.id: w for w in await WeaponRepo(session, user_id).list_weapons(include_retired=True)
        }
        for weapon_id in sorted(request.weapon_ids or ()):
            if weapon_id not in weapons:
                raise NotFound("weapon", weapon_id)
        today = local_today(profile, now)
        since = history_start(request.period_from, request.period_to, today)
        history = await SessionRepo(session, user_id).between(since, request.period_to)
    return build_register(
        profile,
        weapons,
        history,
        period_from=request.period_from,
        period_to=request.period_to,
        weapon_ids=request.weapon_ids,
        now=now,
    )


def render(register: Register, format: ExportFormat) -> bytes:  # noqa: A002 -- the request's word
    """The register as CSV or PDF bytes (blocking: call it in a thread)."""
    from aimtrack.exports import register_csv, register_pdf  # noqa: PLC0415 -- fpdf2 is heavy

    if format is ExportFormat.CSV:
        return register_csv.render_csv(register)
    return register_pdf.render_pdf(register)


async def export_register(
    db: Database, user_id: int, request: ExportRequest, *, now: datetime
) -> ExportFile:
    register = await load_register(db, user_id, request, now=now)
    content = await asyncio.to_thread(render, register, request.format)
    return ExportFile(
        name=request.file_name,
        mime=MIME[request.format],
        content=content,
        rows=register.summary.rows,
        days=register.summary.days,
    )
