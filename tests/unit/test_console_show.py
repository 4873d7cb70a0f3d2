"""How the console shows pushed messages of files only (the /stats charts): each file with its
caption, a file deleted once sent copied to the downloads folder, and the buttons above it
still answering their numbers."""

from __future__ import annotations

import io
from pathlib import Path

from aimtrack.bot.io import Button, Outcome, OutFile, Reply
from aimtrack.bot.transports.console import Console
from aimtrack.storage.engine import Database
from tests.helpers.chat import Chat


async def test_charts_keep_the_buttons_and_are_copied(db: Database, tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(
        Chat.open(db, tmp_path).conversation, user="anna", out=out, downloads=tmp_path / "dl"
    )
    console.show(Outcome((Reply("📊 Je statistieken", ((Button("3 mnd", "7:p:3m"),),)),)))
    chart = tmp_path / "scratch" / "aimtrack-score.png"
    chart.parent.mkdir()
    chart.write_bytes(b"\x89PNG fake")
    stored = tmp_path / "attachments" / "target.jpg"
    stored.parent.mkdir()
    stored.write_bytes(b"jpeg")

    await console.push(
        "anna",
        Reply(
            "",
            files=(
                OutFile(chart, is_photo=True, caption="🎯 CZ 75 · 25 m", transient=True),
                OutFile(stored, is_photo=True),
            ),
        ),
    )
    chart.unlink()  # what the job does right after sending

    assert [b.data for b in console.buttons] == ["7:p:3m"]  # "1" still presses "3 mnd"
    copied = tmp_path / "dl" / "aimtrack-score.png"
    assert copied.read_bytes() == b"\x89PNG fake"
    printed = out.getvalue().splitlines()
    assert f"📎 {copied} 🎯 CZ 75 · 25 m" in printed
    assert f"📎 {stored}" in printed  # a stored photo stays where it is

    console.show(Outcome((Reply("Nieuw bericht"),)))  # a text without buttons ends them
    assert console.buttons == []
