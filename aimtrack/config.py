"""Settings: the only place that reads the environment.

Every setting is prefixed ``AIMTRACK_`` and may also come from a ``.env`` file in the
working directory. ``.env.example`` documents each one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from aimtrack.core.model import is_time_zone
from aimtrack.core.quota import AIQuota
from aimtrack.core.ratelimit import RateLimit

ENV_PREFIX = "AIMTRACK_"
OFFICIAL_BOT_API = "https://api.telegram.org"
_PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "please-change-me"})
MIN_SECRET_KEY_LENGTH = 32
SUPPORTED_DATABASES = (
    "sqlite+aiosqlite:///path/to/aimtrack.db or postgresql+asyncpg://user:password@host/aimtrack"
)


class Settings(BaseSettings):
    """AimTrack's configuration, validated once at start."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # Telegram
    telegram_token: SecretStr | None = None
    telegram_base_url: AnyHttpUrl = AnyHttpUrl(OFFICIAL_BOT_API)
    webhook_url: AnyHttpUrl | None = None
    allowed_users: Annotated[frozenset[int], NoDecode] = frozenset()

    # Storage
    data_dir: Path = Path("data")
    database_url: SecretStr | None = None  # may hold a password

    # AI (any OpenAI-compatible server)
    ai_base_url: AnyHttpUrl | None = None
    ai_api_key: SecretStr | None = None
    ai_model: str = ""
    ai_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    ai_vision: bool = False
    ai_provider: str = Field(default="", max_length=100)  # shown on AI rows; default: the host
    ai_max_attempts: int = Field(default=5, ge=1, le=20)
    ai_concurrency: int = Field(default=2, ge=1, le=32)

    # The background job queue (AI reflections, trends, coach answers)
    job_poll_s: float = Field(default=5.0, gt=0, le=3600)
    job_lease_s: float = Field(default=120.0, ge=1, le=86400)
    job_backoff_base_s: float = Field(default=10.0, ge=0, le=3600)
    job_backoff_max_s: float = Field(default=600.0, ge=0, le=86400)
    # How often the reminders are checked. At most an hour, so the 10 daytime hours hold
    # several scans whatever the phase; nothing is lost between scans (the rules read the log).
    reminder_scan_s: float = Field(default=900.0, gt=0, le=3600)

    # Abuse limits per chat user (docs/abuse.md); the console chat has none
    user_messages_per_minute: int = Field(default=30, ge=1, le=600)
    user_message_burst: int = Field(default=20, ge=1, le=1000)
    ai_requests_per_hour: int = Field(default=20, ge=1, le=1000)
    ai_requests_per_day: int = Field(default=60, ge=1, le=10000)

    # Web page and links
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    public_url: AnyHttpUrl | None = None
    secret_key: SecretStr | None = None

    # Defaults for new users
    default_language: Literal["nl", "en"] = "nl"
    timezone: str = "Europe/Amsterdam"

    @field_validator("telegram_token", "ai_api_key", "secret_key", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("webhook_url", "ai_base_url", "public_url", "database_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_users", mode="before")
    @classmethod
    def _parse_user_ids(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        ids: set[int] = set()
        for part in value.replace(";", ",").split(","):
            token = part.strip()
            if not token:
                continue
            if not is_telegram_id(token):
                msg = f"{token!r} is not a Telegram user id (a positive whole number)"
                raise ValueError(msg)
            ids.add(int(token))
        return frozenset(ids)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            driver = make_url(value.get_secret_value()).drivername
        except (ArgumentError, ValueError):
            msg = f"is not a database URL; use {SUPPORTED_DATABASES}"
            raise ValueError(msg) from None
        if driver not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
            msg = f"uses the driver {driver!r}; use {SUPPORTED_DATABASES}"
            raise ValueError(msg)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if not is_time_zone(value):
            msg = f"unknown time zone {value!r} (use an IANA name such as Europe/Amsterdam)"
            raise ValueError(msg)
        return value

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        if raw.lower() in _PLACEHOLDER_SECRETS:
            msg = (
                "is a placeholder; generate one with:"
                " python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
            raise ValueError(msg)
        if len(raw) < MIN_SECRET_KEY_LENGTH:
            msg = f"must be at least {MIN_SECRET_KEY_LENGTH} characters"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _ai_needs_a_model(self) -> Settings:
        if self.ai_base_url is not None and not self.ai_model.strip():
            msg = "AIMTRACK_AI_MODEL must name a model when AIMTRACK_AI_BASE_URL is set"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _day_holds_the_hour(self) -> Settings:
        if self.ai_requests_per_day < self.ai_requests_per_hour:
            msg = (
                "AIMTRACK_AI_REQUESTS_PER_DAY must be at least AIMTRACK_AI_REQUESTS_PER_HOUR"
                f" ({self.ai_requests_per_hour})"
            )
            raise ValueError(msg)
        return self

    @property
    def rate_limit(self) -> RateLimit:
        """How many messages a minute (and at once) one chat user may send."""
        return RateLimit(per_minute=self.user_messages_per_minute, burst=self.user_message_burst)

    @property
    def ai_quota(self) -> AIQuota:
        """How many AI requests one chat user may make an hour and a day."""
        return AIQuota(per_hour=self.ai_requests_per_hour, per_day=self.ai_requests_per_day)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the data directory."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite+aiosqlite:///{(self.data_dir / 'aimtrack.db').resolve()}"


def is_telegram_id(text: str) -> bool:
    """ASCII digits only (``isdigit`` also takes '²' and Arabic-Indic digits), and not zero."""
    return text.isascii() and text.isdigit() and int(text) > 0


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings, turning pydantic's report into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        message = describe_validation_error(exc)
    # Raised outside the handler: the pydantic error (which holds the raw input, secrets
    # included) must not travel along as __context__.
    raise ConfigError(message)


def describe_validation_error(exc: ValidationError) -> str:
    """Name each failing setting by its environment variable, without echoing secrets."""
    problems: list[str] = []
    for error in exc.errors(include_url=False, include_input=False):
        location = [str(part) for part in error["loc"] if not isinstance(part, int)]
        message = str(error["msg"]).removeprefix("Value error, ")
        if location:
            name = ENV_PREFIX + location[0].upper()
            problems.append(f"{name}: {message}")
        else:
            problems.append(message)
    return "invalid configuration: " + "; ".join(problems)
