"""The conversation core put together: every flow, every flow-independent action and every
text behind one :class:`Conversation`, and the menu of commands a chat app shows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from aimtrack.bot import actions
from aimtrack.bot.commands import COMMANDS
from aimtrack.bot.conversation import Action, Conversation, Limits
from aimtrack.bot.conversation import catalogue as merged
from aimtrack.bot.flow import Flow, WebLinks
from aimtrack.bot.flows import (
    coach,
    erase,
    export,
    fields,
    jobs,
    mydata,
    profile,
    session,
    sessions,
    stats,
    weapons,
    web,
)
from aimtrack.core.access import Access
from aimtrack.core.clock import Clock
from aimtrack.core.i18n import Catalogue, Translator
from aimtrack.core.model import Language, Transport
from aimtrack.jobs import ai_results, charts, reminders
from aimtrack.jobs import export as export_job
from aimtrack.jobs import mydata as mydata_job
from aimtrack.storage.engine import Database
from aimtrack.storage.repos.users import NewUserDefaults


def build_conversation(
    db: Database,
    *,
    clock: Clock,
    data_dir: Path,
    catalogue: Catalogue | None = None,
    access: Access | None = None,
    defaults: NewUserDefaults | None = None,
    job_attempts: int = 5,
    web_links: WebLinks | None = None,
    limits: Mapping[Transport, Limits] | None = None,
    on_jobs: Callable[[], None] | None = None,
) -> Conversation:
    """``catalogue``: the texts (default: :func:`texts`); ``on_jobs``: called after a turn
    queued a job (the worker's wake-up; None: nothing runs the jobs here, as in tests of the
    conversation alone)."""
    flows: dict[str, Flow] = {
        "session": session.SessionFlow(),
        "sessions": sessions.SessionsFlow(),
        "weapons": weapons.WeaponsFlow(),
        "profile": profile.ProfileFlow(),
        "coach": coach.CoachFlow(),
        "jobs": jobs.JobsFlow(),
        "export": export.ExportFlow(),
        "stats": stats.StatsFlow(),
        "web": web.WebFlow(),
        "mydata": mydata.MyDataFlow(),
        "erase": erase.EraseFlow(),
    }
    buttons: dict[str, Action] = {
        ai_results.REGENERATE_REFLECTION: actions.regenerate_reflection,
        ai_results.REGENERATE_INSIGHT: actions.regenerate_insight,
        ai_results.ASK_COACH: coach.ask_about_session,
        reminders.STOP: actions.stop_reminders,
    }
    return Conversation(
        db,
        clock=clock,
        data_dir=data_dir,
        flows=flows,
        catalogue=texts() if catalogue is None else catalogue,
        access=access,
        defaults=defaults,
        actions=buttons,
        job_attempts=job_attempts,
        on_jobs=on_jobs,
        web_links=web_links,
        limits=limits,
    )


def texts() -> dict[str, tuple[str, str]]:
    """Every text the chat shows: the flows', the actions' and the jobs' that push messages."""
    return merged(
        fields.TEXTS,
        session.TEXTS,
        sessions.TEXTS,
        weapons.TEXTS,
        profile.TEXTS,
        actions.TEXTS,
        coach.TEXTS,
        jobs.TEXTS,
        export.TEXTS,
        stats.TEXTS,
        web.TEXTS,
        mydata.TEXTS,
        erase.TEXTS,
        ai_results.TEXTS,
        export_job.TEXTS,
        charts.TEXTS,
        mydata_job.TEXTS,
        reminders.TEXTS,
    )


def command_menu(language: Language) -> list[tuple[str, str]]:
    """(name, description) of every command in ``language``, for the chat app's menu."""
    t = Translator(texts(), language)
    return [(command.name(language), t(f"cmd.{command.key}")) for command in COMMANDS]
