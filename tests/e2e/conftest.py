"""Fixtures of the e2e tier: the fake servers AimTrack talks to.

``api`` is the fake Telegram Bot API; at the end of every test each call the bot made is
validated against the Bot API spec (``tests/helpers/refs``), so a test passes only when Telegram
would have taken every call. ``ai`` is the fake OpenAI-compatible server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.helpers import botapi_spec
from tests.helpers.fakeai import FakeAI
from tests.helpers.fakebotapi import FakeBotAPI


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake
    assert botapi_spec.validate_calls(botapi_spec.load_spec(), fake.calls) == []


@pytest.fixture
async def ai() -> AsyncIterator[FakeAI]:
    async with FakeAI() as fake:
        yield fake


@pytest.fixture
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB's future default (v22.2+): building ``RetryAfter`` without it emits
    PTBDeprecationWarning, which this suite turns into errors (in production it would only be
    logged). Modules that meet RetryAfter use it: ``pytest.mark.usefixtures("ptb_timedelta")``."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
