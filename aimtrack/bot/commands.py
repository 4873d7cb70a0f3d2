"""Command names: Dutch first, English aliases; both always work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aimtrack.core.model import Language


@dataclass(frozen=True, slots=True)
class CommandName:
    key: str  # the canonical name the core dispatches on
    dutch: str
    english: str

    def name(self, language: Language) -> str:
        return self.dutch if language is Language.NL else self.english


COMMANDS: Final = (
    CommandName("start", "start", "start"),
    CommandName("session", "sessie", "session"),
    CommandName("sessions", "sessies", "sessions"),
    CommandName("weapons", "wapens", "weapons"),
    CommandName("profile", "profiel", "profile"),
    CommandName("cancel", "annuleer", "cancel"),
    CommandName("help", "help", "help"),
)

_BY_NAME: Final = {
    name: command.key for command in COMMANDS for name in (command.dutch, command.english)
} | {"hulp": "help", "stop": "cancel"}


def canonical(name: str) -> str | None:
    """The canonical key for a typed command name, or None when it is not ours."""
    return _BY_NAME.get(name.lower().split("@", 1)[0])
