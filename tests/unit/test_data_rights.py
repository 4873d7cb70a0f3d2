"""The pieces of /mijndata and /verwijder that need no database: safe names inside the
archive, the archive itself, and removing an erased user's folder."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aimtrack.core.errors import InvalidInput
from aimtrack.exports.archive import Member, safe_name, write_zip
from aimtrack.jobs.erase import remove_user_files


@pytest.mark.parametrize(
    "name", ["README.txt", "data.json", "files/12.jpg", "files/a_b-c.d.pdf", "a/b/c"]
)
def test_plain_relative_names_are_safe(name: str) -> None:
    assert safe_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/etc/passwd",
        "../up.txt",
        "files/../../up.txt",
        "files/./x",
        "files//x",
        "files/",
        "C:/x.txt",
        "C:x.txt",
        "files\\x.jpg",
        ".hidden",
        "files/ name.jpg",
        "bestand-é.jpg",
        "x\x00.jpg",
        "a" * 201,
    ],
)
def test_names_that_could_escape_or_confuse_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a safe name"):
        safe_name(name)


def test_the_archive_holds_texts_and_files_byte_for_byte(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(bytes(range(256)) * 40)
    target = tmp_path / "out.zip"
    size = write_zip(
        target,
        [Member("README.txt", text="Hallo é"), Member("files/1.jpg", source=photo)],
    )
    assert size == target.stat().st_size
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as archive:
        assert archive.testzip() is None
        assert archive.read("README.txt").decode() == "Hallo é"
        assert archive.read("files/1.jpg") == photo.read_bytes()
        assert archive.getinfo("files/1.jpg").compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("README.txt").compress_type == zipfile.ZIP_DEFLATED


def test_the_archive_refuses_a_bad_or_doubled_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a safe name"):
        write_zip(tmp_path / "a.zip", [Member("../x", text="")])
    with pytest.raises(ValueError, match="twice"):
        write_zip(tmp_path / "b.zip", [Member("x", text=""), Member("x", text="")])


def folder_with_files(data_dir: Path, user_id: int, *names: str) -> Path:
    folder = data_dir / "attachments" / str(user_id)
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_bytes(b"x")
    return folder


def test_the_folder_goes_as_a_whole(tmp_path: Path) -> None:
    folder = folder_with_files(tmp_path, 5, "a.jpg", "b.pdf", ".upload-x.part")
    other = folder_with_files(tmp_path, 6, "c.jpg")
    assert remove_user_files(tmp_path, 5) == 3
    assert not folder.exists()
    assert (other / "c.jpg").exists()
    assert remove_user_files(tmp_path, 5) == 0  # again: nothing left, no error


def test_for_a_new_account_with_the_id_only_old_unnamed_files_go(tmp_path: Path) -> None:
    folder = folder_with_files(tmp_path, 5, "old.jpg", "named.jpg", "new.jpg")
    created = datetime(2026, 1, 1, tzinfo=UTC)
    for name in ("old.jpg", "named.jpg"):
        os.utime(folder / name, (created.timestamp() - 60, created.timestamp() - 60))
    removed = remove_user_files(
        tmp_path, 5, keep=frozenset({"attachments/5/named.jpg"}), since=created
    )
    assert removed == 1
    assert sorted(p.name for p in folder.iterdir()) == ["named.jpg", "new.jpg"]


def test_a_linked_folder_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.jpg").write_bytes(b"x")
    (tmp_path / "attachments").mkdir()
    (tmp_path / "attachments" / "5").symlink_to(outside)
    with pytest.raises(ValueError, match="not a folder of attachments"):
        remove_user_files(tmp_path, 5)
    assert (outside / "keep.jpg").exists()


@pytest.mark.parametrize("user_id", [0, -1, 2**31])
def test_an_id_that_is_no_user_is_refused(tmp_path: Path, user_id: int) -> None:
    with pytest.raises(InvalidInput):
        remove_user_files(tmp_path, user_id)
