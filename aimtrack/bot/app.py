"""Assemble the conversation core: every flow and its texts, behind one ``Conversation``."""

from __future__ import annotations

from pathlib import Path

from aimtrack.bot.commands import COMMANDS
from aimtrack.bot.conversation import Access, Conversation, catalogue
from aimtrack.bot.flow import Flow
from aimtrack.bot.flows import fields, profile, session, sessions, weapons
from aimtrack.bot.i18n import Translator
from aimtrack.core.clock import Clock
from aimtrack.core.model import Language
from aimtrack.storage.engine import Database
from aimtrack.storage.repos.users import NewUserDefaults


def build_conversation(
    db: Database,
    *,
    clock: Clock,
    data_dir: Path,
    access: Access | None = None,
    defaults: NewUserDefaults | None = None,
) -> Conversation:
    flows: dict[str, Flow] = {
        "session": session.SessionFlow(),
        "sessions": sessions.SessionsFlow(),
        "weapons": weapons.WeaponsFlow(),
        "profile": profile.ProfileFlow(),
    }
    texts = catalogue(fields.TEXTS, session.TEXTS, sessions.TEXTS, weapons.TEXTS, profile.TEXTS)
    return Conversation(
        db,
        clock=clock,
        data_dir=data_dir,
        flows=flows,
        catalogue=texts,
        access=access,
        defaults=defaults,
    )


def command_descriptions(language: Language) -> list[tuple[str, str]]:
    """(name, description) of every command in ``language``, for the chat app's menu."""
    t = Translator(catalogue(), language)
    return [(command.name(language), t(f"cmd.{command.key}")) for command in COMMANDS]
