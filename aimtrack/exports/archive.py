"""A zip archive from texts and files on disk, with member names that cannot escape.

Used by ``/mijndata``. A member name is refused (:class:`ValueError`) unless it is a plain
relative path of ASCII letters, digits, ``.``, ``_`` and ``-`` between slashes, each part
starting with a letter or digit: no leading ``/``, no drive, no backslash, no ``.`` or ``..``.
So unpacking the archive anywhere writes inside the folder it is unpacked in.
Images and PDFs are stored as they are (they do not compress); texts are deflated.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_SAFE_PART: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_MEMBER_NAME: Final = 200


@dataclass(frozen=True, slots=True)
class Member:
    """One entry of the archive: ``text`` written as UTF-8, or the file at ``source``."""

    name: str
    text: str | None = None
    source: Path | None = None


def safe_name(name: str) -> str:
    """``name`` if it is a safe member name (see the module), else ValueError."""
    # Each part starts with a letter or digit: no empty part (a leading or doubled "/"),
    # no "." or "..", and no backslash, colon, space or anything outside ASCII.
    if len(name) > MAX_MEMBER_NAME or not all(
        _SAFE_PART.fullmatch(part) for part in name.split("/")
    ):
        msg = f"{name!r} is not a safe name inside an archive"
        raise ValueError(msg)
    return name


def write_zip(target: Path, members: Iterable[Member]) -> int:
    """Write the archive to ``target``; returns its size in bytes. Blocking: run it in a
    thread. A member whose source file is missing raises (FileNotFoundError)."""
    seen: set[str] = set()
    with zipfile.ZipFile(target, "w") as archive:
        for member in members:
            name = safe_name(member.name)
            if name in seen:
                msg = f"{name!r} is in the archive twice"
                raise ValueError(msg)
            seen.add(name)
            if member.source is not None:
                archive.write(member.source, name, compress_type=zipfile.ZIP_STORED)
            else:
                archive.writestr(
                    name, (member.text or "").encode(), compress_type=zipfile.ZIP_DEFLATED
                )
    return target.stat().st_size
