"""``aimtrack backup`` and ``aimtrack restore`` through the real command, as the owner runs them."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from aimtrack.backup.postgres_db import find_tool
from aimtrack.cli import EXIT_ERROR, EXIT_OK
from aimtrack.storage import migrate
from aimtrack.storage.engine import Database
from tests.helpers.backup_data import every_row, files_under, seed_installation, url_of
from tests.helpers.databases import BlankFactory

SECRET = "hunter2-must-not-leak"


async def aimtrack(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m aimtrack ARGS`` with these AIMTRACK_* settings and no others."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AIMTRACK_")}
    full_env.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aimtrack",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=full_env,
    )
    try:
        async with asyncio.timeout(120):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return subprocess.CompletedProcess(list(args), process.returncode, out.decode(), err.decode())


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == EXIT_ERROR, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("aimtrack: ")
    return lines[0]


async def test_back_up_and_restore_from_the_command_line(
    db: Database, backend: str, blank_databases: BlankFactory, tmp_path: Path
) -> None:
    await seed_installation(db, tmp_path / "data")
    source = {"AIMTRACK_DATABASE_URL": url_of(db), "AIMTRACK_DATA_DIR": str(tmp_path / "data")}
    target = {"AIMTRACK_DATA_DIR": str(tmp_path / "new")}  # SQLite: the default new/aimtrack.db
    if backend == "postgres":
        target["AIMTRACK_DATABASE_URL"] = (await blank_databases()).url
    archive = tmp_path / "aimtrack.tar.gz"

    made = await aimtrack(source, "backup", str(archive))

    assert made.returncode == EXIT_OK, made.stderr
    assert made.stderr == ""
    name = "postgresql" if backend == "postgres" else "sqlite"
    assert made.stdout.startswith(
        f"wrote {archive}: {name} database at revision {migrate.head_revision()},"
        " 10 attachment file(s), "
    )
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    again = one_error_line(await aimtrack(source, "backup", str(archive)))
    assert again == f"aimtrack: {archive} exists; choose another name or pass --overwrite"

    restored = await aimtrack(target, "restore", str(archive))

    assert restored.returncode == EXIT_OK, restored.stderr
    assert restored.stdout.startswith(f"restored {archive} (made ")
    assert restored.stdout.rstrip().endswith(
        f"{name} database at revision {migrate.head_revision()}, 10 attachment file(s)"
    )
    target_url = target.get(
        "AIMTRACK_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'new' / 'aimtrack.db'}"
    )
    assert await every_row(target_url) == await every_row(url_of(db))
    assert files_under(tmp_path / "new" / "attachments") == files_under(
        tmp_path / "data" / "attachments"
    )

    refused = one_error_line(await aimtrack(target, "restore", str(archive)))
    assert "already holds data" in refused
    assert "--force" in refused
    forced = await aimtrack(target, "restore", "--force", str(archive))
    assert forced.returncode == EXIT_OK, forced.stderr
    overwritten = await aimtrack(source, "backup", "--overwrite", str(archive))
    assert overwritten.returncode == EXIT_OK, overwritten.stderr


async def test_a_damaged_archive_is_one_line_and_exit_status_1(tmp_path: Path) -> None:
    archive = tmp_path / "aimtrack.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    env = {"AIMTRACK_DATA_DIR": str(tmp_path / "data")}

    line = one_error_line(await aimtrack(env, "restore", str(archive)))

    assert "is damaged or not a backup archive" in line
    assert not (tmp_path / "data").exists()


async def test_a_missing_pg_dump_is_one_clear_line(tmp_path: Path) -> None:
    env = {"AIMTRACK_DATABASE_URL": f"postgresql+asyncpg://aimtrack:{SECRET}@127.0.0.1:9/x"}
    empty = tmp_path / "bin"
    empty.mkdir()

    line = one_error_line(
        await aimtrack(env, "backup", "--pg-bin", str(empty), str(tmp_path / "b.tar.gz"))
    )

    assert line == f"aimtrack: pg_dump not found in {empty} (the folder given with --pg-bin)"


def _spying_tools(folder: Path, log: Path) -> None:
    """pg_dump, pg_restore and psql that note their arguments and whether they got a password
    in their environment, then run the real ones."""
    folder.mkdir()
    for name in ("pg_dump", "pg_restore", "psql"):
        real = find_tool(name)
        script = folder / name
        script.write_text(
            "#!/bin/sh\n"
            f'echo "{name} $(echo "$*" | tr "\\n" " ")" >> "{log}"\n'
            f'[ -n "$PGPASSWORD" ] && echo "{name} PGPASSWORD=$PGPASSWORD" >> "{log}"\n'
            f'exec "{real}" "$@"\n'
        )
        script.chmod(0o700)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_the_postgresql_password_travels_in_the_environment_only(
    db: Database, blank_databases: BlankFactory, tmp_path: Path
) -> None:
    """The throwaway server trusts every connection, so a password in the URL is harmless
    here; what matters is where the tools get it: never their command line."""
    await seed_installation(db, tmp_path / "data")
    with_password = make_url(url_of(db)).set(password=SECRET)
    source = {
        "AIMTRACK_DATABASE_URL": with_password.render_as_string(hide_password=False),
        "AIMTRACK_DATA_DIR": str(tmp_path / "data"),
    }
    blank = make_url((await blank_databases()).url).set(password=SECRET)
    target = {
        "AIMTRACK_DATABASE_URL": blank.render_as_string(hide_password=False),
        "AIMTRACK_DATA_DIR": str(tmp_path / "new"),
    }
    tools, log = tmp_path / "bin", tmp_path / "calls.log"
    _spying_tools(tools, log)
    archive = str(tmp_path / "aimtrack.tar.gz")

    made = await aimtrack(source, "backup", "--pg-bin", str(tools), archive)
    restored = await aimtrack(target, "restore", "--pg-bin", str(tools), archive)

    assert (made.returncode, restored.returncode) == (EXIT_OK, EXIT_OK), (
        made.stderr + restored.stderr
    )
    calls = log.read_text().splitlines()
    commands = [line for line in calls if "PGPASSWORD=" not in line]
    assert [line.split()[0] for line in commands] == ["pg_dump", "pg_restore", "psql"]
    assert not any(SECRET in line for line in commands)
    assert f"pg_dump PGPASSWORD={SECRET}" in calls
    assert f"psql PGPASSWORD={SECRET}" in calls
    for result in (made, restored):
        assert SECRET not in result.stdout + result.stderr
