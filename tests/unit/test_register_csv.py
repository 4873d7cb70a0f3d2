"""The register as CSV: what Dutch Excel needs (BOM, ``;``, CRLF, decimal comma), golden files
in both languages, every row read back, and cells that a spreadsheet would run made inert.

Regenerate the golden files after a deliberate change: ``.venv/bin/python -m
tests.unit.test_register_csv`` (and read the diff)."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pytest

from aimtrack.core.model import Language
from aimtrack.core.register import Register
from aimtrack.exports import texts
from aimtrack.exports.register_csv import COLUMNS, inert, render_csv
from tests.helpers.register_data import CZ, WALTHER, at, detailed, sessions, small_register, weapons

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
BOM = b"\xef\xbb\xbf"


def parse(content: bytes) -> list[list[str]]:
    assert content.startswith(BOM)
    text = content[len(BOM) :].decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def table(content: bytes) -> list[list[str]]:
    """The head line and the register rows: everything up to the first empty line."""
    lines = parse(content)
    return lines[: lines.index([])]


@pytest.mark.parametrize("language", list(Language))
def test_matches_the_golden_file(language: Language) -> None:
    expected = (GOLDEN / f"register_{language.value}.csv").read_bytes()
    assert render_csv(small_register(language)) == expected


def test_excel_format_bom_semicolons_crlf() -> None:
    content = render_csv(small_register())
    assert content.startswith(BOM)
    assert content.endswith(b"\r\n")
    assert content.count(b"\n") == content.count(b"\r\n")  # no bare line feed anywhere
    head = content[len(BOM) :].split(b"\r\n", 1)[0].decode()
    assert head.split(";")[:3] == ["Datum", "Aanvang", "Vereniging/baan"]
    assert len(head.split(";")) == 15


@pytest.mark.parametrize("language", list(Language))
def test_every_row_reads_back_with_its_values(language: Language) -> None:
    register = small_register(language)
    lines = table(render_csv(register))
    assert lines[0] == [texts.translator(language)(key) for key in COLUMNS]
    assert len(lines) - 1 == len(register.rows) == 5
    nl = language is Language.NL
    first, second, third, empty, last = lines[1:]
    assert first == [
        "10-01-2026" if nl else "2026-01-10",
        "09:30",
        "SV Ons Genoegen",
        "Utrecht",
        "Precisie",
        "CZ 75 SP-01",
        "Pistool" if nl else "Pistol",
        "9mm",
        "B123456",
        "25",
        "50",
        "Geco 124gr",
        "431,5",
        "vereniging" if nl else "club",
        "",
    ]
    assert second[5:14] == [
        "Walther GSP",
        "Pistool" if nl else "Pistol",
        ".22 LR",
        "W-778899",
        "25",
        "30",
        "",
        "270",
        "KNSA",
    ]
    assert third[2] == "Schietsportvereniging Één & Twee — 't Zuiden van Nederland"
    assert third[9:13] == ["50", "60", "Sellier & Bellot", ""]
    assert empty[0] == ("01-06-2026" if nl else "2026-06-01")  # a session without entries
    assert empty[5:13] == [""] * 8
    assert last[11:13] == ["Fiocchi €0,25", "540,5"]
    assert all(len(line) == 15 and line[14] == "" for line in lines[1:])


def test_summary_follows_after_one_empty_line() -> None:
    lines = parse(render_csv(small_register()))
    summary = {line[0]: line[1:] for line in lines[lines.index([]) + 1 :]}
    assert summary["Naam"] == ["Anouk de Vries"]
    assert summary["KNSA-lidnummer"] == ["KNSA-123456"]
    assert summary["Verlofnummer"] == ["WM4-2026-0042"]
    assert summary["Verlof geldig tot"] == ["01-03-2027"]
    assert summary["Periode"] == ["01-01-2026", "30-11-2026"]
    assert summary["Wapens"] == ["alle wapens"]
    assert summary["Schietdagen in de 12 maanden van 01-12-2025 t/m 30-11-2026"] == [
        "5",
        "van de 18",
        "nog 13 nodig",
    ]
    assert summary["Schoten"] == ["200"]
    assert summary["CZ 75 SP-01"] == ["Pistool", "9mm", "B123456", "2", "110"]
    assert summary["2026"] == [
        "alleen 01-01-2026 t/m 30-11-2026",
        "1",
        "1",
        "niet voldaan (in dit deel van het jaar)",
    ]
    assert summary["Wapens op verlof zonder gebruik"] == ["Ruger 10/22"]
    assert summary["Langste onderbreking (dagen)"] == ["172", "01-06-2026", "20-11-2026"]
    assert "niet het officiële schietregister" in summary["Let op"][0]


def test_selected_weapons_are_named_and_only_their_rows_shown() -> None:
    register = small_register(Language.EN, weapon_ids=frozenset({WALTHER}))
    lines = parse(render_csv(register))
    assert [line[5] for line in table(render_csv(register))[1:]] == ["Walther GSP"] * 2
    assert ["Weapons", "Walther GSP"] in lines


@pytest.mark.parametrize(
    "value", ["=1+1", "+x", "-x", "-", "@SUM(A1:A9)", "\t=x", "\rx", '=HYPERLINK("http://x")']
)
def test_cells_that_a_spreadsheet_would_run_are_inert(value: str) -> None:
    history = [
        at(
            1,
            sessions()[0].occurred_on,
            detailed(CZ, 50, "431.5", discipline=value, ammunition=value),
            club=value,
            location=value,
        )
    ]
    register = small_register(
        history=history, arsenal=weapons(cz=value, cz_serial=value), weapon_ids=None
    )
    lines = parse(render_csv(register))
    row = table(render_csv(register))[1]
    for column in ("col.club", "col.location", "col.discipline", "col.weapon", "col.serial"):
        assert row[COLUMNS.index(column)] == "'" + value
    assert row[COLUMNS.index("col.ammunition")] == "'" + value
    summary_weapon = next(line for line in lines if line and line[0] == "'" + value)
    assert summary_weapon[3] == "'" + value  # the serial number in the per-weapon summary
    for line in lines:
        for cell in line:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_profile_text_is_inert_too() -> None:
    register = small_register()
    header = dataclasses.replace(register.header, name="=cmd|'/c calc'!A1", club="@x")
    lines = parse(render_csv(dataclasses.replace(register, header=header)))
    assert ["Naam", "'=cmd|'/c calc'!A1"] in lines
    assert ["Vereniging", "'@x"] in lines


@pytest.mark.parametrize(
    ("cell", "shown"),
    [("a=b", "a=b"), ("431,5", "431,5"), ("", ""), (" =x", " =x"), ("-5", "'-5"), ("=", "'=")],
)
def test_inert_touches_only_what_starts_like_a_formula(cell: str, shown: str) -> None:
    assert inert(cell) == shown


def test_an_empty_register_still_has_its_head_and_summary() -> None:
    register: Register = small_register(history=[])
    lines = parse(render_csv(register))
    assert lines[0][0] == "Datum"
    assert lines[1] == []
    assert ["Langste onderbreking", texts.translator(Language.NL)("gap_none")] in lines


def write_golden_files() -> None:
    for language in Language:
        path = GOLDEN / f"register_{language.value}.csv"
        path.write_bytes(render_csv(small_register(language)))
        print(f"wrote {path}")


if __name__ == "__main__":
    write_golden_files()
