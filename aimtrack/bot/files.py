"""Validate and store uploaded target photos and score-card PDFs.

Rules for what the bot accepts:

* **Images** are JPEG, PNG or WEBP, decided by the *content* (Pillow), never by the file name or
  the declared MIME type. A phone camera's multi-picture JPEG (Pillow calls it MPO) is a JPEG.
  The byte size is checked before anything is decoded (at most :data:`MAX_PHOTO_BYTES`). The
  pixel count is read from the header and refused above :data:`MAX_IMAGE_PIXELS` *before* any
  pixel is decoded, so a small file announcing a huge picture (a decompression bomb) costs no
  memory. Pillow's own bomb check raises here instead of warning. The image is then verified
  (``verify()``, e.g. the PNG checksums) and fully decoded once from a fresh open, so truncated
  or corrupt data is refused. Pillow's global settings are never changed; truncated images are
  only detected while ``ImageFile.LOAD_TRUNCATED_IMAGES`` keeps its default (False).
* **PDFs** start with ``%PDF-<version>``, have ``%%EOF`` in their last 1024 bytes and are at
  most :data:`MAX_PDF_BYTES`. They are not parsed further: the bot only stores them.
* :func:`check_image`, :func:`check_pdf` and :func:`check_upload` raise nothing but
  :class:`UploadRejected`, whose :class:`Rejection` tells the transport what to reply.
* **Storage**: :func:`store_upload` writes the checked bytes under
  ``<data_dir>/attachments/<user_id>/`` with a random name (the user's file name is never part
  of a path), atomically (temporary file, fsync, rename, fsync of the folder), readable by the
  bot's account only (files 0600, folders 0700). :func:`remove_stored` undoes it and refuses
  any path outside ``<data_dir>/attachments``. Both block: call them in a thread.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import secrets
import tempfile
import threading
import warnings
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Final

from PIL import Image, ImageFile, UnidentifiedImageError

from aimtrack.core import limits
from aimtrack.core.errors import AimTrackError
from aimtrack.core.model import is_row_id
from aimtrack.storage.repos.attachments import user_folder

MAX_PHOTO_BYTES: Final = limits.MAX_ATTACHMENT_BYTES  # Telegram's getFile limit is 20 MB too
MAX_PDF_BYTES: Final = 10 * 1024 * 1024  # documented limit for score cards
MAX_IMAGE_PIXELS: Final = 40_000_000  # lowered from Pillow's ~89M default

PDF_MIME: Final = "application/pdf"
# Pillow format name -> (MIME type, extension). MPO is how Pillow names a camera's JPEG that
# carries extra pictures (e.g. a depth map); it is a plain JPEG to every viewer.
_IMAGE_FORMATS: Final[dict[str, tuple[str, str]]] = {
    "JPEG": ("image/jpeg", ".jpg"),
    "MPO": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
# The Pillow plugins that may open an upload for decoding (the JPEG one also yields MPO).
_DECODE_FORMATS: Final = ("JPEG", "PNG", "WEBP")
_EXTENSIONS: Final[dict[str, str]] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    PDF_MIME: ".pdf",
}
_IMAGE_NAME_SUFFIXES: Final = frozenset(
    {".jpg", ".jpeg", ".jfif", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif"}
    | {".avif", ".jxl", ".jp2", ".ico", ".svg", ".psd", ".tga", ".dng", ".cr2", ".nef", ".arw"}
)
# ISO base media ("ftyp" box) brands of HEIF/HEIC/AVIF pictures, which Pillow may not read.
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
)
_PDF_HEADER: Final = re.compile(rb"%PDF-[12]\.[0-9]")
_PDF_EOF_WINDOW: Final = 1024  # readers accept %%EOF anywhere in the last kilobyte
_DIR_MODE: Final = 0o700
_FILE_MODE: Final = 0o600
_ATTACHMENTS: Final = "attachments"
_DISK_FULL: Final = frozenset({errno.ENOSPC, errno.EDQUOT})

# ``warnings.catch_warnings`` swaps process-wide state; the lock keeps two checks running in
# threads from restoring each other's filters out of order (which could leak a filter).
_WARNINGS_LOCK = threading.Lock()


class Rejection(StrEnum):
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    NOT_AN_IMAGE = "not_an_image"  # bytes are not a readable JPEG/PNG/WEBP (e.g. text named .jpg)
    UNSUPPORTED = "unsupported"  # a real image of another format or another document type
    TOO_MANY_PIXELS = "too_many_pixels"  # decompression bomb or over MAX_IMAGE_PIXELS
    BROKEN = "broken"  # truncated/corrupt image or PDF


_MESSAGES: Final[dict[Rejection, str]] = {
    Rejection.TOO_LARGE: "the file is larger than allowed",
    Rejection.EMPTY: "the file is empty",
    Rejection.NOT_AN_IMAGE: "the file is not a readable JPEG, PNG or WEBP image",
    Rejection.UNSUPPORTED: "the file type is not supported (JPEG, PNG, WEBP or PDF only)",
    Rejection.TOO_MANY_PIXELS: f"the image has more than {MAX_IMAGE_PIXELS} pixels",
    Rejection.BROKEN: "the file is truncated or corrupt",
}


class UploadRejected(AimTrackError):
    """An upload the bot refuses to store; ``reason`` picks the reply."""

    def __init__(self, reason: Rejection) -> None:
        self.reason = Rejection(reason)
        super().__init__(f"upload rejected ({self.reason.value}): {_MESSAGES[self.reason]}")


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    mime: str  # one of image/jpeg, image/png, image/webp, application/pdf
    extension: str  # ".jpg", ".png", ".webp", ".pdf"
    size_bytes: int
    sha256: str  # 64 lowercase hex
    width: int | None  # images only
    height: int | None


# --- checks ---------------------------------------------------------------------------------


def _check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise UploadRejected(Rejection.EMPTY)
    if len(data) > max_bytes:
        raise UploadRejected(Rejection.TOO_LARGE)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _open(data: bytes, formats: tuple[str, ...] | None) -> ImageFile.ImageFile:
    """``Image.open`` (header only) with Pillow's bomb warning raised as an error."""
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data), formats=formats)


def _looks_like_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def _identify_other(data: bytes) -> Rejection:
    """Why bytes that no accepted plugin opens are refused: another image format or none."""
    try:
        other = _open(data, None)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return Rejection.TOO_MANY_PIXELS
    except Exception:  # noqa: BLE001 - any failure of any plugin's header parser means "unknown"
        return Rejection.UNSUPPORTED if _looks_like_heif(data) else Rejection.NOT_AN_IMAGE
    other.close()  # never decoded: only the header was read to name the format
    return Rejection.UNSUPPORTED


def check_image(data: bytes) -> CheckedUpload:
    """A JPEG, PNG or WEBP picture, decided by its content; anything else is UploadRejected."""
    _check_size(data, MAX_PHOTO_BYTES)
    try:
        image = _open(data, _DECODE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(Rejection.TOO_MANY_PIXELS) from None
    except UnidentifiedImageError:
        raise UploadRejected(_identify_other(data)) from None
    except Exception:  # noqa: BLE001 - the header matched an accepted format but is damaged
        raise UploadRejected(Rejection.BROKEN) from None

    with image:
        kind = _IMAGE_FORMATS.get(image.format or "")
        width, height = image.size
    if kind is None:
        raise UploadRejected(Rejection.UNSUPPORTED)  # pragma: no cover - only our plugins ran
    if width < 1 or height < 1:
        raise UploadRejected(Rejection.BROKEN)
    if width * height > MAX_IMAGE_PIXELS:
        raise UploadRejected(Rejection.TOO_MANY_PIXELS)

    try:
        # verify() checks what it can without decoding (PNG checksums) and leaves the image
        # unusable, so decoding needs a second open; load() refuses truncated pixel data.
        with _open(data, _DECODE_FORMATS) as image:
            image.verify()
        with _open(data, _DECODE_FORMATS) as image:
            if image.size != (width, height):
                raise UploadRejected(Rejection.BROKEN)
            image.load()
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(Rejection.TOO_MANY_PIXELS) from None
    except Exception:  # noqa: BLE001 - decoders fail in many ways (OSError, SyntaxError, ...)
        raise UploadRejected(Rejection.BROKEN) from None

    mime, extension = kind
    return CheckedUpload(
        mime=mime,
        extension=extension,
        size_bytes=len(data),
        sha256=_sha256(data),
        width=width,
        height=height,
    )


def check_pdf(data: bytes) -> CheckedUpload:
    """A PDF: ``%PDF-<version>`` first, ``%%EOF`` in the last kilobyte, at most MAX_PDF_BYTES."""
    _check_size(data, MAX_PDF_BYTES)
    if not data.startswith(b"%PDF-"):
        raise UploadRejected(Rejection.UNSUPPORTED)
    if not _PDF_HEADER.match(data) or b"%%EOF" not in data[-_PDF_EOF_WINDOW:]:
        raise UploadRejected(Rejection.BROKEN)
    return CheckedUpload(
        mime=PDF_MIME,
        extension=_EXTENSIONS[PDF_MIME],
        size_bytes=len(data),
        sha256=_sha256(data),
        width=None,
        height=None,
    )


def _base_mime(declared_mime: str | None) -> str:
    return (declared_mime or "").split(";", 1)[0].strip().lower()


def _name_suffix(file_name: str | None) -> str:
    base = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip().lower()
    return "." + base.rsplit(".", 1)[1] if "." in base else ""


def check_upload(data: bytes, *, declared_mime: str | None, file_name: str | None) -> CheckedUpload:
    """A document of unknown kind: PDF when declared/named as PDF or starting with %PDF-,
    else image.

    The declared type and name only pick which check runs (and turn "not an image" into
    "unsupported" for a file that never claimed to be a picture, e.g. a .docx); what is
    accepted is always decided by the content.
    """
    mime = _base_mime(declared_mime)
    suffix = _name_suffix(file_name)
    if data.startswith(b"%PDF-") or mime in {PDF_MIME, "application/x-pdf"} or suffix == ".pdf":
        return check_pdf(data)
    try:
        return check_image(data)
    except UploadRejected as rejected:
        claims_other_type = bool(mime or suffix) and not (
            mime.startswith("image/") or suffix in _IMAGE_NAME_SUFFIXES
        )
        if rejected.reason is Rejection.NOT_AN_IMAGE and claims_other_type:
            raise UploadRejected(Rejection.UNSUPPORTED) from None
        raise


# --- storage --------------------------------------------------------------------------------


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ensure_user_folder(data_dir: Path, user_id: int) -> Path:
    """Create ``attachments/<user_id>/`` as needed: 0700 (chmod, since mkdir obeys the umask),
    each new entry made durable. Existing folders are left as the administrator set them."""
    folder = data_dir
    for part in PurePosixPath(user_folder(user_id)).parts:
        parent, folder = folder, folder / part
        try:
            folder.mkdir(mode=_DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise NotADirectoryError(f"{folder} is not a folder") from None
            continue
        folder.chmod(_DIR_MODE)
        _fsync_dir(parent)
    return folder


def store_upload(data_dir: Path, user_id: int, checked: CheckedUpload, data: bytes) -> str:
    """Write the bytes under data_dir/attachments/<user_id>/ with a generated random name
    (secrets.token_hex(16) + extension), atomically (temp file in the same folder, fsync,
    os.replace, fsync the folder), file mode 0o600, folders 0o700; verify sha256 matches
    checked.sha256; return the path relative to data_dir (posix style, starting with
    user_folder(user_id)). Blocking: callers run it in a thread.

    ValueError when the arguments disagree (bytes not the checked ones, unknown type, invalid
    user id); OSError when the disk fails, with no partial file left behind.
    """
    if not is_row_id(user_id):
        raise ValueError(f"invalid user id {user_id!r}")
    if _EXTENSIONS.get(checked.mime) != checked.extension:
        raise ValueError(f"unexpected type {checked.mime!r} / {checked.extension!r}")
    if len(data) != checked.size_bytes or _sha256(data) != checked.sha256:
        raise ValueError("the bytes are not the ones that were checked")

    folder = _ensure_user_folder(data_dir, user_id)
    # 128 random bits: a collision with an existing file (which os.replace would overwrite)
    # is not a practical concern.
    name = secrets.token_hex(16) + checked.extension
    fd, temp_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w+b") as file:
            os.fchmod(file.fileno(), _FILE_MODE)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
            file.seek(0)
            written = hashlib.file_digest(file, "sha256").hexdigest()
        if written != checked.sha256:
            raise OSError(f"{temp} does not hold the bytes written to it")
        temp.replace(folder / name)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    return user_folder(user_id) + name


def is_disk_full(error: BaseException) -> bool:
    """Whether storing failed because the disk (or the account's disk quota) is full: the
    user is told so, rather than to simply try again."""
    return isinstance(error, OSError) and error.errno in _DISK_FULL


def _stored_path(data_dir: Path, relative_path: str) -> Path:
    """The absolute path of a stored file, or ValueError if it is not inside attachments/."""
    refused = ValueError(f"{relative_path!r} is not a stored attachment path")
    if not isinstance(relative_path, str) or "\x00" in relative_path or "\\" in relative_path:
        raise refused
    parts = relative_path.split("/")
    if (
        PurePosixPath(relative_path).is_absolute()
        or len(parts) < 3
        or parts[0] != _ATTACHMENTS
        or any(part in {"", ".", ".."} for part in parts)
    ):
        raise refused
    # Resolve the folder (not the file: unlinking a symlink only removes the link) so a
    # symlinked folder cannot lead outside the attachments tree.
    root = (data_dir / _ATTACHMENTS).resolve()
    folder = data_dir.joinpath(*parts[:-1]).resolve()
    if folder == root or not folder.is_relative_to(root):
        raise refused
    return folder / parts[-1]


def remove_stored(data_dir: Path, relative_path: str) -> None:
    """Remove a stored file (used to roll back when the database write fails); missing is fine;
    refuses (ValueError) a path that escapes data_dir/attachments."""
    _stored_path(data_dir, relative_path).unlink(missing_ok=True)
