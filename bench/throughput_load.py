"""The load of ``bench.throughput``: the fake Bot API, timed, and users logging sessions on it.

:class:`TimedBotAPI` is :class:`tests.helpers.fakebotapi.FakeBotAPI` that also notes when each
update was queued and when a ``getUpdates`` first handed it out, and passes every message the bot
sends to the chat's queue. :func:`log_sessions` is one user: a quick entry, wait for "Klopt
dit?", press "Opslaan" under it, wait for "Opgeslagen"; ``rounds`` times, each turn waiting for
the answer before the next (one update of each user in flight at a time).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.helpers.fakebotapi import FakeBotAPI, UploadedFile, callback, message

CONFIRM = "Klopt dit?"
SAVE = "Opslaan"
SAVED = "Opgeslagen"
REFLECTION = "Reflectie op je sessie"
WEAPON = "CZ 75"
REPLY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Sent:
    """A message the bot sent, as the fake received it."""

    chat_id: int
    text: str
    params: dict[str, Any]
    message_id: int
    at: float  # time.monotonic()


@dataclass
class Turn:
    """One update and the reply that answered it."""

    kind: str  # "message" or "press"
    update_id: int
    queued_at: float
    handed_out_at: float
    answered_at: float

    @property
    def latency(self) -> float:
        """From the getUpdates that handed the update out to the bot's reply."""
        return self.answered_at - self.handed_out_at

    @property
    def queued_latency(self) -> float:
        """From queueing the update (the user "sent" it) to the bot's reply."""
        return self.answered_at - self.queued_at


class TimedBotAPI(FakeBotAPI):
    def __init__(self) -> None:
        super().__init__(long_poll_cap=1.0)
        self.queued_at: dict[int, float] = {}
        self.handed_out_at: dict[int, float] = {}
        self.inbox: defaultdict[int, asyncio.Queue[Sent]] = defaultdict(asyncio.Queue)
        self.reflections: list[float] = []  # when each reflection arrived

    def push_timed(self, update: dict[str, Any]) -> int:
        update_id = self.push_update(update)
        self.queued_at[update_id] = time.monotonic()
        return update_id

    async def _get_updates(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> list[dict[str, Any]]:
        batch = await super()._get_updates(params, files)
        now = time.monotonic()
        for update in batch:
            self.handed_out_at.setdefault(update["update_id"], now)
        return batch

    def _send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        sent = super()._send_message(params, files)
        text = str(params.get("text", ""))
        chat_id = int(params["chat_id"])
        now = time.monotonic()
        if REFLECTION in text:
            self.reflections.append(now)
        self.inbox[chat_id].put_nowait(Sent(chat_id, text, params, sent["message_id"], now))
        return sent


@dataclass
class UserLog:
    turns: list[Turn] = field(default_factory=list)


async def _reply(api: TimedBotAPI, chat_id: int, expected: str) -> Sent:
    """The next message to ``chat_id`` holding ``expected``; others (a reflection) are skipped."""
    seen: list[str] = []
    try:
        async with asyncio.timeout(REPLY_TIMEOUT_S):
            while True:
                sent = await api.inbox[chat_id].get()
                if expected in sent.text:
                    return sent
                if REFLECTION not in sent.text:
                    seen.append(sent.text[:200])
    except TimeoutError:
        msg = f"user {chat_id}: no {expected!r} within {REPLY_TIMEOUT_S:g} s; got {seen}"
        raise AssertionError(msg) from None


def _button(sent: Sent, label: str) -> str:
    rows = sent.params.get("reply_markup", {}).get("inline_keyboard", [])
    found = [b["callback_data"] for row in rows for b in row if label in b.get("text", "")]
    if len(found) != 1:
        msg = f"no single {label!r} button under {sent.text[:200]!r}: {rows}"
        raise AssertionError(msg)
    return str(found[0])


def quick_entry(rng: random.Random) -> str:
    """A plausible quick entry for the seeded weapon, e.g. "CZ 75 25m 50 schoten 431"."""
    distance = rng.choice((10, 25, 50))
    shots = rng.choice((20, 30, 40, 50, 60))
    score = rng.randint(shots * 7, shots * 10)
    return f"{WEAPON} {distance}m {shots} schoten {score}"


def _turn(api: TimedBotAPI, kind: str, update_id: int, answer: Sent) -> Turn:
    return Turn(
        kind=kind,
        update_id=update_id,
        queued_at=api.queued_at[update_id],
        handed_out_at=api.handed_out_at.get(update_id, api.queued_at[update_id]),
        answered_at=answer.at,
    )


async def log_sessions(api: TimedBotAPI, chat_id: int, rounds: int, seed: int) -> UserLog:
    rng = random.Random(seed * 100_003 + chat_id)
    log = UserLog()
    for _ in range(rounds):
        update_id = api.push_timed(message(chat_id, quick_entry(rng), first_name=f"U{chat_id}"))
        confirm = await _reply(api, chat_id, CONFIRM)
        log.turns.append(_turn(api, "message", update_id, confirm))
        press = callback(
            chat_id,
            _button(confirm, SAVE),
            message_id=confirm.message_id,
            first_name=f"U{chat_id}",
            message_text=confirm.text,
        )
        update_id = api.push_timed(press)
        saved = await _reply(api, chat_id, SAVED)
        log.turns.append(_turn(api, "press", update_id, saved))
    return log
