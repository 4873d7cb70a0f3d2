"""Hand-built registers for the CSV and PDF export tests, built by the real
:func:`~aimtrack.core.register.build_register` from hand-made profile, weapons and sessions."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aimtrack.core.model import (
    CompetitionType,
    Entry,
    Language,
    Profile,
    SessionStatus,
    ShootingSession,
    Weapon,
    WeaponType,
)
from aimtrack.core.register import Register, build_register
from tests.helpers.factories import entry, session, weapon

NOW = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 12:00 in Amsterdam
ZONE = ZoneInfo("Europe/Amsterdam")
PERIOD = (date(2026, 1, 1), date(2026, 11, 30))
CZ, WALTHER, RUGER, OLD = 1, 2, 3, 4


def profile(language: Language = Language.NL, **changes: object) -> Profile:
    base = Profile(
        user_id=1,
        display_name="Anouk de Vries",
        language=language,
        timezone="Europe/Amsterdam",
        knsa_number="KNSA-123456",
        club="SV Ons Genoegen",
        licence_number="WM4-2026-0042",
        licence_expiry=date(2027, 3, 1),
        is_allowed=True,
        is_admin=False,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def weapons(**names: str) -> dict[int, Weapon]:
    """Four weapons: two used, one licensed and unused, one retired; ``names`` renames them
    (``cz=``, ``walther=``) for the tests that put odd text in a weapon name."""
    cz = weapon(CZ, names.get("cz", "CZ 75 SP-01"), serial_number=names.get("cz_serial", "B123456"))
    walther = dataclasses.replace(
        weapon(WALTHER, names.get("walther", "Walther GSP"), serial_number="W-778899"),
        caliber=".22 LR",
    )
    ruger = dataclasses.replace(
        weapon(RUGER, "Ruger 10/22", serial_number="R1022-77"),
        weapon_type=WeaponType.RIFLE,
        caliber=".22 LR",
    )
    old = weapon(OLD, "Glock 17", retired_on=date(2025, 6, 1), serial_number="G17-1")
    return {w.id: w for w in (cz, walther, ruger, old)}


def detailed(
    weapon_id: int,
    shots: int,
    score: str | None = None,
    *,
    distance_m: int = 25,
    discipline: str | None = None,
    ammunition: str | None = None,
    competition: CompetitionType = CompetitionType.NONE,
    position: int = 0,
) -> Entry:
    return dataclasses.replace(
        entry(weapon_id, distance_m, shots, score, competition=competition, position=position),
        discipline=discipline,
        ammunition=ammunition,
    )


def at(
    session_id: int,
    day: date,
    *entries: Entry,
    club: str | None = None,
    location: str | None = None,
    start: time | None = None,
    status: SessionStatus = SessionStatus.SAVED,
) -> ShootingSession:
    started = None if start is None else datetime.combine(day, start, ZONE).astimezone(UTC)
    return dataclasses.replace(
        session(session_id, day, *entries, club=club, status=status),
        location=location,
        started_at=started,
    )


def sessions() -> list[ShootingSession]:
    """Four saved sessions in 2026 (one without entries), one in December 2025 (only in the
    licence window) and a draft (never in the register)."""
    return [
        at(
            1,
            date(2026, 1, 10),
            detailed(
                CZ,
                50,
                "431.5",
                discipline="Precisie",
                ammunition="Geco 124gr",
                competition=CompetitionType.CLUB,
            ),
            detailed(WALTHER, 30, "270", competition=CompetitionType.KNSA, position=1),
            club="SV Ons Genoegen",
            location="Utrecht",
            start=time(9, 30),
        ),
        at(
            2,
            date(2026, 3, 15),
            detailed(CZ, 60, distance_m=50, ammunition="Sellier & Bellot"),
            club="Schietsportvereniging Één & Twee — 't Zuiden van Nederland",
            location="Den Bosch",
            start=time(19, 5),
        ),
        at(3, date(2026, 6, 1), club="SV Ons Genoegen"),
        at(
            4,
            date(2026, 11, 20),
            detailed(WALTHER, 60, "540.5", ammunition="Fiocchi €0,25", discipline="Sport"),
            club="SV Ons Genoegen",
            location="Utrecht",
            start=time(20, 0),
        ),
        at(5, date(2025, 12, 15), detailed(CZ, 20), club="Elders"),
        at(6, date(2026, 11, 25), detailed(CZ, 99), status=SessionStatus.DRAFT),
    ]


def small_register(
    language: Language = Language.NL,
    *,
    history: Iterable[ShootingSession] | None = None,
    arsenal: dict[int, Weapon] | None = None,
    weapon_ids: frozenset[int] | None = None,
) -> Register:
    return build_register(
        profile(language),
        weapons() if arsenal is None else arsenal,
        sessions() if history is None else list(history),
        period_from=PERIOD[0],
        period_to=PERIOD[1],
        weapon_ids=weapon_ids,
        now=NOW,
    )


def long_register(days: int, language: Language = Language.NL) -> Register:
    """One session a day from 1 January 2024 with two entries: ``2 * days`` rows."""
    start = date(2024, 1, 1)
    history = [
        at(
            number + 1,
            start + timedelta(days=number),
            detailed(CZ, 50, f"{400 + number % 90}.5", discipline="Precisie"),
            detailed(WALTHER, 30, competition=CompetitionType.CLUB, position=1),
            club=f"Baan {number % 7}",
            location="Utrecht",
            start=time(9, number % 60),
        )
        for number in range(days)
    ]
    return build_register(
        profile(language),
        weapons(),
        history,
        period_from=start,
        period_to=start + timedelta(days=days - 1),
        weapon_ids=None,
        now=NOW,
    )
