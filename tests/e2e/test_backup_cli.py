"""``aimtrack backup`` and ``aimtrack restore`` through the real command, as the owner runs them:
:func:`aimtrack.cli.main` in this process (``tests/helpers/cli.py``). The PostgreSQL password
test runs ``python -m aimtrack`` as a child process: how the tools it starts (pg_dump,
pg_restore, psql) get the password, from its environment, is what it checks."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from aimtrack.backup.postgres_db import find_tool
from aimtrack.cli import EXIT_ERROR, EXIT_OK
from aimtrack.storage import migrate
from aimtrack.storage.engine import Database
from tests.helpers.backup_data import every_row, files_under, seed_installation, url_of
from tests.helpers.cli import aimtrack_async, spawn_async
from tests.helpers.databases import BlankFactory

SECRET = "hunter2-must-not-leak"


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == EXIT_ERROR, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("aimtrack: ")
    return lines[0]


@pytest.mark.storage
async def test_back_up_and_restore_from_the_command_line(
    db: Database, backend: str, blank_databases: BlankFactory, tmp_path: Path
) -> None:
    await seed_installation(db, tmp_path / "data")
    source = {"AIMTRACK_DATABASE_URL": url_of(db), "AIMTRACK_DATA_DIR": str(tmp_path / "data")}
    target = {"AIMTRACK_DATA_DIR": str(tmp_path / "new")}  # SQLite: the default new/aimtrack.db
    if backend == "postgres":
        target["AIMTRACK_DATABASE_URL"] = (await blank_databases()).url
    archive = tmp_path / "aimtrack.tar.gz"

    made = await aimtrack_async("backup", str(archive), env=source)

    assert made.returncode == EXIT_OK, made.stderr
    assert made.stderr == ""
    name = "postgresql" if backend == "postgres" else "sqlite"
    assert made.stdout.startswith(
        f"wrote {archive}: {name} database at revision {migrate.head_revision()},"
        " 10 attachment file(s), "
    )
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    again = one_error_line(await aimtrack_async("backup", str(archive), env=source))
    assert again == f"aimtrack: {archive} exists; choose another name or pass --overwrite"

    restored = await aimtrack_async("restore", str(archive), env=target)

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

    refused = one_error_line(await aimtrack_async("restore", str(archive), env=target))
    assert "already holds data" in refused
    assert "--force" in refused
    forced = await aimtrack_async("restore", "--force", str(archive), env=target)
    assert forced.returncode == EXIT_OK, forced.stderr
    overwritten = await aimtrack_async("backup", "--overwrite", str(archive), env=source)
    assert overwritten.returncode == EXIT_OK, overwritten.stderr


async def test_a_damaged_archive_is_one_line_and_exit_status_1(tmp_path: Path) -> None:
    archive = tmp_path / "aimtrack.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    env = {"AIMTRACK_DATA_DIR": str(tmp_path / "data")}

    line = one_error_line(await aimtrack_async("restore", str(archive), env=env))

    assert "is damaged or not a backup archive" in line
    assert not (tmp_path / "data").exists()


async def test_a_missing_pg_dump_is_one_clear_line(tmp_path: Path) -> None:
    env = {"AIMTRACK_DATABASE_URL": f"postgresql+asyncpg://aimtrack:{SECRET}@127.0.0.1:9/x"}
    empty = tmp_path / "bin"
    empty.mkdir()

    line = one_error_line(
        await aimtrack_async("backup", "--pg-bin", str(empty), str(tmp_path / "b.tar.gz"), env=env)
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

    made = await spawn_async("backup", "--pg-bin", str(tools), archive, env=source)
    restored = await spawn_async("restore", "--pg-bin", str(tools), archive, env=target)

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
