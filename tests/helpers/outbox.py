"""A transport's pusher that records what the job worker asked it to send.

:func:`recording` registers one :class:`Outbox` as a transport's messenger; give the
``Messengers`` to :func:`tests.helpers.jobs.job_worker` and read what was pushed from
``outbox.sent``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aimtrack.bot.io import Reply
from aimtrack.bot.push import Activity, Messengers
from aimtrack.core.model import Transport


@dataclass
class Sent:
    """One pushed message; its files as they were when pushed (a job may remove them after)."""

    chat_id: str
    reply: Reply
    files: list[tuple[str, bytes]]  # (file name, content), one per file of the reply

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def captions(self) -> list[str | None]:
        """One per file."""
        return [f.caption for f in self.reply.files]


@dataclass
class Outbox:
    """Keeps every message it was asked to push, file contents included, and every activity
    ("typing…") it was asked to show."""

    sent: list[Sent] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)

    async def push(self, chat_id: str, reply: Reply) -> str:
        files = [(f.name or f.path.name, f.path.read_bytes()) for f in reply.files]
        self.sent.append(Sent(chat_id, reply, files))
        return f"m{len(self.sent)}"

    async def working(self, chat_id: str, activity: Activity) -> None:
        self.activities.append(activity)

    def texts(self, chat_id: str | None = None) -> list[str]:
        """The texts pushed, to ``chat_id`` (default: to anyone)."""
        return [sent.text for sent in self.sent if chat_id in {None, sent.chat_id}]


def recording(transport: Transport = Transport.CONSOLE) -> tuple[Messengers, Outbox]:
    """Messengers whose only transport pushes into a new :class:`Outbox`."""
    outbox = Outbox()
    messengers = Messengers()
    messengers.register(transport, outbox)
    return messengers, outbox
