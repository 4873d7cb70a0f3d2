"""The register as a printable PDF (fpdf2, landscape A4). Pure: a Register in, bytes out.

Page 1 holds the header facts, the disclaimer and the summary; the table of rows follows, with
its column heads on every page, an empty column for the club's initials, and "pagina X van Y"
in every footer. Text is set in the vendored DejaVu Sans Condensed (``fonts/``, free licence in
``fonts/LICENSE.txt``); a character the font cannot draw becomes ``?`` and a cell too long for
its column ends in an ellipsis.

Speed: fpdf2's ``table()`` and ``cell()`` cost tens of microseconds a cell, too slow for a
10-year register (12,000 rows of 15 columns), so rows are drawn with ``text()`` at computed
positions and the grid with one set of lines per page; each distinct cell text is measured and
cut once. Blocking and thread-safe: every call builds its own document.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final, Literal

from fpdf import FPDF

from aimtrack.core import formatting
from aimtrack.core.i18n import Translator
from aimtrack.core.model import CompetitionType
from aimtrack.core.register import Register, RegisterRow, UnusedWeapon
from aimtrack.exports.texts import competition, translator, weapon_type

FONT_DIR: Final = Path(__file__).with_name("fonts")
REGULAR: Final = FONT_DIR / "DejaVuSansCondensed.ttf"
BOLD: Final = FONT_DIR / "DejaVuSansCondensed-Bold.ttf"
FAMILY: Final = "DejaVu"
PAGE_ALIAS: Final = "{nb}"  # fpdf2 puts the page count here when the document is written
ELLIPSIS: Final = "\N{HORIZONTAL ELLIPSIS}"
DASH: Final = "\N{EN DASH}"

MARGIN: Final = 10.0  # mm, left, right and top
BOTTOM: Final = 13.0  # mm kept free for the footer
BODY_PT: Final = 7.0
HEAD_PT: Final = 6.5
ROW_H: Final = 5.0  # mm; room for a club official's initials
HEAD_H: Final = 7.0  # two lines of column head
PAD: Final = 0.9  # mm of air left and right in a cell
LINE_H: Final = 4.6  # summary lines
GRID: Final = 170  # grey of the grid lines
STRIPE: Final = 243  # grey of every other row
HEAD_FILL: Final = 225

Align = Literal["L", "R"]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    width: float  # mm; the table's widths add up to the printable width (277 mm)
    align: Align = "L"


COLUMNS: Final = (
    Column("col.date", 16.5),
    Column("col.start", 12),
    Column("col.club", 28.5),
    Column("col.location", 22.5),
    Column("col.discipline", 20.5),
    Column("col.weapon", 30),
    Column("col.type", 17),
    Column("col.caliber", 16),
    Column("col.serial", 20),
    Column("col.distance", 12.5, "R"),
    Column("col.shots", 12.5, "R"),
    Column("col.ammunition", 20.5),
    Column("col.score", 12, "R"),
    Column("col.competition", 17),
    Column("col.initials", 19.5),
)


@functools.cache
def supported_code_points() -> frozenset[int]:
    """Code points that both vendored fonts can draw (read once per process)."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # noqa: PLC0415

    common: set[int] | None = None
    for path in (REGULAR, BOLD):
        font = TTFont(path, lazy=True)
        try:
            points = set(font.getBestCmap())
        finally:
            font.close()
        common = points if common is None else common & points
    return frozenset(common or ())


def printable(value: str) -> str:
    """``value`` with only what the font can draw: white space becomes a space, invisible format
    characters (joiners, variation selectors) go, anything else the font lacks (emoji, CJK,
    unpaired surrogates) becomes ``?``. The page-count alias is broken up so that user text
    never turns into a number."""
    if not (value.isascii() and value.isprintable()):
        value = formatting.drawable(value, supported_code_points())
    return value.replace(PAGE_ALIAS, "{nb }") if PAGE_ALIAS in value else value


def render_pdf(register: Register) -> bytes:
    document = _RegisterPdf(register)
    document.first_page()
    document.draw_table()
    return bytes(document.output())


def _cells(row: RegisterRow, t: Translator) -> Iterator[str]:
    """The texts of one row, column by column (empty: nothing to draw)."""
    yield formatting.register_day(row.day, t.language)
    yield "" if row.start is None else formatting.clock(row.start)
    yield row.club or ""
    yield row.location or ""
    yield row.discipline or ""
    yield row.weapon or ""
    yield "" if row.weapon_type is None else weapon_type(t, row.weapon_type)
    yield row.caliber or ""
    yield row.serial_number or ""
    yield "" if row.distance_m is None else str(row.distance_m)
    yield "" if row.shots is None else str(row.shots)
    yield row.ammunition or ""
    yield "" if row.score is None else formatting.score_in(row.score, t.language)
    yield DASH if row.competition is CompetitionType.NONE else competition(t, row.competition)
    yield ""  # the club's initials, on paper


class _RegisterPdf(FPDF):
    def __init__(self, register: Register) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.source = register
        self.language = register.header.language
        self.t: Translator = translator(self.language)
        self._in_table = False
        self._head_top = 0.0
        self._fitted: dict[tuple[int, str], tuple[str, float]] = {}
        self._xs = list(self._column_starts())
        self.right = MARGIN + sum(c.width for c in COLUMNS)
        self.bottom = self.h - BOTTOM  # rows and text() never break a page themselves
        self.add_font(FAMILY, "", REGULAR)
        self.add_font(FAMILY, "B", BOLD)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=BOTTOM)
        self.alias_nb_pages(PAGE_ALIAS)
        header = register.header
        self.set_creation_date(header.generated_at)
        self.set_creator("AimTrack")
        self.set_author(printable(header.name))
        self.set_title(printable(f"{self.t('title')}: {header.name}"))
        self.set_lang(self.language.value)
        self.add_page()

    # --- helpers ----------------------------------------------------------------------------

    def day(self, value: date) -> str:
        return formatting.register_day(value, self.language)

    def count(self, number: int) -> str:
        return formatting.count(number, self.language)

    def period(self) -> str:
        header = self.source.header
        return self.t(
            "period_value", first=self.day(header.period_from), last=self.day(header.period_to)
        )

    def _column_starts(self) -> Iterator[float]:
        x = MARGIN
        for column in COLUMNS:
            yield x
            x += column.width

    def fit(self, value: str, width: float) -> tuple[str, float]:
        """``value`` drawable and cut (with an ellipsis) to ``width`` mm in the current font,
        and its width."""
        shown = printable(value)
        full = self.get_string_width(shown)
        if full <= width:
            return shown, full
        low, high = 0, len(shown)
        while low < high:  # the longest prefix that fits with the ellipsis
            middle = (low + high + 1) // 2
            if self.get_string_width(shown[:middle].rstrip() + ELLIPSIS) <= width:
                low = middle
            else:
                high = middle - 1
        cut = shown[:low].rstrip() + ELLIPSIS
        return cut, self.get_string_width(cut)

    def line_cell(
        self, width: float, value: str, *, align: Align = "L", bold: bool = False
    ) -> None:
        """One summary cell on the current line, cut to fit."""
        self.set_font(FAMILY, "B" if bold else "", self.font_size_pt)
        shown, _ = self.fit(value, width - 2 * PAD)
        self.cell(width, LINE_H, shown, align=align)

    def paragraph(self, value: str, *, bold: bool = False, size: float = 8.5) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        self.multi_cell(0, LINE_H, printable(value), new_x="LMARGIN", new_y="NEXT")

    # --- page furniture ---------------------------------------------------------------------

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(FAMILY, "", BODY_PT)
            self.set_text_color(90)
            running = self.t("running_head", name=self.source.header.name, period=self.period())
            self.set_xy(MARGIN, MARGIN - 3)
            self.cell(self.right - MARGIN, 4, self.fit(running, self.right - MARGIN)[0])
            self.set_text_color(0)
            self.set_xy(MARGIN, MARGIN + 2)
        if self._in_table:
            self.table_head()

    def footer(self) -> None:
        self.set_font(FAMILY, "", HEAD_PT)
        self.set_text_color(90)
        self.set_xy(MARGIN, self.h - 9)
        width = self.right - MARGIN
        self.cell(width / 2, 4, self.t("footer"))
        page = self.t("page", page=self.page_no(), pages=PAGE_ALIAS)
        self.cell(width / 2, 4, page, align="R")
        self.set_text_color(0)

    # --- page 1: header facts, disclaimer, summary ------------------------------------------

    def first_page(self) -> None:
        header = self.source.header
        self.set_font(FAMILY, "B", 14)
        self.cell(0, 8, printable(self.t("title")), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)
        expiry = header.licence_expiry
        licence = header.licence_number or DASH
        if expiry is not None:
            licence = f"{licence}, {self.t('licence_expiry').lower()} {self.day(expiry)}"
        facts = (
            ("name", header.name, "knsa_number", header.knsa_number or DASH),
            ("own_club", header.club or DASH, "licence_number", licence),
            (
                "period",
                self.period(),
                "generated_at",
                formatting.register_moment(header.generated_at, self.language),
            ),
        )
        half = (self.right - MARGIN) / 2
        self.set_font(FAMILY, "", 8.5)
        for left_key, left, right_key, right in facts:
            self.line_cell(32, self.t(left_key), bold=True)
            self.line_cell(half - 32, left)
            self.line_cell(32, self.t(right_key), bold=True)
            self.line_cell(half - 32, right)
            self.ln(LINE_H)
        self.line_cell(32, self.t("weapons"), bold=True)
        weapons = ", ".join(header.weapons) if header.weapons else self.t("all_weapons")
        self.set_font(FAMILY, "", 8.5)
        self.multi_cell(0, LINE_H, printable(weapons), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        self.set_fill_color(STRIPE)
        self.set_font(FAMILY, "", 8)
        self.multi_cell(
            0,
            4.2,
            printable(self.t("disclaimer")),
            border=1,
            fill=True,
            padding=2,
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.set_fill_color(0)
        self.ln(3)
        self.summary()

    def heading(self, value: str) -> None:
        self.set_font(FAMILY, "B", 10)
        self.cell(0, 6, printable(value), new_x="LMARGIN", new_y="NEXT")

    def keep(self, height: float) -> None:
        """A new page unless ``height`` mm still fit on this one (keeps a heading with what
        follows)."""
        if self.get_y() + height > self.bottom:
            self.add_page()

    def subheading(self, value: str) -> None:
        self.ln(1.5)
        self.keep(3 * LINE_H)
        self.set_font(FAMILY, "B", 8.5)
        self.cell(0, LINE_H + 0.4, printable(value), new_x="LMARGIN", new_y="NEXT")

    def summary(self) -> None:
        summary = self.source.summary
        licence = summary.licence
        self.heading(self.t("summary"))
        status = (
            self.t("licence_met")
            if licence.days_met
            else self.t("licence_short", short=licence.days_short)
        )
        self.paragraph(
            self.t(
                "licence_line",
                first=self.day(licence.window_start),
                last=self.day(licence.window_end),
                days=licence.days,
                required=licence.required_days,
                status=status,
            ),
            bold=True,
        )
        if licence.oldest_day is not None and licence.oldest_leaves_on is not None:
            self.paragraph(
                self.t(
                    "oldest_line",
                    day=self.day(licence.oldest_day),
                    leaves=self.day(licence.oldest_leaves_on),
                )
            )
        self.paragraph(
            self.t(
                "totals_line",
                days=self.count(summary.days),
                sessions=self.count(summary.sessions),
                rows=self.count(summary.rows),
                shots=self.count(summary.shots),
            )
        )
        self.per_weapon()
        self.competitions()
        self.subheading(self.t("unused"))
        unused = [
            self.t("unused_weapon", name=w.name, details=self._details(w))
            for w in summary.unused_weapons
        ]
        self.paragraph("; ".join(unused) if unused else self.t("unused_none"))
        self.subheading(self.t("gap"))
        gap = summary.longest_gap
        self.paragraph(
            self.t("gap_none")
            if gap is None
            else self.t(
                "gap_line" if gap.days > 1 else "gap_line_one",
                days=self.count(gap.days),
                after=self.day(gap.after),
                before=self.day(gap.before),
            )
        )

    def _details(self, weapon: UnusedWeapon) -> str:
        parts = [weapon_type(self.t, weapon.weapon_type)]
        if weapon.caliber:
            parts.append(weapon.caliber)
        if weapon.serial_number:
            parts.append(self.t("serial_short", serial=weapon.serial_number))
        return ", ".join(parts)

    def small_table(
        self,
        widths: Sequence[tuple[float, Align]],
        head: Sequence[str],
        lines: Iterator[Sequence[str]],
    ) -> None:
        self.set_font(FAMILY, "", 8)
        self.keep(2 * LINE_H)
        for (width, align), value in zip(widths, head, strict=True):
            self.line_cell(width, value, align=align, bold=True)
        self.ln(LINE_H)
        total = sum(width for width, _ in widths)
        self.set_draw_color(GRID)
        self.line(MARGIN, self.get_y(), MARGIN + total, self.get_y())
        self.set_draw_color(0)
        for line in lines:
            for (width, align), value in zip(widths, line, strict=True):
                self.line_cell(width, value, align=align)
            self.ln(LINE_H)

    def per_weapon(self) -> None:
        uses = self.source.summary.per_weapon
        self.subheading(self.t("per_weapon"))
        if not uses:
            self.paragraph(self.t("per_weapon_none"))
            return
        self.small_table(
            ((62, "L"), (30, "L"), (25, "L"), (40, "L"), (18, "R"), (22, "R")),
            [self.t(k) for k in ("col.weapon", "col.type", "col.caliber", "col.serial")]
            + [self.t("col.days"), self.t("col.shots")],
            (
                (
                    use.name,
                    weapon_type(self.t, use.weapon_type),
                    use.caliber or "",
                    use.serial_number or "",
                    self.count(use.days),
                    self.count(use.shots),
                )
                for use in uses
            ),
        )

    def competitions(self) -> None:
        years = self.source.summary.competitions
        first = years[0] if years else None
        self.subheading(
            self.t(
                "competitions",
                knsa=first.required_knsa if first else 3,
                club=first.required_club if first else 5,
            )
        )

        def lines() -> Iterator[Sequence[str]]:
            for year in years:
                covered = (
                    self.t("whole_year")
                    if year.whole_year
                    else self.t("part_year", first=self.day(year.first), last=self.day(year.last))
                )
                if year.met:
                    status = self.t("year_met")
                else:
                    status = self.t("year_not_met" if year.whole_year else "year_not_met_part")
                yield (str(year.year), covered, str(year.knsa), str(year.club), status)

        self.small_table(
            ((15, "L"), (62, "L"), (18, "R"), (22, "R"), (80, "L")),
            [
                self.t("col.year"),
                self.t("col.covered"),
                self.t("col.knsa"),
                self.t("col.club_matches"),
                self.t("col.status"),
            ],
            lines(),
        )

    # --- the table --------------------------------------------------------------------------

    def draw_table(self) -> None:
        rows = self.source.rows
        self.ln(3)
        self.keep(6 + HEAD_H + 3 * ROW_H)
        self.heading(self.t("sessions_heading"))
        if not rows:
            self.paragraph(self.t("no_rows"))
            return
        self._in_table = True
        self.table_head()
        self.set_font(FAMILY, "", BODY_PT)
        y = self.get_y()
        body_top = y
        self._stripes(y, 0)
        baseline = (ROW_H + 0.7 * self.font_size) / 2
        t = self.t
        xs = self._xs
        fitted = self._fitted
        for index, row in enumerate(rows):
            if y + ROW_H > self.bottom:
                self._grid(body_top, y)
                self.add_page()  # the header draws the column heads again
                y = body_top = self.get_y()
                self._stripes(y, index)
            for number, value in enumerate(_cells(row, t)):
                if not value:
                    continue
                found = fitted.get((number, value))
                if found is None:
                    found = self.fit(value, COLUMNS[number].width - 2 * PAD)
                    fitted[number, value] = found
                shown, width = found
                column = COLUMNS[number]
                x = (
                    xs[number] + PAD
                    if column.align == "L"
                    else xs[number] + column.width - PAD - width
                )
                self.text(x, y + baseline, shown)
            y += ROW_H
        self._grid(body_top, y)
        self._in_table = False
        self.set_y(y)

    def _stripes(self, top: float, first_index: int) -> None:
        """Shade every other row of the page about to be drawn (before its text)."""
        fits = int((self.bottom - top) // ROW_H)
        count = min(fits, len(self.source.rows) - first_index)
        self.set_fill_color(STRIPE)
        width = self.right - MARGIN
        for offset in range(count):
            if (first_index + offset) % 2:
                self.rect(MARGIN, top + offset * ROW_H, width, ROW_H, style="F")
        self.set_fill_color(0)  # text drawn in the fill colour needs no colour switch

    def table_head(self) -> None:
        top = self.get_y()
        self._head_top = top
        self.set_fill_color(HEAD_FILL)
        self.rect(MARGIN, top, self.right - MARGIN, HEAD_H, style="F")
        self.set_fill_color(0)
        self.set_font(FAMILY, "B", HEAD_PT)
        line = self.font_size * 1.15
        for column, x in zip(COLUMNS, self._xs, strict=True):
            lines = self._head_lines(self.t(column.key), column.width - 2 * PAD)
            first = top + (HEAD_H - line * len(lines)) / 2 + 0.78 * self.font_size
            for number, label in enumerate(lines):
                width = self.get_string_width(label)
                left = x + PAD if column.align == "L" else x + column.width - PAD - width
                self.text(left, first + number * line, label)
        self.set_font(FAMILY, "", BODY_PT)
        self.set_y(top + HEAD_H)

    def _head_lines(self, label: str, width: float) -> list[str]:
        """A column head on one line, or on two split at the best space, each cut to fit."""
        if self.get_string_width(label) <= width or " " not in label:
            return [self.fit(label, width)[0]]
        words = label.split(" ")
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        best = min(splits, key=lambda s: max(map(self.get_string_width, s)))
        return [self.fit(part, width)[0] for part in best]

    def _grid(self, body_top: float, bottom: float) -> None:
        """Lines of the page's table: around it, between columns, under the head and rows."""
        self.set_draw_color(GRID)
        self.set_line_width(0.1)
        top = self._head_top
        for x in self._xs[1:]:
            self.line(x, top, x, bottom)
        y = body_top
        while y < bottom - 0.01:
            self.line(MARGIN, y, self.right, y)
            y += ROW_H
        self.set_line_width(0.25)
        self.rect(MARGIN, top, self.right - MARGIN, bottom - top)
        self.set_line_width(0.2)
        self.set_draw_color(0)
