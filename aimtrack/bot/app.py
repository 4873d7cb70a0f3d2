"""Assemble the conversation core: every flow and its texts, behind one ``Conversation``; and
the job worker that answers the AI requests those flows queue."""

from __future__ import annotations

from pathlib import Path

from aimtrack.ai.coach import ShooterCoach
from aimtrack.ai.worker import JobWorker, WorkerConfig
from aimtrack.bot import ai_messages, erase_jobs, export_jobs, mydata_jobs, reminders, stats_jobs
from aimtrack.bot.ai_jobs import AIJobs
from aimtrack.bot.commands import COMMANDS
from aimtrack.bot.conversation import Access, Action, Conversation, catalogue
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
from aimtrack.bot.push import Messengers
from aimtrack.core.clock import Clock
from aimtrack.core.i18n import Translator
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
    job_attempts: int = 5,
    web_links: WebLinks | None = None,
) -> Conversation:
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
    actions: dict[str, Action] = {
        "r": ai_messages.regenerate_reflection,
        "t": ai_messages.regenerate_insight,
        "c": coach.ask_about_session,
        reminders.STOP: reminders.stop_reminders,
    }
    return Conversation(
        db,
        clock=clock,
        data_dir=data_dir,
        flows=flows,
        catalogue=texts(),
        access=access,
        defaults=defaults,
        actions=actions,
        job_attempts=job_attempts,
        web_links=web_links,
    )


def texts() -> dict[str, tuple[str, str]]:
    return catalogue(
        fields.TEXTS,
        session.TEXTS,
        sessions.TEXTS,
        weapons.TEXTS,
        profile.TEXTS,
        ai_messages.TEXTS,
        coach.TEXTS,
        jobs.TEXTS,
        export.TEXTS,
        export_jobs.TEXTS,
        reminders.TEXTS,
        stats.TEXTS,
        stats_jobs.TEXTS,
        web.TEXTS,
        mydata_jobs.TEXTS,
        erase.TEXTS,
    )


def build_worker(
    conversation: Conversation,
    *,
    coach: ShooterCoach | None,
    messengers: Messengers,
    config: WorkerConfig | None = None,
) -> JobWorker:
    """The worker for the AI and export jobs the conversation queues; results go out through
    ``messengers`` (each running transport registers its pusher there)."""
    jobs = AIJobs(
        conversation.db,
        coach=coach,
        messengers=messengers,
        catalogue=conversation.catalogue,
        clock=conversation.clock,
        data_dir=conversation.data_dir,
    )
    handlers = {
        **jobs.handlers(),
        export_jobs.EXPORT: export_jobs.ExportJob(jobs),
        reminders.REMINDER: reminders.ReminderJob(jobs, access=conversation.access),
        stats_jobs.CHARTS: stats_jobs.ChartsJob(jobs),
        mydata_jobs.MYDATA: mydata_jobs.MyDataJob(jobs),
        erase_jobs.ERASE_FILES: erase_jobs.EraseFilesJob(jobs),
    }
    worker = JobWorker(conversation.db, handlers, clock=conversation.clock, config=config)
    conversation.on_jobs = worker.wake
    return worker


def command_descriptions(language: Language) -> list[tuple[str, str]]:
    """(name, description) of every command in ``language``, for the chat app's menu."""
    t = Translator(texts(), language)
    return [(command.name(language), t(f"cmd.{command.key}")) for command in COMMANDS]
