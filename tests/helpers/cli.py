"""The ``aimtrack`` command as the tests run it: with the AIMTRACK_* settings a test gives and no
others (the developer's, and the test database's URL, are stripped)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from aimtrack.storage.engine import Database

PREFIX = "AIMTRACK_"


def settings_env(
    env: Mapping[str, str] | None = None, *, db: Database | None = None
) -> dict[str, str]:
    """This process's environment without any AIMTRACK_* variable, plus ``env`` (and, with
    ``db``, AIMTRACK_DATABASE_URL pointing at it)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    if db is not None:
        full["AIMTRACK_DATABASE_URL"] = db.engine.url.render_as_string(hide_password=False)
    full.update(env or {})
    return full
