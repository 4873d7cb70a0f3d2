"""Command names: Dutch first, English aliases; both always work.

``COMMANDS`` are the ones everybody sees (the chat app's menu and /help); admin-only commands
live in ``ADMIN_COMMANDS``, so a menu built from ``COMMANDS`` never shows them, and
:func:`canonical` does not know them for a user who is not an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aimtrack.core.model import Language


@dataclass(frozen=True, slots=True)
class CommandName:
    key: str  # the canonical name the core dispatches on
    dutch: str
    english: str
    admin: bool = False  # only for the installation's admins; unknown to everyone else

    def name(self, language: Language) -> str:
        return self.dutch if language is Language.NL else self.english


COMMANDS: Final = (
    CommandName("start", "start", "start"),
    CommandName("session", "sessie", "session"),
    CommandName("sessions", "sessies", "sessions"),
    CommandName("weapons", "wapens", "weapons"),
    CommandName("stats", "statistieken", "stats"),
    CommandName("coach", "coach", "coach"),
    CommandName("export", "export", "export"),
    CommandName("profile", "profiel", "profile"),
    CommandName("web", "web", "web"),
    CommandName("mydata", "mijndata", "mydata"),
    CommandName("erase", "verwijder", "delete"),
    CommandName("cancel", "annuleer", "cancel"),
    CommandName("help", "help", "help"),
)
ADMIN_COMMANDS: Final = (CommandName("jobs", "jobs", "jobs", admin=True),)

_BY_NAME: Final = {
    name: command
    for command in (*COMMANDS, *ADMIN_COMMANDS)
    for name in (command.dutch, command.english)
}
_ALIASES: Final = {"hulp": "help", "stop": "cancel"}


def canonical(name: str, *, admin: bool = True) -> str | None:
    """The canonical key for a typed command name, or None when it is not ours.

    With ``admin=False`` an admin-only command is None too: to someone who may not use it,
    it answers exactly like a command that does not exist.
    """
    typed = name.lower().split("@", 1)[0]
    if typed in _ALIASES:
        return _ALIASES[typed]
    command = _BY_NAME.get(typed)
    if command is None or (command.admin and not admin):
        return None
    return command.key
