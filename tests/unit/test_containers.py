"""The container files: docker-compose.yml resolves with a real Compose v2 client, the settings
it hands AimTrack are valid, and the Dockerfile builds a slim, unprivileged image whose health
check works. Nothing here needs a Docker engine (none runs on CI); nothing builds an image.

CI (CI=true) installs the Compose client in .ci/run, so there a missing client fails these
tests instead of skipping them.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from aimtrack.config import Settings

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}
PASSWORD = "test0password0for0compose0config"
TOKEN = "123456:TEST-token-for-compose-config"
# What the shell might carry that would change how Compose reads the file.
LEAKY_PREFIXES = ("AIMTRACK_", "POSTGRES_", "COMPOSE_", "WEB_PUBLISH")


# --- docker-compose.yml ---------------------------------------------------------------------


def _compose_v2() -> list[str] | None:
    """``docker compose`` (the plugin) or a stand-alone ``docker-compose``, if it is v2."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        try:
            found = subprocess.run(
                [*command, "version", "--short"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if found.returncode == 0 and found.stdout.strip().lstrip("v").startswith("2."):
            return command
    return None


@pytest.fixture(scope="module")
def compose() -> list[str]:
    command = _compose_v2()
    if command is None:
        reason = (
            "no Docker Compose v2 client (`docker compose` or `docker-compose` v2);"
            " .ci/run installs one"
        )
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return command


def _resolve(
    compose: list[str],
    folder: Path,
    env_lines: list[str],
    *options: str,
) -> subprocess.CompletedProcess[str]:
    """``compose config`` on a copy of the files, with a .env made from .env.example."""
    shutil.copy(ROOT / "docker-compose.yml", folder / "docker-compose.yml")
    shutil.copy(ROOT / "Dockerfile", folder / "Dockerfile")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    (folder / ".env").write_text(example + "\n".join(env_lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKY_PREFIXES)}
    files = ["--project-directory", str(folder), "-f", str(folder / "docker-compose.yml")]
    return subprocess.run(
        [*compose, *files, *options, "config", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=120,
        check=False,
    )


def _config(compose: list[str], folder: Path, *extra: str, options: tuple[str, ...] = ()) -> Any:
    done = _resolve(
        compose,
        folder,
        [f"POSTGRES_PASSWORD={PASSWORD}", f"AIMTRACK_TELEGRAM_TOKEN={TOKEN}", *extra],
        *options,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_compose_runs_migrations_before_the_bot_on_a_healthy_database(
    compose: list[str], tmp_path: Path
) -> None:
    config = _config(compose, tmp_path)
    services = config["services"]
    assert set(services) == {"db", "migrate", "aimtrack"}  # ollama only with the ai profile

    db = services["db"]
    assert re.fullmatch(r"postgres:1[5-7](-\w+)?", db["image"])
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert db["environment"]["POSTGRES_PASSWORD"] == PASSWORD  # from .env, nowhere else
    assert {"source": "db", "target": "/var/lib/postgresql/data"}.items() <= db["volumes"][
        0
    ].items()

    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"

    bot = services["aimtrack"]
    assert bot["command"] == ["run"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert bot["restart"] == "unless-stopped"
    assert bot["build"]["context"] == str(tmp_path)
    assert bot["image"] == migrate["image"]
    assert bot["cap_drop"] == ["ALL"]
    assert bot["logging"]["options"].keys() >= {"max-size", "max-file"}
    [port] = bot["ports"]
    assert (port["host_ip"], port["published"], port["target"]) == ("127.0.0.1", "8080", 8080)
    for service in (bot, migrate):
        assert service["volumes"][0]["type"] == "volume"
        assert (service["volumes"][0]["source"], service["volumes"][0]["target"]) == (
            "data",
            "/data",
        )
    assert {"data", "db"} <= set(config["volumes"])


def test_the_bot_container_gets_valid_settings_for_the_compose_database(
    compose: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever .env says about them, the container's data dir, web address and database are
    the compose ones, and the environment it gets passes AimTrack's own validation."""
    config = _config(
        compose,
        tmp_path,
        "AIMTRACK_DATA_DIR=./elsewhere",
        "AIMTRACK_WEB_HOST=127.0.0.1",
        "AIMTRACK_DATABASE_URL=sqlite+aiosqlite:///ignored.db",
    )
    environment = config["services"]["aimtrack"]["environment"]
    for name in list(os.environ):
        if name.startswith("AIMTRACK_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value or "")
    empty = tmp_path / "cwd"
    empty.mkdir()
    monkeypatch.chdir(empty)  # no .env here: only the container's environment counts

    settings = Settings()
    assert settings.data_dir == Path("/data")
    assert settings.web_host == "0.0.0.0"  # noqa: S104 -- inside the container, on purpose
    assert settings.web_port == 8080
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == TOKEN
    assert settings.resolved_database_url == (
        f"postgresql+asyncpg://aimtrack:{PASSWORD}@db:5432/aimtrack"
    )


def test_the_image_can_back_up_the_compose_database(compose: list[str], tmp_path: Path) -> None:
    """`aimtrack backup` runs the image's pg_dump, which must be of the server's major version
    or newer: the Debian release under the image decides which one it is."""
    client_of = {"bookworm": 15, "trixie": 17}  # Debian's postgresql-client
    image = _config(compose, tmp_path)["services"]["db"]["image"]
    server = re.fullmatch(r"postgres:(\d+)(-\w+)?", image)
    assert server is not None, image
    _build, runtime = _stages()
    assert any(w == "RUN" and "install" in r and "postgresql-client" in r for w, r in runtime)
    base = dict(r.partition("=")[::2] for w, r in _instructions() if w == "ARG")["PYTHON_IMAGE"]
    suite = base.rsplit("-", 1)[-1]
    assert suite in client_of, f"which postgresql-client does {base} have?"
    assert client_of[suite] >= int(server.group(1))


@pytest.mark.parametrize("missing", ["POSTGRES_PASSWORD", "AIMTRACK_TELEGRAM_TOKEN"])
def test_compose_refuses_to_start_without_a_password_or_token(
    compose: list[str], tmp_path: Path, missing: str
) -> None:
    given = {"POSTGRES_PASSWORD": PASSWORD, "AIMTRACK_TELEGRAM_TOKEN": TOKEN}
    del given[missing]
    done = _resolve(compose, tmp_path, [f"{k}={v}" for k, v in given.items()])
    assert done.returncode != 0
    assert f"set {missing} in .env" in done.stderr


def test_compose_file_holds_no_credentials() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for line in text.splitlines():
        key, _, value = line.strip().partition(":")
        if re.search(r"PASSWORD|TOKEN|SECRET|API_KEY", key) and value.strip():
            assert value.strip().startswith("${"), line
    assert "${POSTGRES_PASSWORD:?" in text


def test_ai_profile_adds_ollama_that_aimtrack_can_point_at(
    compose: list[str], tmp_path: Path
) -> None:
    config = _config(
        compose,
        tmp_path,
        "AIMTRACK_AI_BASE_URL=http://ollama:11434/v1",
        "AIMTRACK_AI_MODEL=llama3.1:8b",
        options=("--profile", "ai"),
    )
    ollama = config["services"]["ollama"]
    assert ollama["volumes"][0]["source"] == "ollama"
    assert ollama["healthcheck"]["test"][0] == "CMD"
    assert "ports" not in ollama  # reached by the bot over the compose network only
    environment = config["services"]["aimtrack"]["environment"]
    assert environment["AIMTRACK_AI_BASE_URL"] == "http://ollama:11434/v1"
    assert "ollama" in config["volumes"]


# --- Dockerfile -----------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    joined: list[str] = []
    current = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    result = []
    for line in joined:
        word, _, rest = line.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _env(stage: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for word, rest in stage:
        if word == "ENV":
            values.update(re.findall(r"(\w+)=(\S+)", rest))
    return values


def test_dockerfile_builds_with_the_pins_and_runs_slim_and_unprivileged() -> None:
    build, runtime = _stages()
    assert build[0][1].endswith("AS build")
    assert any(w == "RUN" and "-c constraints.txt" in r for w, r in build)
    assert any(w == "COPY" and "constraints.txt" in r for w, r in build)
    assert any(w == "COPY" and r.startswith("--from=build /opt/aimtrack") for w, r in runtime)
    arguments = dict(r.partition("=")[::2] for w, r in _instructions() if w == "ARG")
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", arguments["PYTHON_IMAGE"])
    assert runtime[0][1].startswith("${PYTHON_IMAGE}")
    assert not any(w == "RUN" and "pip" in r for w, r in runtime)  # no build tools at run time

    users = [rest for word, rest in runtime if word == "USER"]
    assert users, "the image must not run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}

    env = _env(runtime)
    assert env["AIMTRACK_DATA_DIR"] == "/data"
    assert env["AIMTRACK_WEB_HOST"] == "0.0.0.0"  # noqa: S104 -- reachable from the host
    assert env["PYTHONDONTWRITEBYTECODE"] == env["PYTHONUNBUFFERED"] == "1"
    assert env["MPLCONFIGDIR"].startswith("/home/aimtrack/")
    made = " ".join(r for w, r in runtime if w == "RUN")
    assert "-o aimtrack -g aimtrack -m 0750 /data" in made  # the volume starts out writable
    assert "/home/aimtrack/.cache/matplotlib" in made
    assert ("VOLUME", '["/data"]') in runtime
    assert ("EXPOSE", env["AIMTRACK_WEB_PORT"]) in runtime
    assert ("ENTRYPOINT", '["aimtrack"]') in runtime
    assert ("CMD", '["run"]') in runtime


def _healthcheck() -> list[str]:
    [check] = [rest for word, rest in _instructions() if word == "HEALTHCHECK"]
    options, _, command = check.partition("CMD ")
    assert "--start-period=" in options
    argv = json.loads(command)
    assert isinstance(argv, list)
    return [str(part) for part in argv]


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = self.status if self.path == "/health" else 404
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_image_health_check_follows_health(
    health_server: ThreadingHTTPServer, status: int, healthy: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The HEALTHCHECK command itself, run against a /health that answers 200 or 503."""
    monkeypatch.setattr(_Health, "status", status)
    argv = _healthcheck()
    assert argv[0] == "python"
    port = health_server.server_address[1]
    done = subprocess.run(
        [sys.executable, *argv[1:]],
        env={**os.environ, "AIMTRACK_WEB_PORT": str(port)},
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode == 0) is healthy


def test_the_image_health_check_fails_when_nothing_listens() -> None:
    argv = _healthcheck()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound but never listening: connections are refused
        done = subprocess.run(
            [sys.executable, *argv[1:]],
            env={**os.environ, "AIMTRACK_WEB_PORT": str(sock.getsockname()[1])},
            capture_output=True,
            timeout=30,
            check=False,
        )
    assert done.returncode != 0


# --- what goes into the image ---------------------------------------------------------------


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or a parent wins."""
    parts = PurePosixPath(path).parts
    verdict = False
    for pattern in patterns:
        exclude = not pattern.startswith("!")
        wanted = PurePosixPath(pattern.lstrip("!").rstrip("/")).parts
        if any(_match(wanted, parts[:n]) for n in range(1, len(parts) + 1)):
            verdict = exclude
    return verdict


def _match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_match(pattern[1:], parts[n:]) for n in range(len(parts) + 1))
    return (
        bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _match(pattern[1:], parts[1:])
    )


@pytest.mark.parametrize(
    ("path", "in_image"),
    [
        (".env", False),
        ("data/aimtrack.db", False),
        (".venv/bin/python", False),
        (".git/config", False),
        ("tests/unit/test_config.py", False),
        ("aimtrack/__pycache__/cli.cpython-311.pyc", False),
        ("aimtrack/exports/__pycache__/service.cpython-311.pyc", False),
        ("pyproject.toml", True),
        ("constraints.txt", True),
        ("README.md", True),
        ("aimtrack/cli.py", True),
        ("aimtrack/exports/fonts/DejaVuSansCondensed.ttf", True),
        ("aimtrack/storage/migrations/versions/20261122_0001_initial_schema.py", True),
    ],
)
def test_the_build_context_holds_the_package_and_no_secrets(path: str, in_image: bool) -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert _ignored(path, patterns) is not in_image


def test_the_wheel_carries_the_fonts_and_migrations() -> None:
    """The image installs a wheel, so the fonts of the PDF export must be package data."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = pyproject["tool"]["setuptools"]["package-data"]
    for package, folder in [
        ("aimtrack.exports", "aimtrack/exports/fonts"),
        ("aimtrack.storage", "aimtrack/storage/migrations/versions"),
    ]:
        base = ROOT / package.replace(".", "/")
        files = [p for p in (ROOT / folder).iterdir() if p.is_file()]
        assert files
        for file in files:
            relative = file.relative_to(base).as_posix()
            assert any(fnmatch.fnmatchcase(relative, pattern) for pattern in data[package]), file
