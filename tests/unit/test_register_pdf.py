"""The register as PDF: the header facts, every row, the summary and the disclaimer in the
extracted text, in both languages; column heads and "pagina X van Y" on every page; text the
font cannot draw or that is too long never breaks the page; page 1 as PNG for a person to see."""

from __future__ import annotations

import dataclasses
import io
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader

from aimtrack.core.model import Language
from aimtrack.core.register import Register
from aimtrack.exports import texts
from aimtrack.exports.register_pdf import COLUMNS, ELLIPSIS, MARGIN, printable, render_pdf
from tests.helpers.artefacts import ARTEFACTS
from tests.helpers.register_data import (
    CZ,
    WALTHER,
    at,
    detailed,
    long_register,
    sessions,
    small_register,
    weapons,
)

ROOT = Path(__file__).resolve().parents[2]
# Read at import: the autouse fixture in conftest.py clears AIMTRACK_* variables for each test.


def pages(content: bytes) -> list[str]:
    assert content.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def flat(value: str) -> str:
    return re.sub(r"\s+", " ", value)


@pytest.fixture(scope="module")
def dutch() -> str:
    return "\n".join(pages(render_pdf(small_register(Language.NL))))


@pytest.fixture(scope="module")
def english() -> str:
    return "\n".join(pages(render_pdf(small_register(Language.EN))))


def test_dutch_header_facts(dutch: str) -> None:
    assert "Schietregister — eigen overzicht" in dutch
    assert "Naam Anouk de Vries" in dutch
    assert "KNSA-lidnummer KNSA-123456" in dutch
    assert "Vereniging SV Ons Genoegen" in dutch
    assert "Verlofnummer WM4-2026-0042, verlof geldig tot 01-03-2027" in dutch
    assert "Periode 01-01-2026 t/m 30-11-2026" in dutch
    assert "Gemaakt op 01-12-2026 12:00" in dutch
    assert "Wapens alle wapens" in dutch


def test_english_header_facts(english: str) -> None:
    assert "Shooting register — own overview" in english
    assert "KNSA number KNSA-123456" in english
    assert "Licence number WM4-2026-0042, licence valid until 2027-03-01" in english
    assert "Period 2026-01-01 to 2026-11-30" in english
    assert "Generated at 2026-12-01 12:00" in english
    assert "Weapons all weapons" in english


def test_selected_weapons_are_named_in_the_header() -> None:
    register = small_register(weapon_ids=frozenset({CZ, WALTHER}))
    assert "Wapens CZ 75 SP-01, Walther GSP" in pages(render_pdf(register))[0]


@pytest.mark.parametrize("language", list(Language))
def test_every_row_is_in_the_table(language: Language) -> None:
    register = small_register(language)
    lines = "\n".join(pages(render_pdf(register))).splitlines()
    nl = language is Language.NL
    expected = [
        ("10-01-2026", "09:30", "CZ 75 SP-01", "B123456", "431,5" if nl else "431.5"),
        ("10-01-2026", "09:30", "Walther GSP", "W-778899", " 270 KNSA"),
        ("15-03-2026", "19:05", "CZ 75 SP-01", "Den Bosch", "Sellier & Bellot"),
        ("01-06-2026", "SV Ons Genoegen"),
        ("20-11-2026", "20:00", "Walther GSP", "Fiocchi €0,25", "540,5" if nl else "540.5"),
    ]
    rows = [line for line in lines if re.match(r"\d{2}-\d{2}-\d{4} |\d{4}-\d{2}-\d{2} ", line)]
    rows = [line for line in rows if "SV " in line or "Schiet" in line or "Den Bosch" in line]
    assert len(rows) == len(register.rows)
    for row, values in zip(rows, expected, strict=True):
        day = values[0] if nl else "-".join(reversed(values[0].split("-")))
        assert row.startswith(day), row
        for value in values[1:]:
            assert value in row, (value, row)


def test_dutch_summary(dutch: str) -> None:
    text = flat(dutch)
    assert (
        "Schietdagen in de 12 maanden van 01-12-2025 t/m 30-11-2026: 5 van de 18 (nog 13 nodig)"
        in text
    )
    assert "Oudste dag in dit venster: 15-12-2025" in text
    assert "In de periode: 4 schietdagen, 4 sessies, 5 regels, 200 schoten" in text
    assert "CZ 75 SP-01 Pistool 9mm B123456 2 110" in text
    assert "Walther GSP Pistool .22 LR W-778899 2 90" in text
    assert "Wedstrijden per kalenderjaar (plicht: 3 KNSA of 5 vereniging)" in text
    assert "2026 alleen 01-01-2026 t/m 30-11-2026 1 1 niet voldaan" in text
    assert "niet voldaan (in dit deel van het jaar)" in text
    assert "Wapens op verlof zonder gebruik Ruger 10/22 (Geweer, .22 LR, serienr. R1022-77)" in text
    assert "Langste onderbreking 172 dagen, van 01-06-2026 tot 20-11-2026" in text
    assert "Paraaf vereniging" in text


def test_english_summary(english: str) -> None:
    text = flat(english)
    assert "Shooting days in the 12 months from 2025-12-01 to 2026-11-30: 5 of 18" in text
    assert "(13 more needed)" in text
    assert "In the period: 4 shooting days, 4 sessions, 5 rows, 200 shots" in text
    assert "Competitions per calendar year (duty: 3 KNSA or 5 club)" in text
    assert "2026 only 2026-01-01 to 2026-11-30 1 1 not met (in this part of the year)" in text
    assert "Licensed weapons without use Ruger 10/22 (Rifle, .22 LR, serial R1022-77)" in text
    assert "Longest gap 172 days, from 2026-06-01 to 2026-11-20" in text
    assert "Club initials" in text


def test_disclaimer_in_both_languages(dutch: str, english: str) -> None:
    assert "niet het officiële schietregister" in flat(dutch)
    assert "register van de vereniging of van de KNSA is leidend" in flat(dutch)
    assert "de schutter blijft zelf verantwoordelijk" in flat(dutch)
    assert "not the official shooting register" in flat(english)
    assert "register of the club or of the KNSA is leading" in flat(english)
    assert "the shooter remains responsible" in flat(english)


def test_large_numbers_are_grouped_and_a_met_year_says_so() -> None:
    text = flat("\n".join(pages(render_pdf(long_register(400)))))
    assert "800 regels, 32.000 schoten" in text
    assert "2024 hele jaar 0 366 voldaan" in text


@pytest.mark.parametrize(("language", "word"), [(Language.NL, "pagina"), (Language.EN, "page")])
def test_every_page_has_the_column_heads_and_its_number(language: Language, word: str) -> None:
    register = long_register(120, language)  # 240 rows
    texts = pages(render_pdf(register))
    total = len(texts)
    assert total >= 5
    head = "Paraaf vereniging" if language is Language.NL else "Club initials"
    sep = "van" if language is Language.NL else "of"
    for number, page in enumerate(texts, start=1):
        assert f"{word} {number} {sep} {total}" in page
        if number > 1:  # page 1 holds the summary before the table starts
            assert head in page, number
    assert f"{word} 2 {sep} {total}" in texts[1]
    body = "\n".join(texts)
    assert body.count("CZ 75 SP-01 Pistool" if language is Language.NL else "CZ 75 SP-01 Pistol")
    day = r"(\d{2}-\d{2}-\d{4}|\d{4}-\d{2}-\d{2})"
    rows = re.findall(rf"^{day} \d{{2}}:\d{{2}} ", body, re.MULTILINE)
    assert len(rows) == len(register.rows) == 240


@pytest.mark.parametrize("language", list(Language))
def test_column_heads_are_whole_and_the_table_fills_the_width(language: Language) -> None:
    assert sum(column.width for column in COLUMNS) == pytest.approx(297 - 2 * MARGIN)
    text = "\n".join(pages(render_pdf(small_register(language))))
    heads = [texts.translator(language)(column.key) for column in COLUMNS]
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heads[0] + " "))
    head = " ".join(lines[start : start + 3])  # a head may wrap onto a second line
    assert ELLIPSIS not in head
    for label in heads:
        for word in label.split():
            assert word in head, label


def _odd_register(club: str, name: str) -> Register:
    history = [at(1, sessions()[0].occurred_on, detailed(CZ, 50, "431.5"), club=club)]
    return small_register(history=history, arsenal=weapons(cz=name))


@pytest.mark.parametrize(
    "odd",
    [
        "🎯 Baan",
        "中文射击俱乐部",
        "pair \ud83c alone",
        "👨\u200d👩\u200d👧 family",
        "❤\ufe0f club",
        "{nb} pages",
        "\x00ctl",
    ],
)
def test_characters_the_font_lacks_never_break_the_document(odd: str) -> None:
    register = _odd_register(odd, f"Ëé€ {odd}")
    register = dataclasses.replace(
        register, header=dataclasses.replace(register.header, name=odd, club=odd)
    )
    text = "\n".join(pages(render_pdf(register)))  # warnings are errors in this suite
    assert "Ëé€" in text
    assert printable(odd) in text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain", "plain"),
        ("Ëé€ ß", "Ëé€ ß"),
        ("🎯 Baan", "? Baan"),
        ("中文", "??"),
        ("a\ud800b", "a?b"),
        ("tab\there\nnew", "tab here new"),
        ("zero\u200bwidth", "zerowidth"),
        ("❤\ufe0f", "❤"),
        ("{nb}", "{nb }"),
    ],
)
def test_printable(value: str, shown: str) -> None:
    assert printable(value) == shown


def test_long_text_is_cut_to_its_column() -> None:
    club = "Koninklijke Schutterij " * 8
    text = "\n".join(pages(render_pdf(_odd_register(club, "W" * 80))))
    row = next(line for line in text.splitlines() if line.startswith("10-01-2026"))
    assert "Koninklijke Schutterij" in row
    assert club.strip() not in text
    assert ELLIPSIS in row
    assert "W" * 80 not in row
    assert row.endswith(("431,5 –", "431,5 -"))  # the columns after the long ones still stand


def test_renders_in_parallel_threads_alike() -> None:
    registers = [small_register(language) for language in Language] * 2
    alone = [render_pdf(register) for register in registers]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(render_pdf, registers))
    assert together == alone


@pytest.mark.parametrize("language", list(Language))
def test_page_one_as_png_for_review(language: Language) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for name, register in (
        (f"register-{language.value}-page1.png", small_register(language)),
        (f"register-long-{language.value}-page2.png", long_register(60, language)),
    ):
        document = pdfium.PdfDocument(render_pdf(register))
        try:
            index = 0 if "page1" in name else 1
            image = document[index].render(scale=2).to_pil()
        finally:
            document.close()
        target = ARTEFACTS / name
        image.save(target)
        with Image.open(target) as saved:
            extrema = saved.convert("L").getextrema()
            assert saved.size[0] > saved.size[1]  # landscape
        assert isinstance(extrema, tuple)
        darkest, lightest = extrema
        assert isinstance(darkest, int)
        assert darkest < 64  # there is ink
        assert lightest == 255  # on white paper
