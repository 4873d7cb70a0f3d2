"""The backup archive: a gzipped tar whose first member, ``manifest.json``, lists every other
member with its size and SHA-256.

Members are named ``database/<file>`` (exactly one, the database) and
``attachments/<user id>/<file>``. Nothing else is written, and nothing else is read back:
a member of another type (a link, a device, a folder), an unsafe name (``../x``, ``/etc/x``,
hidden files), a member the manifest does not list, one it lists twice or not at all, a size
or checksum that differs, or a damaged gzip stream (its CRC is checked at the end) refuses
the whole archive. :func:`extract_verified` writes only into a staging folder the caller
owns, so a refusal leaves the installation as it was.

:func:`write_archive` writes beside the target through a temporary file (0600), syncs it
and renames it into place, refusing to replace an existing file unless told to.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

from aimtrack.core.errors import AimTrackError

FORMAT: Final = "aimtrack-backup"
FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
BACKENDS: Final = ("sqlite", "postgresql")
MAX_MANIFEST_BYTES: Final = 16 * 1024 * 1024
_CHUNK: Final = 1024 * 1024
_FILE_MODE: Final = 0o600
_DIR_MODE: Final = 0o700
_PART: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_USER_ID: Final = re.compile(r"[1-9][0-9]{0,9}")
_SHA256: Final = re.compile(r"[0-9a-f]{64}")
_REVISION: Final = re.compile(r"[A-Za-z0-9_]{1,64}")


class BackupError(AimTrackError):
    """A backup or restore that cannot go on; the message says why in one line."""


class ArchiveError(BackupError):
    """The archive is not a backup this AimTrack can restore, or it is damaged."""


class SourceChanged(BackupError):
    """A file changed or disappeared while it was being archived."""


def is_attachment_name(name: str) -> bool:
    """``attachments/<user id>/<file>``, the only shape an attachment has in an archive."""
    parts = name.split("/")
    return (
        len(parts) == 3  # attachments / user / file
        and parts[0] == "attachments"
        and _USER_ID.fullmatch(parts[1]) is not None
        and _PART.fullmatch(parts[2]) is not None
    )


def is_database_name(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[0] == "database" and _PART.fullmatch(parts[1]) is not None


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    created_at: datetime
    aimtrack_version: str
    backend: str
    revision: str
    database: str  # the member that holds the database
    members: tuple[Member, ...]
    missing_attachments: tuple[str, ...] = field(default=())

    @property
    def attachments(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.name != self.database)

    def to_json(self) -> bytes:
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aimtrack_version": self.aimtrack_version,
            "backend": self.backend,
            "alembic_revision": self.revision,
            "database": self.database,
            "members": [{"name": m.name, "size": m.size, "sha256": m.sha256} for m in self.members],
            "missing_attachments": list(self.missing_attachments),
        }
        return (json.dumps(document, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        """Parse and check a manifest; anything unexpected is an :class:`ArchiveError`."""
        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArchiveError(f"the manifest is not valid JSON ({exc})") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ArchiveError("not an AimTrack backup (the manifest names no aimtrack-backup)")
        version = document.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ArchiveError("the manifest has no valid format_version")
        if version > FORMAT_VERSION:
            msg = (
                f"the backup uses archive format {version}, made by a newer AimTrack;"
                f" this one reads format {FORMAT_VERSION}"
            )
            raise ArchiveError(msg)
        members = tuple(_member(item) for item in _field(document, "members", list))
        names = [m.name for m in members]
        if len(set(names)) != len(names):
            raise ArchiveError("the manifest lists a member twice")
        database = _field(document, "database", str)
        if not is_database_name(database) or database not in names:
            raise ArchiveError("the manifest names no database member")
        if any(not is_attachment_name(n) for n in names if n != database):
            raise ArchiveError("the manifest lists a member with an unsafe or unknown name")
        missing = tuple(_field(document, "missing_attachments", list))
        if not all(isinstance(n, str) and is_attachment_name(n) for n in missing):
            raise ArchiveError("the manifest's missing_attachments are not attachment paths")
        backend = _field(document, "backend", str)
        if backend not in BACKENDS:
            raise ArchiveError(f"the manifest names an unknown database backend {backend!r}")
        revision = _field(document, "alembic_revision", str)
        if _REVISION.fullmatch(revision) is None:
            raise ArchiveError("the manifest has no valid alembic_revision")
        try:
            created_at = datetime.fromisoformat(_field(document, "created_at", str))
        except ValueError:
            raise ArchiveError("the manifest's created_at is not a date and time") from None
        if created_at.tzinfo is None:
            raise ArchiveError("the manifest's created_at has no time zone")
        return cls(
            created_at=created_at.astimezone(UTC),
            aimtrack_version=_field(document, "aimtrack_version", str)[:50],
            backend=backend,
            revision=revision,
            database=database,
            members=members,
            missing_attachments=missing,
        )


def _field(document: dict[str, Any], name: str, kind: type[Any]) -> Any:
    value = document.get(name)
    if not isinstance(value, kind):
        raise ArchiveError(f"the manifest has no valid {name}")
    return value


def _member(item: object) -> Member:
    if not isinstance(item, dict):
        raise ArchiveError("the manifest lists a member that is not an object")
    name, size, sha = item.get("name"), item.get("size"), item.get("sha256")
    if (
        not isinstance(name, str)
        or not isinstance(size, int)
        or isinstance(size, bool)
        or size < 0
        or not isinstance(sha, str)
        or _SHA256.fullmatch(sha) is None
    ):
        raise ArchiveError("the manifest lists a member without a valid name, size and sha256")
    return Member(name, size, sha)


def file_digest(path: Path) -> tuple[int, str]:
    """(size, SHA-256) of a file."""
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
        return os.fstat(file.fileno()).st_size, digest


# --- writing --------------------------------------------------------------------------------


def write_archive(
    target: Path, manifest: Manifest, sources: Mapping[str, Path], *, overwrite: bool
) -> int:
    """Write the archive to ``target`` (0600) and return its size in bytes.

    Each source is streamed and checked against its manifest entry again; a file that changed
    or vanished since it was listed raises :class:`SourceChanged` and nothing is left behind.
    """
    if not overwrite and target.exists():
        raise BackupError(f"{target} exists; choose another name or pass --overwrite")
    folder = target.parent
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            os.fchmod(raw.fileno(), _FILE_MODE)
            stamp = manifest.created_at.timestamp()
            with (
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=int(stamp)) as zipped,
                tarfile.open(fileobj=zipped, mode="w|", format=tarfile.PAX_FORMAT) as tar,
            ):
                data = manifest.to_json()
                tar.addfile(_info(MANIFEST, len(data), stamp), io.BytesIO(data))
                for member in manifest.members:
                    _add(tar, member, sources[member.name], stamp)
            raw.flush()
            os.fsync(raw.fileno())
            size = os.fstat(raw.fileno()).st_size
        _publish(temp, target, overwrite=overwrite)
    finally:
        temp.unlink(missing_ok=True)
    fsync_dir(folder)
    return size


def _info(name: str, size: int, stamp: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, _FILE_MODE, int(stamp)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _Hashing(io.RawIOBase):
    """Reads a file for tarfile and hashes what it hands over."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, member: Member, source: Path, stamp: float) -> None:
    try:
        with source.open("rb") as file:
            reader = _Hashing(file)
            tar.addfile(_info(member.name, member.size, stamp), reader)
            longer = bool(file.read(1))
    except FileNotFoundError:
        raise SourceChanged(f"{member.name} disappeared while it was being archived") from None
    except OSError as exc:
        if exc.errno is None and "unexpected end of data" in str(exc):  # tarfile: file shrank
            raise SourceChanged(f"{member.name} changed while it was being archived") from None
        raise
    if longer or reader.digest.hexdigest() != member.sha256:
        raise SourceChanged(f"{member.name} changed while it was being archived")


def _publish(temp: Path, target: Path, *, overwrite: bool) -> None:
    """Rename into place; without ``overwrite`` a link makes "only if absent" atomic."""
    if overwrite:
        temp.replace(target)
        return
    try:
        os.link(temp, target)
    except FileExistsError:
        raise BackupError(f"{target} exists; choose another name or pass --overwrite") from None
    except OSError as exc:  # a file system without hard links (FAT, some network shares)
        if exc.errno not in {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV}:
            raise
        if target.exists():
            raise BackupError(f"{target} exists; choose another name or pass --overwrite") from None
        temp.replace(target)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- reading --------------------------------------------------------------------------------


@contextmanager
def _reading(archive: Path) -> Iterator[tuple[tarfile.TarFile, gzip.GzipFile]]:
    """The archive as a tar stream over a gzip reader that checks the CRC at its end; errors
    of the reading side say that the archive is damaged."""
    try:
        raw = archive.open("rb")
    except FileNotFoundError:
        raise BackupError(f"{archive} does not exist") from None
    with (
        raw,
        gzip.GzipFile(fileobj=raw, mode="rb") as zipped,
        _damage(archive),
        tarfile.open(fileobj=zipped, mode="r|") as tar,
    ):
        yield tar, zipped


@contextmanager
def _damage(archive: Path) -> Iterator[None]:
    try:
        yield
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        detail = str(exc) or type(exc).__name__
        raise ArchiveError(f"{archive} is damaged or not a backup archive ({detail})") from None


def _read_manifest(archive: Path, tar: tarfile.TarFile) -> Manifest:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isreg():
        raise ArchiveError(f"{archive} is not an AimTrack backup (no manifest.json first)")
    if first.size > MAX_MANIFEST_BYTES:
        raise ArchiveError("the manifest is implausibly large")
    source = tar.extractfile(first)
    assert source is not None  # noqa: S101 - a regular member always has a file
    return Manifest.from_json(source.read())


def read_manifest(archive: Path) -> Manifest:
    """Only the manifest (the first member): cheap, for the checks before a full pass."""
    with _reading(archive) as (tar, _zipped):
        return _read_manifest(archive, tar)


def extract_verified(archive: Path, into: Path, expected: Manifest) -> None:
    """Extract every member below ``into`` (an empty folder the caller owns), verifying its
    name, type, size and SHA-256 against the manifest, and the gzip CRC at the end.

    Raises :class:`ArchiveError` on any mismatch; ``OSError`` (a full disk) passes through.
    Either way the caller removes ``into``; nothing outside it was written.
    """
    with _reading(archive) as (tar, zipped):
        manifest = _read_manifest(archive, tar)
        if manifest != expected:
            raise ArchiveError(f"{archive} changed while it was being restored")
        wanted = {m.name: m for m in manifest.members}
        seen: set[str] = set()
        while (info := tar.next()) is not None:
            member = wanted.get(info.name)
            if member is None:
                raise ArchiveError(f"the archive holds {info.name!r}, which the manifest omits")
            if info.name in seen:
                raise ArchiveError(f"the archive holds {info.name!r} twice")
            if not info.isreg():
                raise ArchiveError(f"{info.name!r} in the archive is not a regular file")
            if info.size != member.size:
                raise ArchiveError(f"{info.name!r} has another size than the manifest says")
            seen.add(info.name)
            _extract(tar, info, member, into)
        while zipped.read(_CHUNK):  # the rest of the stream, so that its CRC is checked
            pass
    missing = sorted(set(wanted) - seen)
    if missing:
        raise ArchiveError(f"the archive lacks {missing[0]!r}, which the manifest lists")


def _extract(tar: tarfile.TarFile, info: tarfile.TarInfo, member: Member, into: Path) -> None:
    target = into.joinpath(*member.name.split("/"))
    for folder in reversed(target.relative_to(into).parents[:-1]):
        (into / folder).mkdir(mode=_DIR_MODE, exist_ok=True)
    source = tar.extractfile(info)
    assert source is not None  # noqa: S101 - a regular member always has a file
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != member.sha256:
        raise ArchiveError(f"{member.name!r} does not match its checksum: the backup is damaged")
