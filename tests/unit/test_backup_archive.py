"""The archive's manifest and member names, and how the PostgreSQL tools are found and given
their connection: the parts of backup and restore that need no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aimtrack.backup.archive import (
    FORMAT_VERSION,
    ArchiveError,
    BackupError,
    Manifest,
    Member,
    is_attachment_name,
    read_manifest,
    write_archive,
)
from aimtrack.backup.postgres_db import find_tool, libpq_environment, run_tool

SHA = "0" * 64
NOW = datetime(2026, 12, 1, 20, tzinfo=UTC)


def manifest(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": "aimtrack-backup",
        "format_version": FORMAT_VERSION,
        "created_at": "2026-12-01T20:00:00Z",
        "aimtrack_version": "0.1.0",
        "backend": "sqlite",
        "alembic_revision": "0004",
        "database": "database/aimtrack.sqlite3",
        "members": [
            {"name": "database/aimtrack.sqlite3", "size": 10, "sha256": SHA},
            {"name": "attachments/1/ab12.jpg", "size": 3, "sha256": SHA},
        ],
        "missing_attachments": [],
    }
    document.update(changes)
    return document


def parse(document: Any) -> Manifest:
    return Manifest.from_json(json.dumps(document).encode())


def test_a_manifest_reads_back_what_was_written() -> None:
    written = Manifest(
        created_at=NOW,
        aimtrack_version="0.1.0",
        backend="postgresql",
        revision="0004",
        database="database/aimtrack.pgdump",
        members=(Member("database/aimtrack.pgdump", 5, SHA), Member("attachments/2/x.pdf", 1, SHA)),
        missing_attachments=("attachments/2/gone.jpg",),
    )
    assert Manifest.from_json(written.to_json()) == written
    assert json.loads(written.to_json())["created_at"] == "2026-12-01T20:00:00Z"
    assert written.attachments == (Member("attachments/2/x.pdf", 1, SHA),)


def _member(**changes: Any) -> list[dict[str, Any]]:
    return [
        {"name": "database/aimtrack.sqlite3", "size": 10, "sha256": SHA},
        {"name": "attachments/1/ab12.jpg", "size": 3, "sha256": SHA, **changes},
    ]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("not an object", "names no aimtrack-backup"),
        (manifest(format="tar"), "names no aimtrack-backup"),
        (manifest(format_version="1"), "no valid format_version"),
        (manifest(format_version=True), "no valid format_version"),
        (manifest(format_version=0), "no valid format_version"),
        (manifest(format_version=FORMAT_VERSION + 1), "made by a newer AimTrack"),
        (manifest(members={}), "no valid members"),
        (manifest(members=["attachments/1/a.jpg"]), "not an object"),
        (manifest(members=_member(sha256="A" * 64)), "valid name, size and sha256"),
        (manifest(members=_member(sha256=SHA[:-1])), "valid name, size and sha256"),
        (manifest(members=_member(size=-1)), "valid name, size and sha256"),
        (manifest(members=_member(size=True)), "valid name, size and sha256"),
        (manifest(members=_member(size="3")), "valid name, size and sha256"),
        (manifest(members=_member(name=7)), "valid name, size and sha256"),
        (manifest(members=_member(name="database/aimtrack.sqlite3")), "lists a member twice"),
        (manifest(database="database/other.db"), "names no database member"),
        (manifest(database="../aimtrack.db"), "names no database member"),
        (manifest(backend="mysql"), "unknown database backend 'mysql'"),
        (manifest(alembic_revision="../../x"), "no valid alembic_revision"),
        (manifest(alembic_revision=4), "no valid alembic_revision"),
        (manifest(created_at="yesterday"), "created_at is not a date"),
        (manifest(created_at="2026-12-01T20:00:00"), "created_at has no time zone"),
        (manifest(missing_attachments=["../etc/passwd"]), "missing_attachments"),
        (manifest(missing_attachments=None), "no valid missing_attachments"),
    ],
)
def test_a_manifest_that_is_not_exactly_right_is_refused(document: Any, reason: str) -> None:
    with pytest.raises(ArchiveError, match=reason):
        parse(document)


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "/etc/passwd",
        "attachments/1/../../x",
        "attachments/1/..",
        "attachments/1/.hidden",
        "attachments/1/a/b.jpg",
        "attachments/0/a.jpg",
        "attachments/01/a.jpg",
        "attachments/x/a.jpg",
        "attachments/1/a b.jpg",
        "attachments/1/a\\b.jpg",
        "attachments/1/a\x00.jpg",
        "attachments//a.jpg",
        "attachments/1/",
        "database/other.sqlite3",
        "manifest.json",
        "./attachments/1/a.jpg",
        "Attachments/1/a.jpg",
    ],
)
def test_only_plain_attachment_paths_are_attachment_names(name: str) -> None:
    assert not is_attachment_name(name)
    with pytest.raises(ArchiveError, match="unsafe or unknown name"):
        parse(manifest(members=_member(name=name)))


@pytest.mark.parametrize("name", ["attachments/1/ab12.jpg", "attachments/42/x-y_z.2.pdf"])
def test_what_the_bot_writes_is_an_attachment_name(name: str) -> None:
    assert is_attachment_name(name)


def test_an_archive_is_written_privately_and_read_back(tmp_path: Path) -> None:
    source = tmp_path / "db"
    source.write_bytes(b"0123456789")
    written = Manifest(
        created_at=NOW,
        aimtrack_version="0.1.0",
        backend="sqlite",
        revision="0004",
        database="database/aimtrack.sqlite3",
        members=(
            Member(
                "database/aimtrack.sqlite3",
                10,
                "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882",
            ),
        ),
    )
    size = write_archive(
        tmp_path / "b.tar.gz", written, {"database/aimtrack.sqlite3": source}, overwrite=False
    )
    assert size == (tmp_path / "b.tar.gz").stat().st_size
    assert read_manifest(tmp_path / "b.tar.gz") == written
    source.write_bytes(b"changed!!!")  # same size, other bytes: the manifest no longer holds
    with pytest.raises(BackupError, match="changed while it was being archived"):
        write_archive(
            tmp_path / "c.tar.gz", written, {"database/aimtrack.sqlite3": source}, overwrite=False
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.tar.gz", "db"]


def test_libpq_gets_the_connection_and_the_password_in_its_environment() -> None:
    env = libpq_environment("postgresql+asyncpg://anna:p%40ss%20word@db.example:6543/aimtrack")
    assert env["PGHOST"] == "db.example"
    assert env["PGPORT"] == "6543"
    assert env["PGUSER"] == "anna"
    assert env["PGDATABASE"] == "aimtrack"
    assert env["PGPASSWORD"] == "p@ss word"
    assert "PGSSLMODE" not in env


@pytest.mark.parametrize(
    ("query", "mode"),
    [("ssl=require", "require"), ("ssl=true", "require"), ("sslmode=verify-full", "verify-full")],
)
def test_the_ssl_setting_of_the_url_reaches_libpq(query: str, mode: str) -> None:
    assert libpq_environment(f"postgresql+asyncpg://a@h/d?{query}")["PGSSLMODE"] == mode


def test_a_socket_folder_in_the_url_is_the_host() -> None:
    env = libpq_environment("postgresql+asyncpg://a@/aimtrack?host=/run/postgresql")
    assert env["PGHOST"] == "/run/postgresql"
    assert "PGPASSWORD" not in env


def _tool(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / name
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    return tool


def test_pg_tools_are_found_in_the_folder_given_then_path_then_the_newest_debian_folder(
    tmp_path: Path,
) -> None:
    given = _tool(tmp_path / "given", "pg_dump")
    on_path = _tool(tmp_path / "path", "pg_dump")
    _tool(tmp_path / "lib" / "13" / "bin", "pg_dump")
    newest = _tool(tmp_path / "lib" / "15" / "bin", "pg_dump")
    lib = tmp_path / "lib"
    empty = str(tmp_path / "nothing")

    assert find_tool("pg_dump", tmp_path / "given", fallback_root=lib) == given
    assert find_tool("pg_dump", search_path=str(tmp_path / "path"), fallback_root=lib) == on_path
    assert find_tool("pg_dump", search_path=empty, fallback_root=lib) == newest
    with pytest.raises(BackupError, match=r"pg_dump not found in .*/x \(the folder given with"):
        find_tool("pg_dump", tmp_path / "path" / "x")
    with pytest.raises(BackupError, match=r"apt install postgresql-client\) or name .* --pg-bin"):
        find_tool("pg_dump", search_path=empty, fallback_root=tmp_path / "none")


async def test_a_failing_tool_is_one_line_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIMTRACK_TELEGRAM_TOKEN", "123:bot-token")
    tool = tmp_path / "pg_dump"
    tool.write_text(
        "#!/bin/sh\n"
        'echo "pg_dump: warning: something minor" >&2\n'
        'echo "pg_dump: error: password authentication failed ($PGPASSWORD)" >&2\n'
        'echo "$AIMTRACK_TELEGRAM_TOKEN" > "$(dirname "$0")/inherited"\n'
        "exit 1\n"
    )
    tool.chmod(0o700)
    with pytest.raises(BackupError) as failed:
        await run_tool(tool, "--format=custom", env={"PGPASSWORD": "s3cret"})
    assert str(failed.value) == (
        "pg_dump failed: pg_dump: error: password authentication failed (***)"
    )
    assert (tmp_path / "inherited").read_text() == "\n"  # AimTrack's settings stay home
