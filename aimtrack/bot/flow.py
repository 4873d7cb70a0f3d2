"""The shape every flow shares: a context in, a turn out, state as JSON between turns.

A flow is a state machine. Its state (``step`` plus a JSON ``data`` dict) is saved in the
database after every turn, in the same transaction as any change the turn made, so a restart
(even kill -9) loses nothing: the next input finds the flow at the same step.

Buttons carry the sequence number of the turn that showed them (``"<seq>:<action>"``). A press
whose sequence is not the current one is a button from an older message: it is answered
politely as expired and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from aimtrack.bot.files import CheckedUpload
from aimtrack.bot.io import Button, Reply, Sender
from aimtrack.bot.push import Address
from aimtrack.core.clock import Clock
from aimtrack.core.i18n import Translator
from aimtrack.core.model import Profile, Weapon
from aimtrack.core.quota import AIQuota
from aimtrack.storage.repos import (
    AttachmentRepo,
    JobQueue,
    ProfileRepo,
    SessionRepo,
    WeaponRepo,
)

MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data
MAX_ID_DIGITS = 10  # row ids fit in 32 bits


@dataclass(slots=True)
class State:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)

    def at(self, step: str) -> State:
        """This state, moved to ``step`` (to show that step next)."""
        self.step = step
        return self


@dataclass(frozen=True, slots=True)
class StoredUpload:
    """An upload that passed validation and is already on disk (path relative to data_dir)."""

    path: str
    checked: CheckedUpload
    file_name: str | None
    caption: str | None


@dataclass(slots=True)
class Turn:
    replies: list[Reply]
    state: State | None  # None: the flow is over
    notice: str | None = None
    remove_files: list[str] = field(default_factory=list)  # delete after commit
    wake_jobs: bool = False  # a background job was queued: nudge the worker after the commit


class WebLinks(Protocol):
    """Hands out one-time links to the web page (:class:`aimtrack.web.links.LinkIssuer`)."""

    def link_for(self, user_id: int, *, now: datetime) -> str: ...


@dataclass(slots=True)
class Context:
    db: AsyncSession
    user_id: int
    profile: Profile
    clock: Clock
    data_dir: Path
    t: Translator
    sender: Sender
    seq: int  # the sequence number buttons shown in this turn carry
    upload_used: bool = False
    job_attempts: int = 5  # attempts a queued AI job gets before the fallback
    jobs_queued: bool = False
    web_links: WebLinks | None = None  # None: no AIMTRACK_SECRET_KEY, so no web page
    ai_quota: AIQuota | None = None  # AI requests the user may make; None: no limit (console)

    def today(self) -> date:
        return self.clock.now().astimezone(ZoneInfo(self.profile.timezone)).date()

    @property
    def address(self) -> Address:
        """This chat: where a job queued in this turn sends its result."""
        return Address(self.sender.transport, self.sender.chat_id)

    async def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        max_attempts: int,
        key: str | None = None,
        owned: bool = True,
    ) -> None:
        """Queue a job in the turn's transaction (it is saved with the turn's changes or not at
        all); the worker is woken after the commit. ``owned``: the job works for this user and
        answers in this chat; False: it belongs to nobody (the files of a user being erased).
        ``key``: the job's idempotency key (asked again while it waits, nothing is queued)."""
        await JobQueue(self.db).enqueue(
            kind,
            user_id=self.user_id if owned else None,
            payload={**payload, **self.address.to_json()} if owned else dict(payload),
            now=self.clock.now(),
            max_attempts=max_attempts,
            idempotency_key=key,
        )
        self.jobs_queued = True

    def button(self, label: str, action: str) -> Button:
        data = f"{self.seq}:{action}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            msg = f"callback data {data!r} is longer than {MAX_CALLBACK_BYTES} bytes"
            raise ValueError(msg)
        return Button(label, data)

    async def weapon_index(self) -> dict[int, Weapon]:
        """The user's weapons by id, retired ones too: history still names them."""
        return {w.id: w for w in await self.weapons.list_weapons(include_retired=True)}

    @property
    def sessions(self) -> SessionRepo:
        return SessionRepo(self.db, self.user_id)

    @property
    def weapons(self) -> WeaponRepo:
        return WeaponRepo(self.db, self.user_id)

    @property
    def attachments(self) -> AttachmentRepo:
        return AttachmentRepo(self.db, self.user_id)

    @property
    def profiles(self) -> ProfileRepo:
        return ProfileRepo(self.db, self.user_id)


class Flow(Protocol):
    name: str

    async def start(self, ctx: Context, args: str) -> Turn:
        """The flow's command was given (``args``: the rest of the command line)."""
        ...

    async def on_text(self, ctx: Context, state: State, text: str) -> Turn: ...

    async def on_press(self, ctx: Context, state: State, action: str) -> Turn: ...

    async def on_upload(self, ctx: Context, state: State, upload: StoredUpload) -> Turn:
        """A validated file arrived; set ``ctx.upload_used`` when keeping it."""
        ...

    async def prompt(self, ctx: Context, state: State) -> Turn:
        """Show the current step again (the flow's command was given while in it)."""
        ...

    async def on_cancel(self, ctx: Context, state: State) -> Turn:
        """/annuleer, or another flow takes over: let go of drafts, return ``state=None``."""
        ...


def button_id(arg: str) -> int:
    """An id from a button's data; anything that cannot be one (forged data) is 0, an id
    that is never there, so the caller's repository answers it as not found."""
    return int(arg) if arg.isascii() and arg.isdecimal() and len(arg) <= MAX_ID_DIGITS else 0


def reply(text: str, *rows: list[Button] | tuple[Button, ...]) -> Reply:
    return Reply(text, tuple(tuple(row) for row in rows if row))


def chunked(buttons: list[Button], width: int) -> list[list[Button]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]
