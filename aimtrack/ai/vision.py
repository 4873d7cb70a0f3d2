"""Target photos for a vision model: re-encoded, smaller, and stripped of metadata.

A phone photo carries EXIF: the camera, the time and often the GPS position — where the shooter
was, which may be where they keep their weapons. Re-encoding through Pillow keeps the pixels
only, and shrinking to :data:`MAX_SIDE` keeps the request small.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image, ImageOps

MAX_SIDE = 1280
MAX_PHOTOS = 4
IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/webp"})


def photo_data_url(path: Path) -> str:
    """The photo at ``path`` as a ``data:image/jpeg;base64,…`` URL without metadata."""
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened)  # keep the orientation the shooter saw
        image = image.convert("RGB")
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)  # no exif= argument: nothing carried over
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
