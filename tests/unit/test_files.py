"""Upload checks and storage of target photos and score-card PDFs (``aimtrack.bot.files``)."""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import stat
import struct
import tracemalloc
import warnings
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile
from PIL import _imaging as pillow_core

from aimtrack.bot import files
from aimtrack.bot.files import (
    MAX_IMAGE_PIXELS,
    MAX_PDF_BYTES,
    MAX_PHOTO_BYTES,
    CheckedUpload,
    Rejection,
    UploadRejected,
    check_image,
    check_pdf,
    check_upload,
    remove_stored,
    store_upload,
)
from aimtrack.core import limits
from aimtrack.core.errors import AimTrackError
from aimtrack.core.model import AttachmentOwner, AttachmentSpec

TEXT = b"Range day 12 May: 10 shots at 25 m, group 4 cm, a bit low left.\n" * 20
STORED_NAME = re.compile(r"attachments/42/[0-9a-f]{32}\.(jpg|png|webp|pdf)")

# --- fixtures made in code ------------------------------------------------------------------


def _encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _picture(width: int = 37, height: int = 23) -> Image.Image:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.putpixel((1, 1), (0, 0, 255))
    return image


def _noise(width: int = 96, height: int = 96) -> Image.Image:
    """Incompressible pixels, so the encoded file is large and mostly pixel data."""
    return Image.frombytes("RGB", (width, height), _rng(7).randbytes(width * height * 3))


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible test data, not secrets


def _pixel_buffers() -> int:
    """How many images Pillow's core has allocated so far (each decode allocates one)."""
    return int(pillow_core.get_stats()["new_count"])


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@cache
def _blank_png(width: int, height: int) -> bytes:
    """A valid black-and-white PNG, compressed row by row: never held uncompressed, so a
    30000x30000 picture (900M pixels) is a ~110 KB file: a decompression bomb."""
    row = bytes(1 + (width + 7) // 8)  # filter byte + 1 bit a pixel
    rows_a_batch = max(1, 1_000_000 // len(row))
    compressor = zlib.compressobj(9)
    parts = [
        compressor.compress(row * min(rows_a_batch, height - done))
        for done in range(0, height, rows_a_batch)
    ]
    idat = b"".join(parts) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grayscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _pdf(pad: int = 0) -> bytes:
    """A minimal valid one-page PDF; ``pad`` adds a comment line of that many bytes."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    if pad:
        out += b"%" + b"x" * (pad - 2) + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n"
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return out


def _pdf_of_size(size: int) -> bytes:
    pad = size - len(_pdf())
    while len(data := _pdf(pad)) != size:  # the xref offsets grow by a digit or so
        pad -= len(data) - size
    return data


def _reason(data: bytes, **kwargs: Any) -> Rejection:
    with pytest.raises(UploadRejected) as caught:
        check_upload(data, declared_mime=kwargs.get("mime"), file_name=kwargs.get("name"))
    return caught.value.reason


def _image_reason(data: bytes) -> Rejection:
    with pytest.raises(UploadRejected) as caught:
        check_image(data)
    return caught.value.reason


def _pdf_reason(data: bytes) -> Rejection:
    with pytest.raises(UploadRejected) as caught:
        check_pdf(data)
    return caught.value.reason


# --- limits and the error type --------------------------------------------------------------


def test_limits() -> None:
    assert MAX_PHOTO_BYTES == limits.MAX_ATTACHMENT_BYTES == 20 * 1024 * 1024
    assert MAX_PDF_BYTES == 10 * 1024 * 1024
    assert MAX_IMAGE_PIXELS == 40_000_000


def test_upload_rejected_carries_the_reason() -> None:
    error = UploadRejected(Rejection.TOO_MANY_PIXELS)
    assert isinstance(error, AimTrackError)
    assert error.reason is Rejection.TOO_MANY_PIXELS
    assert (
        str(error) == "upload rejected (too_many_pixels): the image has more than 40000000 pixels"
    )
    assert [reason.value for reason in Rejection] == [
        "too_large",
        "empty",
        "not_an_image",
        "unsupported",
        "too_many_pixels",
        "broken",
    ]


# --- images ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "options", "mime", "extension"),
    [
        ("JPEG", {"quality": 90}, "image/jpeg", ".jpg"),
        ("PNG", {}, "image/png", ".png"),
        ("WEBP", {"quality": 80}, "image/webp", ".webp"),
        ("WEBP", {"lossless": True}, "image/webp", ".webp"),
    ],
)
def test_accepts_jpeg_png_webp(
    fmt: str, options: dict[str, Any], mime: str, extension: str
) -> None:
    data = _encode(_picture(), fmt, **options)
    expected = CheckedUpload(
        mime=mime,
        extension=extension,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=37,
        height=23,
    )
    assert check_image(data) == expected
    # The name and declared type do not matter for a picture: the content decides.
    assert check_upload(data, declared_mime=None, file_name=None) == expected
    assert check_upload(data, declared_mime="image/gif", file_name="target.bmp") == expected
    assert check_upload(data, declared_mime="application/octet-stream", file_name="x") == expected


def test_camera_multi_picture_jpeg_is_a_jpeg() -> None:
    data = _encode(_picture(), "MPO", save_all=True, append_images=[_picture(37, 23)])
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "MPO"  # what Pillow calls it
    checked = check_image(data)
    assert (checked.mime, checked.extension, checked.width, checked.height) == (
        "image/jpeg",
        ".jpg",
        37,
        23,
    )


def test_text_named_jpg_is_not_an_image() -> None:
    assert _image_reason(TEXT) is Rejection.NOT_AN_IMAGE
    assert _reason(TEXT, name="target.jpg") is Rejection.NOT_AN_IMAGE
    assert _reason(TEXT, name="target.JPG", mime="image/jpeg") is Rejection.NOT_AN_IMAGE
    assert _reason(TEXT) is Rejection.NOT_AN_IMAGE
    assert _image_reason(bytes(4096)) is Rejection.NOT_AN_IMAGE


def test_a_document_of_another_type_is_unsupported() -> None:
    assert _reason(TEXT, name="notes.txt", mime="text/plain") is Rejection.UNSUPPORTED
    docx = b"PK\x03\x04" + bytes(200)
    docx_mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert _reason(docx, name="card.docx", mime=docx_mime) is Rejection.UNSUPPORTED
    # Named or declared as a PDF but not one.
    assert _reason(_encode(_picture(), "JPEG"), name="card.pdf") is Rejection.UNSUPPORTED
    assert _reason(TEXT, mime="application/pdf; charset=binary") is Rejection.UNSUPPORTED


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("GIF", {}), ("BMP", {}), ("TIFF", {}), ("TIFF", {"compression": "tiff_lzw"}), ("ICO", {})],
)
def test_other_image_formats_are_unsupported(fmt: str, options: dict[str, Any]) -> None:
    data = _encode(_picture(), fmt, **options)
    assert _image_reason(data) is Rejection.UNSUPPORTED
    assert _reason(data, name="target.jpg", mime="image/jpeg") is Rejection.UNSUPPORTED


def test_heic_from_a_phone_is_unsupported() -> None:
    heic = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic" + bytes(200)
    assert _image_reason(heic) is Rejection.UNSUPPORTED
    assert _reason(heic, name="IMG_0001.HEIC", mime="image/heic") is Rejection.UNSUPPORTED


def test_empty() -> None:
    assert _image_reason(b"") is Rejection.EMPTY
    assert _pdf_reason(b"") is Rejection.EMPTY
    assert _reason(b"", name="target.jpg") is Rejection.EMPTY
    assert _reason(b"", name="card.pdf") is Rejection.EMPTY


def test_photo_size_limit_is_inclusive_and_checked_before_decoding() -> None:
    png = _encode(_picture(), "PNG")
    # Bytes after IEND are ignored by readers: this is a valid PNG of exactly the limit.
    at_limit = png + bytes(MAX_PHOTO_BYTES - len(png))
    assert check_image(at_limit).size_bytes == MAX_PHOTO_BYTES
    assert _image_reason(at_limit + b"\x00") is Rejection.TOO_LARGE
    assert _image_reason(bytes(MAX_PHOTO_BYTES + 1)) is Rejection.TOO_LARGE
    assert _reason(bytes(MAX_PHOTO_BYTES + 1), name="target.jpg") is Rejection.TOO_LARGE


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (7000, 6000),  # 42M: only our limit refuses it (Pillow's default allows ~89M)
        (10_000, 10_000),  # 100M: Pillow would merely warn
        (30_000, 30_000),  # 900M: Pillow raises DecompressionBombError itself
        (1, 40_000_001),  # a thin one: the product counts, not a side
    ],
)
def test_decompression_bomb_is_refused_from_the_header(
    width: int, height: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = _blank_png(width, height)
    assert len(bomb) < 200_000
    loads: list[object] = []
    real_load = ImageFile.ImageFile.load

    def counting_load(self: ImageFile.ImageFile) -> Any:
        loads.append(self)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    pillow_limit = Image.MAX_IMAGE_PIXELS
    filters = list(warnings.filters)
    allocations = _pixel_buffers()

    tracemalloc.start()
    try:
        with pytest.raises(UploadRejected) as caught:
            check_image(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert caught.value.reason is Rejection.TOO_MANY_PIXELS
    assert peak < 50 * 1024 * 1024
    assert loads == []  # no pixel was decoded
    assert _pixel_buffers() == allocations  # no pixel buffer allocated
    assert pillow_limit == Image.MAX_IMAGE_PIXELS  # Pillow's global state is untouched
    assert warnings.filters == filters
    assert _reason(bomb, name="bomb.png") is Rejection.TOO_MANY_PIXELS


def test_pixel_limit_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_IMAGE_PIXELS", 600)
    checked = check_image(_blank_png(30, 20))
    assert (checked.mime, checked.width, checked.height) == ("image/png", 30, 20)
    assert _image_reason(_blank_png(30, 21)) is Rejection.TOO_MANY_PIXELS
    assert _image_reason(_blank_png(21, 30)) is Rejection.TOO_MANY_PIXELS


def test_a_real_photo_within_the_limit_is_decoded() -> None:
    allocations = _pixel_buffers()
    checked = check_image(_blank_png(2000, 1500))
    assert (checked.width, checked.height) == (2000, 1500)
    assert _pixel_buffers() > allocations  # the pixels really were decoded


@pytest.mark.parametrize(("fmt", "options"), [("JPEG", {"quality": 95}), ("PNG", {})])
def test_truncated_image_is_broken(fmt: str, options: dict[str, Any]) -> None:
    data = _encode(_noise(), fmt, **options)
    half = data[: len(data) // 2]
    with Image.open(io.BytesIO(half)) as image:
        assert image.format == fmt  # the header survived: only the pixel data is missing
    assert _image_reason(half) is Rejection.BROKEN
    assert _reason(half, name="target.jpg") is Rejection.BROKEN
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_png_with_a_bad_checksum_is_broken() -> None:
    data = bytearray(_encode(_noise(), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 100] ^= 0xFF
    assert _image_reason(bytes(data)) is Rejection.BROKEN


def test_png_with_a_bad_pixel_data_checksum_is_broken() -> None:
    # Only the checksum is wrong: the pixels decode fine, verify() is what notices.
    data = bytearray(_encode(_noise(), "PNG"))
    iend = data.index(b"IEND") - 4
    data[iend - 1] ^= 0xFF  # last byte of the final IDAT chunk's CRC
    assert _image_reason(bytes(data)) is Rejection.BROKEN


def test_png_without_pixels_is_not_an_image() -> None:
    assert _image_reason(_blank_png(0, 10)) is Rejection.NOT_AN_IMAGE
    assert _image_reason(_blank_png(10, 0)) is Rejection.NOT_AN_IMAGE


def test_bomb_check_warns_nothing_when_warnings_are_not_errors() -> None:
    bomb = _blank_png(10_000, 10_000)  # in Pillow's warning range
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert _image_reason(bomb) is Rejection.TOO_MANY_PIXELS
    assert [str(w.message) for w in seen] == []


@pytest.mark.parametrize(
    "data",
    [
        _encode(_noise(24, 24), "JPEG"),
        _encode(_noise(24, 24), "PNG"),
        _encode(_noise(24, 24), "WEBP"),
        _encode(_noise(24, 24), "GIF"),
        _pdf(),
    ],
    ids=["jpeg", "png", "webp", "gif", "pdf"],
)
def test_damaged_files_raise_nothing_but_upload_rejected(data: bytes) -> None:
    rng = _rng(len(data))
    samples = [data[:cut] for cut in range(0, len(data), max(1, len(data) // 150))]
    for _ in range(150):
        damaged = bytearray(data)
        damaged[rng.randrange(len(data))] = rng.randrange(256)
        samples.append(bytes(damaged))
    samples += [data[:16] + rng.randbytes(500) for _ in range(20)]
    for sample in samples:
        try:
            checked = check_upload(sample, declared_mime=None, file_name=None)
        except UploadRejected:
            continue
        assert checked.size_bytes == len(sample)
        assert checked.sha256 == hashlib.sha256(sample).hexdigest()


# --- PDFs -----------------------------------------------------------------------------------


def test_accepts_a_minimal_pdf() -> None:
    data = _pdf()
    expected = CheckedUpload(
        mime="application/pdf",
        extension=".pdf",
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=None,
        height=None,
    )
    assert check_pdf(data) == expected
    assert check_upload(data, declared_mime=None, file_name=None) == expected
    assert check_upload(data, declared_mime="application/pdf", file_name="card.PDF") == expected
    assert check_upload(data, declared_mime="image/jpeg", file_name="card.jpg") == expected


def test_fake_pdf_is_broken() -> None:
    fake = b"%PDF-" + _rng(3).randbytes(3000).replace(b"%%EOF", b"")
    assert _pdf_reason(fake) is Rejection.BROKEN
    assert _reason(fake, name="card.pdf") is Rejection.BROKEN
    assert _reason(fake) is Rejection.BROKEN
    assert _pdf_reason(b"%PDF-x.y\n" + _pdf()[9:]) is Rejection.BROKEN  # no version


def test_pdf_end_marker_must_be_in_the_last_kilobyte() -> None:
    assert check_pdf(_pdf() + b" " * (1024 - 6)).mime == "application/pdf"
    assert _pdf_reason(_pdf() + b" " * (1024 - 5)) is Rejection.BROKEN
    assert _pdf_reason(_pdf()[: len(_pdf()) // 2]) is Rejection.BROKEN


def test_pdf_without_header_is_unsupported() -> None:
    assert _pdf_reason(TEXT) is Rejection.UNSUPPORTED
    assert _pdf_reason(b" %PDF-1.4\n" + _pdf()) is Rejection.UNSUPPORTED


def test_pdf_size_limit_is_inclusive() -> None:
    at_limit = _pdf_of_size(MAX_PDF_BYTES)
    assert len(at_limit) == MAX_PDF_BYTES
    assert check_pdf(at_limit).size_bytes == MAX_PDF_BYTES
    over = _pdf_of_size(MAX_PDF_BYTES + 1)
    assert _pdf_reason(over) is Rejection.TOO_LARGE
    assert _reason(over, name="card.pdf") is Rejection.TOO_LARGE
    assert _reason(over) is Rejection.TOO_LARGE  # content says PDF: the PDF limit applies


# --- storage --------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_upload_writes_a_private_file_with_a_random_name(tmp_path: Path) -> None:
    data = _encode(_picture(), "PNG")
    checked = check_image(data)

    first = store_upload(tmp_path, 42, checked, data)
    second = store_upload(tmp_path, 42, checked, data)

    assert STORED_NAME.fullmatch(first)
    assert STORED_NAME.fullmatch(second)
    assert first.endswith(".png")
    assert first != second
    assert (tmp_path / first).read_bytes() == data
    assert (tmp_path / second).read_bytes() == data
    assert _mode(tmp_path / first) == 0o600
    assert _mode(tmp_path / "attachments") == 0o700
    assert _mode(tmp_path / "attachments" / "42") == 0o700
    # Nothing else was left in the folder (no temporary files).
    assert sorted(p.name for p in (tmp_path / "attachments" / "42").iterdir()) == sorted(
        [first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]]
    )
    # The result is what the attachment repository accepts.
    spec = AttachmentSpec(
        owner=AttachmentOwner.SESSION,
        owner_id=1,
        path=first,
        mime=checked.mime,
        size_bytes=checked.size_bytes,
        sha256=checked.sha256,
    )
    assert spec.path == first


def test_store_upload_keeps_users_apart_and_stores_pdfs(tmp_path: Path) -> None:
    data = _pdf()
    path = store_upload(tmp_path, 7, check_pdf(data), data)
    assert re.fullmatch(r"attachments/7/[0-9a-f]{32}\.pdf", path)
    assert (tmp_path / path).read_bytes() == data
    assert [p.name for p in (tmp_path / "attachments").iterdir()] == ["7"]


def test_store_upload_modes_do_not_depend_on_the_umask(tmp_path: Path) -> None:
    data = _encode(_picture(), "JPEG")
    old = os.umask(0o277)  # would make folders 0500 and files 0400
    try:
        path = store_upload(tmp_path, 42, check_image(data), data)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "attachments") == 0o700
    assert _mode(tmp_path / "attachments" / "42") == 0o700
    assert _mode(tmp_path / path) == 0o600


def test_store_upload_refuses_bytes_that_were_not_checked(tmp_path: Path) -> None:
    data = _encode(_picture(), "PNG")
    checked = check_image(data)
    other = _encode(_picture(38, 23), "PNG")
    with pytest.raises(ValueError, match="not the ones that were checked"):
        store_upload(tmp_path, 42, checked, other)
    with pytest.raises(ValueError, match="not the ones that were checked"):
        store_upload(tmp_path, 42, checked, data + b"\x00")
    forged = CheckedUpload("image/png", "/../../x.png", len(data), checked.sha256, 37, 23)
    with pytest.raises(ValueError, match="unexpected type"):
        store_upload(tmp_path, 42, forged, data)
    for user_id in (0, -1, True, 2**31):
        with pytest.raises(ValueError, match="invalid user id"):
            store_upload(tmp_path, user_id, checked, data)
    assert list(tmp_path.iterdir()) == []


def test_store_upload_leaves_nothing_behind_when_the_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _encode(_picture(), "PNG")
    checked = check_image(data)

    def failing_replace(self: Path, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        store_upload(tmp_path, 42, checked, data)
    assert list((tmp_path / "attachments" / "42").iterdir()) == []


def test_remove_stored(tmp_path: Path) -> None:
    data = _encode(_picture(), "PNG")
    path = store_upload(tmp_path, 42, check_image(data), data)
    keep = store_upload(tmp_path, 42, check_image(data), data)

    remove_stored(tmp_path, path)
    assert not (tmp_path / path).exists()
    assert (tmp_path / keep).exists()
    remove_stored(tmp_path, path)  # already gone: fine
    remove_stored(tmp_path, "attachments/99/never-stored.png")


@pytest.mark.parametrize(
    "path",
    [
        "../x",
        "/etc/passwd",
        "attachments/../x",
        "attachments/42/../../x",
        "attachments/42/./x.png",
        "attachments//x.png",
        "attachments/42",
        "attachments/42/",
        "attachments",
        "data/42/x.png",
        "attachments\\42\\x.png",
        "attachments/42/x\x00.png",
        "",
    ],
)
def test_remove_stored_refuses_paths_outside_attachments(tmp_path: Path, path: str) -> None:
    victim = tmp_path / "x"
    victim.write_bytes(b"keep me")
    with pytest.raises(ValueError, match="not a stored attachment path"):
        remove_stored(tmp_path, path)
    assert victim.read_bytes() == b"keep me"


def test_remove_stored_refuses_an_absolute_path_even_inside(tmp_path: Path) -> None:
    data = _encode(_picture(), "PNG")
    path = store_upload(tmp_path, 42, check_image(data), data)
    with pytest.raises(ValueError, match="not a stored attachment path"):
        remove_stored(tmp_path, str(tmp_path / path))
    assert (tmp_path / path).exists()


def test_remove_stored_does_not_follow_a_symlinked_folder_outside(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    outside = tmp_path / "outside"
    (data_dir / "attachments").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"keep me")
    (data_dir / "attachments" / "7").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="not a stored attachment path"):
        remove_stored(data_dir, "attachments/7/secret.txt")
    assert (outside / "secret.txt").read_bytes() == b"keep me"
