"""The issue's "done when" in the console: saving a session in `aimtrack chat` leads, without
further action, to a reflection message — from the model, or from the statistics without one."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.cli import spawn_async
from tests.helpers.fakeai import FakeAI

LOG_A_SESSION = "CZ 75 25m 50 schoten 431\n1\n1\n"  # quick entry, add the weapon, save
REFLECTION = {
    "summary": "Stub: een nette sessie met de CZ.",
    "went_well": "Stub: tempo.",
    "needs_improvement": "Stub: de laatste serie.",
    "next_focus": "Stub: ademhaling.",
}


async def chat(tmp_path: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """``aimtrack chat`` in a child process, typing :data:`LOG_A_SESSION`."""
    done = await spawn_async(
        "chat",
        env={"AIMTRACK_DATA_DIR": str(tmp_path / "data"), **env},
        stdin=LOG_A_SESSION,
        cwd=tmp_path,
        timeout=60,
    )
    return done.returncode, done.stdout, done.stderr


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
