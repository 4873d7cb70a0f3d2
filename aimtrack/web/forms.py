"""The export form, read into an :class:`~aimtrack.exports.service.ExportRequest`. Pure.

A form that cannot be read raises :class:`FormError` with a text key of :mod:`pages` (and its
values), which the page shows with HTTP 400. Whether the weapons are the user's own is not
decided here: the export itself refuses another user's weapon (HTTP 403).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from aimtrack.core.errors import InvalidInput
from aimtrack.exports.service import EARLIEST, LATEST, ExportFormat, ExportRequest, NamedPeriod

MAX_YEARS: Final = 50
PERIODS: Final = (*NamedPeriod, "custom")
_MAX_ID_DIGITS: Final = 10

Fields = Mapping[str, Sequence[str]]


class FormError(Exception):
    """The form cannot be exported; ``key`` names the text that says why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def read_export_form(fields: Fields, *, today: date) -> ExportRequest:
    period_from, period_to = _period(fields, today)
    try:
        export_format = ExportFormat(_one(fields, "format"))
    except ValueError:
        raise FormError("form.format") from None
    weapon_ids: frozenset[int] | None = None
    if _one(fields, "weapons") == "some":
        weapon_ids = frozenset(_weapon_id(raw) for raw in fields.get("weapon", ()))
        if not weapon_ids:
            raise FormError("form.no_weapons")
    try:
        return ExportRequest(period_from, period_to, export_format, weapon_ids)
    except InvalidInput as error:
        if error.field == "weapon_ids":
            raise FormError("form.too_many_weapons") from None
        raise FormError("form.range", earliest=EARLIEST, latest=LATEST) from None


def _period(fields: Fields, today: date) -> tuple[date, date]:
    period = _one(fields, "period")
    if period in set(NamedPeriod):
        return NamedPeriod(period).dates(today)
    if period != "custom":
        raise FormError("form.period")
    start, end = _date(fields, "from"), _date(fields, "to")
    if end < start:
        raise FormError("form.order")
    if end > _years_later(start, MAX_YEARS):
        raise FormError("form.span", years=MAX_YEARS)
    return start, end


def _one(fields: Fields, name: str) -> str:
    values = fields.get(name, ())
    return values[0].strip() if len(values) == 1 else ""


def _date(fields: Fields, name: str) -> date:
    text = _one(fields, name)
    # YYYY-MM-DD only, as a date input sends it (fromisoformat also takes "20261201").
    if len(text) != len("2026-12-01"):
        raise FormError(f"form.date.{name}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FormError(f"form.date.{name}") from None


def _weapon_id(raw: str) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdecimal() and len(text) <= _MAX_ID_DIGITS):
        raise FormError("form.weapon")
    return int(text)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
