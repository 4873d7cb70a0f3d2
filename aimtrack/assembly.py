"""The composition root: every object of a running AimTrack, built once with its collaborators.

``aimtrack run`` and ``aimtrack chat`` (:mod:`aimtrack.cli`) read the settings, open the
database and call :func:`assemble_from`; tests call :func:`assemble` with what they vary.
Nothing is patched onto an object after it is built: the conversation wakes the worker it was
given, the worker ticks itself when a job ends, and a transport gets its options, its texts and
its menu as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aimtrack.bot.app import build_conversation, texts
from aimtrack.bot.conversation import Conversation, Limits
from aimtrack.bot.flow import WebLinks
from aimtrack.bot.push import Messengers
from aimtrack.config import Settings
from aimtrack.core.access import Access
from aimtrack.core.clock import Clock
from aimtrack.core.model import Language, Transport
from aimtrack.core.ratelimit import RateLimiter
from aimtrack.jobs.registry import job_handlers
from aimtrack.jobs.reminders import Reachable, ReminderScan
from aimtrack.jobs.services import JobServices
from aimtrack.jobs.worker import JobWorker, WorkerConfig
from aimtrack.storage.engine import Database
from aimtrack.storage.repos.users import NewUserDefaults
from aimtrack.web.links import LinkIssuer, WebKeys, base_url

if TYPE_CHECKING:
    from aimtrack.ai.coach import ShooterCoach
    from aimtrack.bot.transports.telegram.service import TelegramOptions
    from aimtrack.web.app import Webhook
    from aimtrack.web.health import TelegramStatus
    from aimtrack.web.server import WebServer


@dataclass(frozen=True, slots=True)
class Assembly:
    """A running AimTrack's parts: the conversation the transports talk to, the job worker
    that answers what it queues, and the pushers through which jobs reach the chats."""

    db: Database
    clock: Clock
    access: Access
    messengers: Messengers
    jobs: JobServices
    worker: JobWorker
    conversation: Conversation

    def reminders(self, reachable: Reachable) -> ReminderScan:
        """The reminder scan, for the chats ``reachable`` from this process."""
        return ReminderScan(self.db, clock=self.clock, access=self.access, reachable=reachable)


def assemble(
    db: Database,
    *,
    clock: Clock,
    data_dir: Path,
    coach: ShooterCoach | None = None,
    access: Access | None = None,
    defaults: NewUserDefaults | None = None,
    job_attempts: int = 5,
    web_links: WebLinks | None = None,
    limits: Mapping[Transport, Limits] | None = None,
    worker: WorkerConfig | None = None,
    messengers: Messengers | None = None,
) -> Assembly:
    """``coach``: the model the AI jobs ask (None: the statistics answer)."""
    catalogue = texts()
    access = access or Access()
    messengers = messengers or Messengers()
    jobs = JobServices(
        db, clock=clock, messengers=messengers, catalogue=catalogue, data_dir=data_dir
    )
    job_worker = JobWorker(
        db, job_handlers(jobs, coach=coach, access=access), clock=clock, config=worker
    )
    conversation = build_conversation(
        db,
        clock=clock,
        data_dir=data_dir,
        catalogue=catalogue,
        access=access,
        defaults=defaults,
        job_attempts=job_attempts,
        web_links=web_links,
        limits=limits,
        on_jobs=job_worker.wake,
    )
    return Assembly(db, clock, access, messengers, jobs, job_worker, conversation)


def assemble_from(
    settings: Settings, db: Database, *, clock: Clock, coach: ShooterCoach | None
) -> Assembly:
    """Everything as the settings say: who may talk, the limits of every Telegram user, the
    queue's attempts and timings, the web page's links."""
    return assemble(
        db,
        clock=clock,
        data_dir=settings.data_dir,
        coach=coach,
        access=Access(telegram_ids=settings.allowed_users),
        defaults=new_user_defaults(settings),
        job_attempts=settings.ai_max_attempts,
        web_links=web_links(settings),
        limits={
            Transport.TELEGRAM: Limits(
                messages=RateLimiter(settings.rate_limit), ai=settings.ai_quota
            )
        },
        worker=worker_config(settings),
    )


def new_user_defaults(settings: Settings) -> NewUserDefaults:
    return NewUserDefaults(language=Language(settings.default_language), timezone=settings.timezone)


def worker_config(settings: Settings) -> WorkerConfig:
    return WorkerConfig(
        concurrency=settings.ai_concurrency,
        lease=timedelta(seconds=settings.job_lease_s),
        backoff_base=timedelta(seconds=settings.job_backoff_base_s),
        backoff_max=timedelta(seconds=settings.job_backoff_max_s),
        max_attempts=settings.ai_max_attempts,
    )


def coach_from(settings: Settings) -> ShooterCoach | None:
    """The coach on the configured AI server, or None: the statistics fallback answers. The
    AI client (openai) is imported only when one is configured."""
    if settings.ai_base_url is None:
        return None
    from aimtrack.ai.client import ModelConfig, OpenAICompatible  # noqa: PLC0415 -- heavy
    from aimtrack.ai.coach import ShooterCoach  # noqa: PLC0415

    return ShooterCoach(
        OpenAICompatible(
            ModelConfig(
                base_url=str(settings.ai_base_url),
                model=settings.ai_model.strip(),
                api_key=settings.ai_api_key.get_secret_value() if settings.ai_api_key else None,
                timeout_s=settings.ai_timeout_s,
                vision=settings.ai_vision,
                provider=settings.ai_provider.strip(),
            )
        )
    )


def web_keys(settings: Settings) -> WebKeys | None:
    """The web page's keys; None without AIMTRACK_SECRET_KEY (then there is no web page)."""
    if settings.secret_key is None:
        return None
    return WebKeys(settings.secret_key.get_secret_value())


def web_links(settings: Settings) -> LinkIssuer | None:
    keys = web_keys(settings)
    if keys is None:
        return None
    public = str(settings.public_url) if settings.public_url else None
    return LinkIssuer(keys, base_url(public, settings.web_host, settings.web_port))


def web_server(
    settings: Settings,
    db: Database,
    *,
    clock: Clock,
    telegram: TelegramStatus | None = None,
    webhook: Webhook | None = None,
) -> WebServer:
    """/health, the webhook and the export page, on AIMTRACK_WEB_HOST:AIMTRACK_WEB_PORT."""
    from aimtrack.web.app import WebConfig, build_app  # noqa: PLC0415 -- Starlette, uvicorn
    from aimtrack.web.server import WebServer  # noqa: PLC0415

    public = str(settings.public_url) if settings.public_url else ""
    app = build_app(
        db,
        clock=clock,
        keys=web_keys(settings),
        config=WebConfig(
            secure_cookies=public.startswith("https://"),
            language=Language(settings.default_language),
            allowed_telegram_ids=settings.allowed_users,
        ),
        telegram=telegram,
        webhook=webhook,
    )
    return WebServer(app, host=settings.web_host, port=settings.web_port)


def telegram_options(settings: Settings) -> TelegramOptions:
    from aimtrack.bot.transports.telegram.service import TelegramOptions  # noqa: PLC0415

    if settings.telegram_token is None:
        msg = "no AIMTRACK_TELEGRAM_TOKEN is configured"
        raise ValueError(msg)
    return TelegramOptions(
        token=settings.telegram_token.get_secret_value(),
        base_url=str(settings.telegram_base_url),
        webhook_url=None if settings.webhook_url is None else str(settings.webhook_url),
        secret_key=None if settings.secret_key is None else settings.secret_key.get_secret_value(),
        job_poll_s=settings.job_poll_s,
        reminder_scan_s=settings.reminder_scan_s,
    )
