"""Where tests leave files for people to look at (a PDF register, charts, a browser's
download): ``$AIMTRACK_ARTEFACTS``, or ``artefacts/`` in the checkout. Read once, at import,
before the tests' environment is emptied of AIMTRACK_* settings."""

from __future__ import annotations

import os
from pathlib import Path

ARTEFACTS = Path(
    os.environ.get("AIMTRACK_ARTEFACTS") or Path(__file__).resolve().parents[2] / "artefacts"
)
