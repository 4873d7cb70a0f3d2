"""The licence register report: one user's log over a period, as the CSV and PDF show it. Pure.

Data in (profile, weapons, saved sessions), report out (:class:`Register`): one row per session
entry of the selected weapons, and a summary that serves the Dutch licence (WM-4) duties of
:mod:`aimtrack.core.licence`.

What the summary counts, and over what:

- **Licence days**: distinct shooting days in the rolling 12 months that end on the period's
  last day — or today, when the period reaches into the future (a day not yet shot cannot
  count). The duty is the shooter's as a whole, so every weapon counts, whatever the selection.
- **Per weapon**: days and shots of each selected weapon within the period.
- **Competitions**: per calendar year that the period touches, the distinct match days
  (KNSA ranking matches and club matches, every weapon) *within the period*; a year the period
  only partly covers says which part (``CompetitionYear.first``/``last``).
- **Licensed weapons without use**: on the licence, not retired and already bought by the end
  of the period, with no entry at all in the period (any selection).
- **Longest gap**: the most days between two consecutive shooting days in the period.

A session's day is its ``occurred_on``: the shooter's local calendar date, never a UTC date
(ADR 0004). Start times are shown in the shooter's time zone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from aimtrack.core.licence import (
    REQUIRED_CLUB,
    REQUIRED_KNSA,
    LicenceProgress,
    licence_progress,
    licence_window,
    match_days,
)
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

_Selected = Callable[[Entry], bool]


@dataclass(frozen=True, slots=True)
class RegisterHeader:
    name: str
    knsa_number: str | None
    club: str | None  # the shooter's own club (the profile's)
    licence_number: str | None
    licence_expiry: date | None
    period_from: date
    period_to: date
    generated_at: datetime  # in the shooter's time zone
    weapons: tuple[str, ...] | None  # the selected weapons' names; None: all weapons
    language: Language


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One session entry; a saved session without entries is one row without a weapon, so
    every day the summary counts stands in the table."""

    day: date
    start: time | None  # local start time of the session
    club: str | None  # where it was shot (the session's club or range)
    location: str | None
    discipline: str | None
    weapon: str | None
    weapon_type: WeaponType | None
    caliber: str | None  # the entry's caliber, else the weapon's
    serial_number: str | None
    distance_m: int | None
    shots: int | None
    ammunition: str | None  # the entry's, else the session's brand
    score: Decimal | None
    competition: CompetitionType


@dataclass(frozen=True, slots=True)
class WeaponUse:
    weapon_id: int
    name: str
    weapon_type: WeaponType
    caliber: str | None
    serial_number: str | None
    days: int  # distinct days in the period with at least one entry of this weapon
    shots: int


@dataclass(frozen=True, slots=True)
class CompetitionYear:
    year: int
    first: date  # the part of the year the period covers
    last: date
    knsa: int  # distinct KNSA ranking match days
    club: int  # distinct club match days
    required_knsa: int = REQUIRED_KNSA
    required_club: int = REQUIRED_CLUB

    @property
    def whole_year(self) -> bool:
        return self.first == date(self.year, 1, 1) and self.last == date(self.year, 12, 31)

    @property
    def met(self) -> bool:
        """Either duty suffices: 3 KNSA ranking matches *or* 5 club matches."""
        return self.knsa >= self.required_knsa or self.club >= self.required_club


@dataclass(frozen=True, slots=True)
class Gap:
    after: date  # the shooting day before the gap
    before: date  # the next shooting day

    @property
    def days(self) -> int:
        return (self.before - self.after).days


@dataclass(frozen=True, slots=True)
class UnusedWeapon:
    name: str
    weapon_type: WeaponType
    caliber: str | None
    serial_number: str | None


@dataclass(frozen=True, slots=True)
class RegisterSummary:
    licence: LicenceProgress
    days: int  # distinct shooting days in the period (every weapon)
    sessions: int  # saved sessions in the period (every weapon)
    rows: int
    shots: int  # of the selected weapons in the period
    per_weapon: tuple[WeaponUse, ...]
    competitions: tuple[CompetitionYear, ...]
    unused_weapons: tuple[UnusedWeapon, ...]
    longest_gap: Gap | None


@dataclass(frozen=True, slots=True)
class Register:
    header: RegisterHeader
    rows: tuple[RegisterRow, ...]
    summary: RegisterSummary


def history_start(period_from: date, period_to: date, today: date) -> date:
    """The first day of history the register needs: the period's, or the licence window's
    when that reaches further back."""
    window_start, _ = licence_window(min(period_to, today))
    return min(period_from, window_start)


def local_today(profile: Profile, now: datetime) -> date:
    return now.astimezone(ZoneInfo(profile.timezone)).date()


def build_register(
    profile: Profile,
    weapons: Mapping[int, Weapon],
    sessions: Iterable[ShootingSession],
    *,
    period_from: date,
    period_to: date,
    weapon_ids: frozenset[int] | None,
    now: datetime,
) -> Register:
    """The register of ``period_from..period_to`` (inclusive) for the weapons ``weapon_ids``
    (None: all). ``weapons`` holds every weapon of the user, retired ones too; ``sessions``
    must reach back to :func:`history_start` for the licence count (drafts are skipped)."""
    if period_from > period_to:
        msg = "the period ends before it starts"
        raise ValueError(msg)
    zone = ZoneInfo(profile.timezone)
    today = now.astimezone(zone).date()
    saved = sorted(
        (s for s in sessions if s.status is SessionStatus.SAVED),
        key=lambda s: (s.occurred_on, s.started_at is None, s.started_at or now, s.id),
    )
    in_period = [s for s in saved if period_from <= s.occurred_on <= period_to]

    def selected(entry: Entry) -> bool:
        return weapon_ids is None or entry.weapon_id in weapon_ids

    rows = tuple(
        row
        for shot in in_period
        for row in _rows(shot, weapons, zone, selected, everything=weapon_ids is None)
    )
    days = sorted({s.occurred_on for s in in_period})
    header = RegisterHeader(
        name=profile.display_name,
        knsa_number=profile.knsa_number,
        club=profile.club,
        licence_number=profile.licence_number,
        licence_expiry=profile.licence_expiry,
        period_from=period_from,
        period_to=period_to,
        generated_at=now.astimezone(zone),
        weapons=None
        if weapon_ids is None
        else tuple(sorted((weapons[i].name for i in weapon_ids if i in weapons), key=str.casefold)),
        language=profile.language,
    )
    summary = RegisterSummary(
        licence=licence_progress(saved, today=min(period_to, today)),
        days=len(days),
        sessions=len(in_period),
        rows=len(rows),
        shots=sum(e.shots for s in in_period for e in s.entries if selected(e)),
        per_weapon=_per_weapon(in_period, weapons, selected),
        competitions=_competitions(in_period, period_from, period_to),
        unused_weapons=_unused(in_period, weapons.values(), period_to),
        longest_gap=_longest_gap(days),
    )
    return Register(header=header, rows=rows, summary=summary)


def _rows(
    shot: ShootingSession,
    weapons: Mapping[int, Weapon],
    zone: ZoneInfo,
    selected: _Selected,
    *,
    everything: bool,
) -> list[RegisterRow]:
    start = (
        None
        if shot.started_at is None
        else shot.started_at.astimezone(zone).time().replace(second=0, microsecond=0)
    )
    common = {
        "day": shot.occurred_on,
        "start": start,
        "club": shot.club,
        "location": shot.location,
    }
    if not shot.entries:
        if not everything:
            return []
        return [
            RegisterRow(
                **common,  # type: ignore[arg-type]
                discipline=None,
                weapon=None,
                weapon_type=None,
                caliber=None,
                serial_number=None,
                distance_m=None,
                shots=None,
                ammunition=shot.ammunition_brand,
                score=None,
                competition=CompetitionType.NONE,
            )
        ]
    rows = []
    for entry in shot.entries:
        if not selected(entry):
            continue
        weapon = weapons.get(entry.weapon_id)
        rows.append(
            RegisterRow(
                **common,  # type: ignore[arg-type]
                discipline=entry.discipline,
                weapon=weapon.name if weapon else None,
                weapon_type=weapon.weapon_type if weapon else None,
                caliber=entry.caliber or (weapon.caliber if weapon else None),
                serial_number=weapon.serial_number if weapon else None,
                distance_m=entry.distance_m,
                shots=entry.shots,
                ammunition=entry.ammunition or shot.ammunition_brand,
                score=entry.score,
                competition=entry.competition,
            )
        )
    return rows


def _per_weapon(
    sessions: list[ShootingSession], weapons: Mapping[int, Weapon], selected: _Selected
) -> tuple[WeaponUse, ...]:
    days: dict[int, set[date]] = {}
    shots: dict[int, int] = {}
    for shot in sessions:
        for entry in shot.entries:
            if not selected(entry):
                continue
            days.setdefault(entry.weapon_id, set()).add(shot.occurred_on)
            shots[entry.weapon_id] = shots.get(entry.weapon_id, 0) + entry.shots
    uses = [
        WeaponUse(
            weapon_id=weapon_id,
            name=weapons[weapon_id].name,
            weapon_type=weapons[weapon_id].weapon_type,
            caliber=weapons[weapon_id].caliber,
            serial_number=weapons[weapon_id].serial_number,
            days=len(used_on),
            shots=shots[weapon_id],
        )
        for weapon_id, used_on in days.items()
        if weapon_id in weapons
    ]
    return tuple(sorted(uses, key=lambda u: (-u.days, -u.shots, u.name.casefold())))


def _competitions(
    sessions: list[ShootingSession], period_from: date, period_to: date
) -> tuple[CompetitionYear, ...]:
    years = []
    for year in range(period_from.year, period_to.year + 1):
        first = max(period_from, date(year, 1, 1))
        last = min(period_to, date(year, 12, 31))
        this_year = [s for s in sessions if first <= s.occurred_on <= last]
        years.append(
            CompetitionYear(
                year=year,
                first=first,
                last=last,
                knsa=match_days(this_year, CompetitionType.KNSA),
                club=match_days(this_year, CompetitionType.CLUB),
            )
        )
    return tuple(years)


def _unused(
    sessions: list[ShootingSession], weapons: Iterable[Weapon], period_to: date
) -> tuple[UnusedWeapon, ...]:
    used = {entry.weapon_id for shot in sessions for entry in shot.entries}
    unused = [
        UnusedWeapon(w.name, w.weapon_type, w.caliber, w.serial_number)
        for w in weapons
        if w.licensed
        and w.id not in used
        and (w.retired_on is None or w.retired_on > period_to)
        and (w.purchase_date is None or w.purchase_date <= period_to)
    ]
    return tuple(sorted(unused, key=lambda u: u.name.casefold()))


def _longest_gap(days: list[date]) -> Gap | None:
    gaps = [Gap(after, before) for after, before in itertools.pairwise(days)]
    return max(gaps, key=lambda g: g.days, default=None)  # the first of equally long gaps
