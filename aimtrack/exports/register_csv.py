"""The register as CSV that Dutch Excel opens as it is: UTF-8 with BOM, ``;`` between cells,
CRLF line ends, decimal comma. Pure: a Register in, bytes out.

The first line holds the column names and every following line one register row, so the
table sorts and filters as one block. One empty line below it, the header facts and the summary
follow as ``label;value[;value…]`` lines.

A cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) gets a leading ``'``, which Excel and LibreOffice show as plain text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Final

from aimtrack.core.model import Language
from aimtrack.core.register import Register, RegisterRow, RegisterSummary
from aimtrack.exports.texts import (
    competition,
    show_date,
    show_datetime,
    show_score,
    show_time,
    text,
    weapon_type,
)

COLUMNS: Final = (
    "col.date",
    "col.start",
    "col.club",
    "col.location",
    "col.discipline",
    "col.weapon",
    "col.type",
    "col.caliber",
    "col.serial",
    "col.distance",
    "col.shots",
    "col.ammunition",
    "col.score",
    "col.competition",
    "col.initials",
)
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")

Line = Sequence[str | int]


def inert(cell: str) -> str:
    """``cell`` as a spreadsheet shows it without running it (see the module docstring)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def render_csv(register: Register) -> bytes:
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
    writer = csv.writer(stream, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    language = register.header.language
    for line in _lines(register, language):
        writer.writerow([inert(cell) if isinstance(cell, str) else cell for cell in line])
    stream.flush()
    content = buffer.getvalue()
    stream.close()
    return content


def _lines(register: Register, language: Language) -> Iterator[Line]:
    yield [text(key, language) for key in COLUMNS]
    for row in register.rows:
        yield _row(row, language)
    yield []
    yield from _facts(register, language)
    yield from _summary(register.summary, language)
    yield [text("note", language), text("disclaimer", language)]


def _row(row: RegisterRow, language: Language) -> Line:
    return [
        show_date(row.day, language),
        "" if row.start is None else show_time(row.start),
        row.club or "",
        row.location or "",
        row.discipline or "",
        row.weapon or "",
        "" if row.weapon_type is None else weapon_type(row.weapon_type, language),
        row.caliber or "",
        row.serial_number or "",
        "" if row.distance_m is None else row.distance_m,
        "" if row.shots is None else row.shots,
        row.ammunition or "",
        "" if row.score is None else show_score(row.score, comma=True),
        competition(row.competition, language),
        "",  # the club's initials, on paper
    ]


def _facts(register: Register, language: Language) -> Iterator[Line]:
    header = register.header
    expiry = header.licence_expiry
    yield [text("name", language), header.name]
    yield [text("knsa_number", language), header.knsa_number or ""]
    yield [text("own_club", language), header.club or ""]
    yield [text("licence_number", language), header.licence_number or ""]
    yield [text("licence_expiry", language), "" if expiry is None else show_date(expiry, language)]
    yield [
        text("period", language),
        show_date(header.period_from, language),
        show_date(header.period_to, language),
    ]
    yield [text("generated_at", language), show_datetime(header.generated_at, language)]
    yield [text("weapons", language), *(header.weapons or [text("all_weapons", language)])]


def _summary(summary: RegisterSummary, language: Language) -> Iterator[Line]:
    licence = summary.licence
    status = (
        text("licence_met", language)
        if licence.days_met
        else text("licence_short", language, short=licence.days_short)
    )
    first, last = licence.window_start, licence.window_end
    yield [
        text(
            "licence_days",
            language,
            first=show_date(first, language),
            last=show_date(last, language),
        ),
        licence.days,
        text("of_required", language, required=licence.required_days),
        status,
    ]
    yield [text("days_label", language), summary.days]
    yield [text("sessions_label", language), summary.sessions]
    yield [text("rows_label", language), summary.rows]
    yield [text("shots_label", language), summary.shots]
    yield [
        text("per_weapon", language),
        text("col.type", language),
        text("col.caliber", language),
        text("col.serial", language),
        text("col.days", language),
        text("col.shots", language),
    ]
    for use in summary.per_weapon:
        yield [
            use.name,
            weapon_type(use.weapon_type, language),
            use.caliber or "",
            use.serial_number or "",
            use.days,
            use.shots,
        ]
    yield [
        text("competitions_csv", language),
        text("col.covered", language),
        text("col.knsa", language),
        text("col.club_matches", language),
        text("col.status", language),
    ]
    for year in summary.competitions:
        covered = (
            text("whole_year", language)
            if year.whole_year
            else text(
                "part_year",
                language,
                first=show_date(year.first, language),
                last=show_date(year.last, language),
            )
        )
        if year.met:
            met = text("year_met", language)
        else:
            met = text("year_not_met" if year.whole_year else "year_not_met_part", language)
        yield [str(year.year), covered, year.knsa, year.club, met]
    yield [
        text("unused", language),
        *([w.name for w in summary.unused_weapons] or [text("unused_none", language)]),
    ]
    gap = summary.longest_gap
    if gap is None:
        yield [text("gap", language), text("gap_none", language)]
    else:
        yield [
            text("gap_csv", language),
            gap.days,
            show_date(gap.after, language),
            show_date(gap.before, language),
        ]
