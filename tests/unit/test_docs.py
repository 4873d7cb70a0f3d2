"""The documentation names every setting that exists, and no setting that does not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aimtrack.config import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {ENV_PREFIX + name.upper() for name in Settings.model_fields}


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^(AIMTRACK_[A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert documented == SETTINGS


def test_readme_configuration_table_lists_every_setting() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(AIMTRACK_[A-Z0-9_]+)` \|", text, flags=re.MULTILINE))
    assert listed == SETTINGS


def test_env_example_loads_as_valid_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Copying .env.example to .env unchanged gives a working configuration."""
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.ai_base_url is None
    assert settings.web_port == 8080


def test_readme_has_exactly_two_set_up_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Set up.*?```sh\n(.*?)```", text, flags=re.DOTALL)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert [line.split()[0] for line in commands] == ["./scripts/start", "./scripts/test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test" in ci
