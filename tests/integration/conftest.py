"""Fixtures of the integration tier (repositories, migrations, the web app, on SQLite and
PostgreSQL); ``db``, ``backend`` and the web page's ``site`` are in ``tests/conftest.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from aimtrack.storage.engine import Database
from tests.helpers.reminders import Rig, reminder_rig


@pytest.fixture
async def rig(db: Database, tmp_path: Path) -> Rig:
    """The reminders' rig (``tests/helpers/reminders.py``)."""
    return await reminder_rig(db, tmp_path)
