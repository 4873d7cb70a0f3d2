"""The ``aimtrack`` command, end to end through its real entry point.

What a command prints, its exit status and what it does to the database are checked with
:func:`aimtrack.cli.main` in this process (``tests/helpers/cli.py``: ``aimtrack``); ``aimtrack
run`` and ``aimtrack chat`` read standard input and the secrets test reads everything a process
writes, so those run as child processes (``spawn``)."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from aimtrack.cli import EXIT_ERROR, EXIT_OK
from aimtrack.storage import migrate
from tests.helpers.chat import jpeg
from tests.helpers.cli import aimtrack, run_main, spawn
from tests.helpers.databases import BlankDatabase

SUBCOMMANDS = ["run", "chat", "db", "users", "export", "jobs", "backup", "restore"]


def test_help_lists_every_subcommand() -> None:
    result = aimtrack("--help")
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert f"    {name}" in result.stdout


@pytest.mark.parametrize(
    "args",
    [[name, "--help"] for name in SUBCOMMANDS]
    + [["db", "upgrade", "--help"], ["users", "allow", "--help"], ["jobs", "retry", "--help"]],
    ids=" ".join,
)
def test_every_subcommand_has_help(args: list[str]) -> None:
    done = aimtrack(*args)
    assert done.returncode == 0
    assert "usage: aimtrack" in done.stdout


def test_db_upgrade_creates_the_schema_in_an_empty_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    result = aimtrack("db", "upgrade", env={"AIMTRACK_DATA_DIR": str(data)})
    assert result.returncode == 0, result.stderr
    assert f"is at revision {migrate.head_revision()}" in result.stdout
    with sqlite3.connect(data / "aimtrack.db") as connection:
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
    assert {
        "users",
        "weapons",
        "sessions",
        "session_weapon_entries",
        "attachments",
        "jobs",
    } <= tables
    assert journal == "wal"


@pytest.mark.storage
def test_db_upgrade_on_postgresql(blank_database: BlankDatabase) -> None:
    result = aimtrack("db", "upgrade", env={"AIMTRACK_DATABASE_URL": blank_database.url})
    assert result.returncode == 0, result.stderr
    assert f"is at revision {migrate.head_revision()}" in result.stdout
    if blank_database.backend == "postgres":
        assert "postgresql+asyncpg://" in result.stdout


def test_db_current_tells_whether_an_upgrade_is_due() -> None:
    head = migrate.head_revision()
    assert run_main("db", "current") == (
        EXIT_OK,
        f"revision none: behind (newest is {head}); run: aimtrack db upgrade\n",
    )
    run_main("db", "upgrade")
    assert run_main("db", "current") == (EXIT_OK, f"revision {head}: up to date\n")


def test_users_allow_list_deny() -> None:
    env = {"AIMTRACK_ALLOWED_USERS": "555"}
    run_main("db", "upgrade", env=env)
    assert run_main("users", "allow", "123", "--admin", env=env) == (
        EXIT_OK,
        "allowed Telegram user 123 (admin)\n",
    )
    code, listing = run_main("users", "list", env=env)
    assert code == EXIT_OK
    rows = listing.splitlines()
    assert rows[1].split() == ["123", "yes", "yes", "-"]
    assert rows[2].split()[:3] == ["555", "yes", "no"]
    assert "AIMTRACK_ALLOWED_USERS" in rows[2]
    code, denied = run_main("users", "deny", "123", env=env)
    assert denied == "denied Telegram user 123; their data is kept\n"
    code, listing = run_main("users", "list", env=env)
    assert listing.splitlines()[1].split() == ["123", "no", "no", "-"]
    _, env_denied = run_main("users", "deny", "555", env=env)
    assert "still allowed by AIMTRACK_ALLOWED_USERS" in env_denied


@pytest.mark.parametrize("bad", ["abc", "-5", "0"])
def test_users_allow_refuses_what_is_not_a_telegram_id(bad: str) -> None:
    done = aimtrack("users", "allow", "--", bad)
    assert done.returncode == 2
    assert "is not a Telegram user id" in done.stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AIMTRACK_WEB_PORT": "abc"}, "AIMTRACK_WEB_PORT"),
        ({"AIMTRACK_TIMEZONE": "Mars/Base"}, "AIMTRACK_TIMEZONE"),
        ({"AIMTRACK_ALLOWED_USERS": "12,x"}, "AIMTRACK_ALLOWED_USERS"),
        ({"AIMTRACK_SECRET_KEY": "short-and-secret"}, "AIMTRACK_SECRET_KEY"),
        ({"AIMTRACK_DATABASE_URL": "postgres://u:short-and-secret@h/db"}, "AIMTRACK_DATABASE_URL"),
        ({"AIMTRACK_DATABASE_URL": "postgresql+asyncpg://h:port/db"}, "AIMTRACK_DATABASE_URL"),
    ],
)
def test_a_bad_setting_gives_one_line_not_a_traceback(env: dict[str, str], named: str) -> None:
    result = aimtrack("users", "list", env=env)
    assert result.returncode == EXIT_ERROR
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("aimtrack: invalid configuration: ")
    assert named in lines[0]
    assert "short-and-secret" not in result.stderr


def test_run_without_a_token_upgrades_the_database_and_opens_the_console_chat(
    tmp_path: Path,
) -> None:
    result = spawn("run", stdin="/help\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert f"is at revision {migrate.head_revision()}" in result.stdout
    assert "starting the console chat" in result.stdout
    assert "/sessie" in result.stdout
    assert (tmp_path / "data" / "aimtrack.db").exists()


def test_a_newcomer_logs_a_session_in_the_console_and_sees_it_listed(tmp_path: Path) -> None:
    """The issue's "done when": the typical session, typed into `aimtrack chat`."""
    photo = tmp_path / "target.jpg"
    photo.write_bytes(jpeg())
    script = [
        "/sessie",
        "CZ 75",  # no weapons yet: type the name
        "1",  # the "add" button: 'CZ 75'
        "25",
        "50 431",
        "1",  # "another weapon"
        "Glock 17",
        "1",  # the "add" button: 'Glock 17'
        "15",
        "30 270,5",
        f"/photo {photo}",
        "5",  # ✓ save: [1] another weapon [2] photo [3] notes [4] remove a line [5] save
        "/sessies",
    ]
    result = spawn("chat", "--user", "anna", stdin="\n".join(script) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Opgeslagen" in result.stdout, result.stdout
    assert "CZ 75 — 25 m, 50 schoten, 431" in result.stdout
    assert "Glock 17 — 15 m, 30 schoten, 270,5" in result.stdout
    assert "Je sessies (1–1 van 1)" in result.stdout
    assert len(list((tmp_path / "data" / "attachments").rglob("*.jpg"))) == 1


def test_user_commands_before_the_schema_exists_say_what_to_run() -> None:
    result = aimtrack("users", "allow", "123")
    assert result.returncode == EXIT_ERROR
    assert result.stderr.strip().splitlines() == [
        "aimtrack: the database has no AimTrack schema yet; run: aimtrack db upgrade"
    ]


def test_an_unreachable_database_gives_one_line() -> None:
    with socket.socket() as probe:  # a port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+asyncpg://aimtrack:hunter2@127.0.0.1:{port}/aimtrack"
    result = aimtrack("db", "upgrade", env={"AIMTRACK_DATABASE_URL": url})
    assert result.returncode == EXIT_ERROR
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "hunter2" not in result.stderr


def test_secrets_never_appear_in_output() -> None:
    secrets = {
        "AIMTRACK_TELEGRAM_TOKEN": "123456:token-that-must-not-leak",
        "AIMTRACK_AI_API_KEY": "sk-key-that-must-not-leak",
        "AIMTRACK_SECRET_KEY": "signing-key-that-must-not-leak-0123456789abcdef",
    }
    env = {
        **secrets,
        "AIMTRACK_AI_BASE_URL": "http://127.0.0.1:9/v1",
        "AIMTRACK_AI_MODEL": "m",
        "AIMTRACK_TELEGRAM_BASE_URL": "http://127.0.0.1:9",  # nothing listens: fails at once
    }
    outputs = [spawn(*args, env=env) for args in (["db", "upgrade"], ["users", "list"], ["run"])]
    assert [result.returncode for result in outputs] == [EXIT_OK, EXIT_OK, EXIT_ERROR]
    assert outputs[2].stderr.strip().splitlines() == [
        "aimtrack: cannot reach the Telegram Bot API at http://127.0.0.1:9/: httpx.ConnectError:"
        " All connection attempts failed"
    ]
    for result in outputs:
        for value in secrets.values():
            assert value not in result.stdout + result.stderr
