"""The issue's "done when" in the console: saving a session in `aimtrack chat` leads, without
further action, to a reflection message — from the model, or from the statistics without one."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.helpers.fakeai import FakeAI

LOG_A_SESSION = "CZ 75 25m 50 schoten 431\n1\n1\n"  # quick entry, add the weapon, save
REFLECTION = {
    "summary": "Stub: een nette sessie met de CZ.",
    "went_well": "Stub: tempo.",
    "needs_improvement": "Stub: de laatste serie.",
    "next_focus": "Stub: ademhaling.",
}


async def chat(tmp_path: Path, env: dict[str, str]) -> tuple[int, str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AIMTRACK_")}
    full_env.update({"AIMTRACK_DATA_DIR": str(tmp_path / "data"), **env})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aimtrack",
        "chat",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=full_env,
        cwd=tmp_path,
    )
    out, err = await asyncio.wait_for(process.communicate(LOG_A_SESSION.encode()), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_console_prints_the_models_reflection_after_saving(tmp_path: Path) -> None:
    async with FakeAI() as ai:
        ai.default = lambda request: REFLECTION
        code, out, err = await chat(
            tmp_path,
            {"AIMTRACK_AI_BASE_URL": ai.base_url, "AIMTRACK_AI_MODEL": "fake-model"},
        )
        requests = len(ai.completions)

    assert code == 0, err
    assert "Opgeslagen" in out
    saved_at = out.index("Opgeslagen")
    assert "Reflectie op je sessie" in out[saved_at:]
    assert "Stub: een nette sessie met de CZ." in out
    assert "fake-model via 127.0.0.1" in out
    assert "veiligheidsregels" in out
    assert requests == 1


async def test_without_ai_the_console_prints_the_statistics(tmp_path: Path) -> None:
    code, out, err = await chat(tmp_path, {})

    assert code == 0, err
    assert "Reflectie op je sessie" in out
    assert "8,62 per schot" in out
    assert "Berekend zonder AI" in out
