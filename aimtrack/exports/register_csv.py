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

from aimtrack.core import formatting
from aimtrack.core.i18n import Translator
from aimtrack.core.register import Register, RegisterRow, RegisterSummary
from aimtrack.exports.texts import competition, translator, weapon_type

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
    for line in _lines(register, translator(register.header.language)):
        writer.writerow([inert(cell) if isinstance(cell, str) else cell for cell in line])
    stream.flush()
    content = buffer.getvalue()
    stream.close()
    return content


def _lines(register: Register, t: Translator) -> Iterator[Line]:
    yield [t(key) for key in COLUMNS]
    for row in register.rows:
        yield _row(row, t)
    yield []
    yield from _facts(register, t)
    yield from _summary(register.summary, t)
    yield [t("note"), t("disclaimer")]


def _row(row: RegisterRow, t: Translator) -> Line:
    return [
        formatting.register_day(row.day, t.language),
        "" if row.start is None else formatting.clock(row.start),
        row.club or "",
        row.location or "",
        row.discipline or "",
        row.weapon or "",
        "" if row.weapon_type is None else weapon_type(t, row.weapon_type),
        row.caliber or "",
        row.serial_number or "",
        "" if row.distance_m is None else row.distance_m,
        "" if row.shots is None else row.shots,
        row.ammunition or "",
        "" if row.score is None else formatting.score(row.score, comma=True),
        competition(t, row.competition),
        "",  # the club's initials, on paper
    ]


def _facts(register: Register, t: Translator) -> Iterator[Line]:
    header = register.header
    expiry = header.licence_expiry
    yield [t("name"), header.name]
    yield [t("knsa_number"), header.knsa_number or ""]
    yield [t("own_club"), header.club or ""]
    yield [t("licence_number"), header.licence_number or ""]
    yield [
        t("licence_expiry"),
        "" if expiry is None else formatting.register_day(expiry, t.language),
    ]
    yield [
        t("period"),
        formatting.register_day(header.period_from, t.language),
        formatting.register_day(header.period_to, t.language),
    ]
    yield [t("generated_at"), formatting.register_moment(header.generated_at, t.language)]
    yield [t("weapons"), *(header.weapons or [t("all_weapons")])]


def _summary(summary: RegisterSummary, t: Translator) -> Iterator[Line]:
    licence = summary.licence
    status = t("licence_met") if licence.days_met else t("licence_short", short=licence.days_short)
    first, last = licence.window_start, licence.window_end
    yield [
        t(
            "licence_days",
            first=formatting.register_day(first, t.language),
            last=formatting.register_day(last, t.language),
        ),
        licence.days,
        t("of_required", required=licence.required_days),
        status,
    ]
    yield [t("days_label"), summary.days]
    yield [t("sessions_label"), summary.sessions]
    yield [t("rows_label"), summary.rows]
    yield [t("shots_label"), summary.shots]
    yield [
        t("per_weapon"),
        t("col.type"),
        t("col.caliber"),
        t("col.serial"),
        t("col.days"),
        t("col.shots"),
    ]
    for use in summary.per_weapon:
        yield [
            use.name,
            weapon_type(t, use.weapon_type),
            use.caliber or "",
            use.serial_number or "",
            use.days,
            use.shots,
        ]
    yield [
        t("competitions_csv"),
        t("col.covered"),
        t("col.knsa"),
        t("col.club_matches"),
        t("col.status"),
    ]
    for year in summary.competitions:
        covered = (
            t("whole_year")
            if year.whole_year
            else t(
                "part_year",
                first=formatting.register_day(year.first, t.language),
                last=formatting.register_day(year.last, t.language),
            )
        )
        if year.met:
            met = t("year_met")
        else:
            met = t("year_not_met" if year.whole_year else "year_not_met_part")
        yield [str(year.year), covered, year.knsa, year.club, met]
    yield [
        t("unused"),
        *([w.name for w in summary.unused_weapons] or [t("unused_none")]),
    ]
    gap = summary.longest_gap
    if gap is None:
        yield [t("gap"), t("gap_none")]
    else:
        yield [
            t("gap_csv"),
            gap.days,
            formatting.register_day(gap.after, t.language),
            formatting.register_day(gap.before, t.language),
        ]
