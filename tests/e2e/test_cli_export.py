"""``aimtrack export``: the register from the command line, through the real entry point.

A user with two weapons and a year of sessions is seeded through the repositories in a migrated
database of each backend; ``aimtrack export`` (:func:`aimtrack.cli.main` in this process,
``tests/helpers/cli.py``) writes the file, which is read back.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from aimtrack.core.model import EntrySpec, ProfileSpec, SessionSpec, WeaponSpec, WeaponType
from aimtrack.storage.engine import Database
from aimtrack.storage.repos import ProfileRepo, SessionRepo, UserDirectory, WeaponRepo
from tests.helpers.cli import aimtrack_async

TELEGRAM_ID = "4242"


async def seed(db: Database) -> None:
    """Anna (Telegram 4242): a CZ on 10 days of 2026 (two sessions on 3 March), a Walther once
    in 2025, and Bert with a session of his own that must never show up."""
    async with db.transaction() as session:
        directory = UserDirectory(session)
        anna = await directory.register("telegram", TELEGRAM_ID, display_name="Anna", allowed=True)
        bert = await directory.register("telegram", "999", display_name="Bert", allowed=True)
        await ProfileRepo(session, anna.user_id).update(
            ProfileSpec(display_name="Anna de Vries", knsa_number="K-1", club="SV De Roos")
        )
        weapons = WeaponRepo(session, anna.user_id)
        cz = await weapons.add(
            WeaponSpec(name="CZ 75", weapon_type=WeaponType.PISTOL, serial_number="CZ-SERIAL")
        )
        walther = await weapons.add(WeaponSpec(name="Walther GSP", serial_number="W-SERIAL"))
        sessions = SessionRepo(session, anna.user_id)
        for month in range(1, 10):
            await sessions.create(
                SessionSpec(occurred_on=date(2026, month, 3), club='=HYPERLINK("x")'),
                [EntrySpec(weapon_id=cz.id, distance_m=25, shots=50, score=Decimal("431.5"))],
            )
        await sessions.create(
            SessionSpec(occurred_on=date(2026, 3, 3), club="SV De Roos"),
            [EntrySpec(weapon_id=cz.id, distance_m=15, shots=10)],
        )
        await sessions.create(
            SessionSpec(occurred_on=date(2025, 6, 1)),
            [EntrySpec(weapon_id=walther.id, distance_m=50, shots=30)],
        )
        bert_weapon = await WeaponRepo(session, bert.user_id).add(WeaponSpec(name="Bert's Glock"))
        await SessionRepo(session, bert.user_id).create(
            SessionSpec(occurred_on=date(2026, 5, 5), club="Bert's club"),
            [EntrySpec(weapon_id=bert_weapon.id, distance_m=25, shots=5)],
        )


def rows(content: bytes) -> list[list[str]]:
    """The table part of the CSV: the header line and the rows up to the first empty line."""
    assert content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    return lines[: lines.index([])] if [] in lines else lines


async def test_a_year_as_csv(db: Database, tmp_path: Path) -> None:
    await seed(db)
    out = tmp_path / "register.csv"
    result = await aimtrack_async(
        *("export", "--user", TELEGRAM_ID, "--from", "2026-01-01", "--to", "31-12-2026"),
        *("--format", "csv", "--out", str(out)),
        db=db,
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote {out} (10 rows, 9 shooting days" in result.stdout
    header, *table = rows(out.read_bytes())
    assert header[0] == "Datum"
    assert len(table) == 10
    assert {row[header.index("Serienummer")] for row in table} == {"CZ-SERIAL"}
    assert "431,5" in {row[header.index("Score")] for row in table}
    assert '\'=HYPERLINK("x")' in {row[header.index("Vereniging/baan")] for row in table}
    assert b"Bert" not in out.read_bytes()
    assert b"W-SERIAL" not in out.read_bytes().split(b"\r\n\r\n")[0]  # not used in 2026


async def test_one_weapon_as_pdf(db: Database, tmp_path: Path) -> None:
    await seed(db)
    out = tmp_path / "walther.pdf"
    result = await aimtrack_async(
        *("export", "--user", TELEGRAM_ID, "--from", "2025-01-01", "--to", "2026-12-31"),
        *("--weapon", "walther gsp", "--format", "pdf", "--out", str(out)),
        db=db,
    )
    assert result.returncode == 0, result.stderr
    assert "(1 rows, 10 shooting days" in result.stdout
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Anna de Vries" in text
    assert "W-SERIAL" in text
    assert "CZ-SERIAL" not in text.split("Samenvatting")[0]  # the table holds the Walther only


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "777"], "no user 777 (telegram) is known"),
        (["--user", TELEGRAM_ID, "--weapon", "Glock"], "no weapon is called 'Glock'"),
        (["--user", "999", "--weapon", "CZ 75"], "no weapon is called 'CZ 75'"),  # Anna's
    ],
    ids=["unknown user", "unknown weapon", "another user's weapon"],
)
async def test_a_refused_export_writes_nothing(
    db: Database, tmp_path: Path, args: list[str], message: str
) -> None:
    await seed(db)
    out = tmp_path / "kept.csv"
    out.write_text("the previous export")
    result = await aimtrack_async(
        "export",
        *args,
        *("--from", "2026-01-01", "--to", "2026-12-31", "--format", "csv", "--out", str(out)),
        db=db,
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert out.read_text() == "the previous export"
    assert "Traceback" not in result.stderr
