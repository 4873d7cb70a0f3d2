"""Domain objects: what the rest of AimTrack sees instead of ORM rows.

``*Spec`` classes are validated input (they raise :class:`InvalidInput`); the other
dataclasses are read models returned by the repositories. Every datetime is
timezone-aware UTC; calendar dates are the shooter's local dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aimtrack.core import limits
from aimtrack.core.errors import InvalidInput


class Language(StrEnum):
    NL = "nl"
    EN = "en"


class Transport(StrEnum):
    """A chat app AimTrack talks through; a user is known to it by an external id."""

    TELEGRAM = "telegram"
    CONSOLE = "console"  # `aimtrack chat`: whoever runs it on the machine


class WeaponType(StrEnum):
    PISTOL = "pistol"
    REVOLVER = "revolver"
    RIFLE = "rifle"
    CARBINE = "carbine"
    SHOTGUN = "shotgun"
    AIR_PISTOL = "air_pistol"
    AIR_RIFLE = "air_rifle"
    OTHER = "other"


class CompetitionType(StrEnum):
    NONE = "none"
    CLUB = "club"
    KNSA = "knsa"


class SessionStatus(StrEnum):
    DRAFT = "draft"  # "photo now, details later": not yet confirmed by the shooter
    SAVED = "saved"


class AIStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class AttachmentOwner(StrEnum):
    SESSION = "session"
    ENTRY = "entry"
    WEAPON = "weapon"


class ReminderKind(StrEnum):
    LICENCE = "licence"  # the licence duties (days, matches): at most once a week
    DRAFT = "draft"  # a "photo now, details later" draft left open: once per draft


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


ALLOWED_ATTACHMENT_MIME = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf"})
_MAX_SCORE = Decimal(str(limits.MAX_SCORE_PER_SHOT)) * limits.MAX_SHOTS
_SHA256 = re.compile(r"[0-9a-f]{64}")
# C0 and C1 controls (tab, LF and CR allowed) and the bidi overrides that can disguise text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# --- validation helpers ------------------------------------------------------------------


def clean_text(name: str, value: str | None, *, max_len: int, required: bool = False) -> str | None:
    """Strip, refuse control characters and over-long text; empty means absent."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise InvalidInput(name, "must be text")
    if _CONTROL.search(text):
        raise InvalidInput(name, "contains control characters")
    if len(text) > max_len:
        raise InvalidInput(name, f"is longer than {max_len} characters")
    if not text:
        if required:
            raise InvalidInput(name, "is required")
        return None
    return text


def required_text(name: str, value: str | None, *, max_len: int) -> str:
    text = clean_text(name, value, max_len=max_len, required=True)
    assert text is not None  # noqa: S101 - guaranteed by required=True
    return text


def fit_text(value: object, max_len: int) -> str | None:
    """Record-keeping text (who answered, why it failed) is cut to fit, never refused."""
    return None if value is None else str(value)[:max_len]


def is_time_zone(value: object) -> bool:
    """Whether ``value`` names an IANA time zone ('Europe' is a folder, not a zone)."""
    if not isinstance(value, str) or not value:
        return False
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def is_row_id(value: object) -> bool:
    """Whether ``value`` can be a row id at all (forged callback data can hold any number)."""
    return (
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= limits.MAX_ROW_ID
    )


def _clean_fields(spec: object, *limits_by_field: tuple[str, int]) -> None:
    """Clean each optional text field of a frozen spec in place (see :func:`clean_text`)."""
    for name, max_len in limits_by_field:
        object.__setattr__(spec, name, clean_text(name, getattr(spec, name), max_len=max_len))


def whole_number(name: str, value: object, *, low: int, high: int) -> int:
    """``value`` as a whole number within ``low..high`` (not a bool), or InvalidInput."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(name, "must be a whole number")
    if not low <= value <= high:
        raise InvalidInput(name, f"must be between {low} and {high}")
    return value


def _date(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise InvalidInput(name, "must be a date")


def _flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidInput(name, "must be yes or no")


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and not isinstance(value, datetime):
        raise InvalidInput(name, "must be a date and time")
    if value is not None and value.tzinfo is None:
        raise InvalidInput(name, "must carry a time zone")
    return value


def parse_score(value: object) -> Decimal | None:
    """A score with at most one decimal (10.9 scoring), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput("score", "must be a number")
    try:
        score = Decimal(str(value).replace(",", ".")) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise InvalidInput("score", "must be a number") from None
    if not score.is_finite():
        raise InvalidInput("score", "must be a number")
    if score < 0:
        raise InvalidInput("score", "must be zero or more")
    if score > _MAX_SCORE:
        raise InvalidInput("score", f"must be at most {_MAX_SCORE}")
    tenths = score.quantize(Decimal("0.1"))
    if score != tenths:
        raise InvalidInput("score", "may have one decimal at most")
    return tenths.copy_abs()  # -0 becomes 0


# --- users --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    display_name: str
    language: Language = Language.NL
    timezone: str = "Europe/Amsterdam"
    knsa_number: str | None = None
    club: str | None = None
    licence_number: str | None = None
    licence_expiry: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "display_name",
            required_text("display_name", self.display_name, max_len=limits.MAX_NAME),
        )
        try:
            object.__setattr__(self, "language", Language(self.language))
        except ValueError:
            raise InvalidInput("language", "must be nl or en") from None
        if not is_time_zone(self.timezone):
            raise InvalidInput("timezone", "is not a known time zone")
        _date("licence_expiry", self.licence_expiry)
        _clean_fields(
            self,
            ("knsa_number", limits.MAX_SERIAL),
            ("club", limits.MAX_SHORT_TEXT),
            ("licence_number", limits.MAX_SERIAL),
        )


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: int
    display_name: str
    language: Language
    timezone: str
    knsa_number: str | None
    club: str | None
    licence_number: str | None
    licence_expiry: date | None
    is_allowed: bool
    is_admin: bool
    reminders: bool = False  # opt-in (/profiel); switched by ProfileRepo.set_reminders


@dataclass(frozen=True, slots=True)
class UserAccount:
    """A user as the allowlist sees it: identities per transport and flags."""

    user_id: int
    display_name: str
    telegram_id: int | None
    is_allowed: bool
    is_admin: bool
    created_at: datetime


# --- weapons ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeaponSpec:
    name: str
    weapon_type: WeaponType = WeaponType.OTHER
    caliber: str | None = None
    nickname: str | None = None
    serial_number: str | None = None
    storage_location: str | None = None
    notes: str | None = None
    purchase_date: date | None = None
    licensed: bool = True  # on the shooter's licence (WM-4); False for club or borrowed guns

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", required_text("name", self.name, max_len=limits.MAX_NAME))
        try:
            object.__setattr__(self, "weapon_type", WeaponType(self.weapon_type))
        except ValueError:
            raise InvalidInput("weapon_type", "is not a known weapon type") from None
        _date("purchase_date", self.purchase_date)
        _flag("licensed", self.licensed)
        _clean_fields(
            self,
            ("caliber", limits.MAX_CALIBER),
            ("nickname", limits.MAX_NAME),
            ("serial_number", limits.MAX_SERIAL),
            ("storage_location", limits.MAX_SHORT_TEXT),
            ("notes", limits.MAX_NOTE),
        )


@dataclass(frozen=True, slots=True)
class Weapon:
    id: int
    name: str
    weapon_type: WeaponType
    caliber: str | None
    nickname: str | None
    serial_number: str | None
    storage_location: str | None
    notes: str | None
    purchase_date: date | None
    licensed: bool
    retired_on: date | None
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.retired_on is None


# --- sessions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntrySpec:
    weapon_id: int
    distance_m: int
    shots: int
    score: Decimal | None = None
    caliber: str | None = None
    ammunition: str | None = None
    discipline: str | None = None
    competition: CompetitionType = CompetitionType.NONE
    grouping_note: str | None = None
    notes: str | None = None

    def __post_init__(self) -> None:
        whole_number("weapon_id", self.weapon_id, low=1, high=limits.MAX_ROW_ID)
        whole_number(
            "distance_m", self.distance_m, low=limits.MIN_DISTANCE_M, high=limits.MAX_DISTANCE_M
        )
        whole_number("shots", self.shots, low=1, high=limits.MAX_SHOTS)
        score = parse_score(self.score)
        if score is not None and score > Decimal(str(limits.MAX_SCORE_PER_SHOT)) * self.shots:
            raise InvalidInput("score", f"is more than {limits.MAX_SCORE_PER_SHOT} per shot")
        object.__setattr__(self, "score", score)
        try:
            object.__setattr__(self, "competition", CompetitionType(self.competition))
        except ValueError:
            raise InvalidInput("competition", "must be none, club or knsa") from None
        _clean_fields(
            self,
            ("caliber", limits.MAX_CALIBER),
            ("ammunition", limits.MAX_SHORT_TEXT),
            ("discipline", limits.MAX_SHORT_TEXT),
            ("grouping_note", limits.MAX_SHORT_TEXT),
            ("notes", limits.MAX_NOTE),
        )


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    session_id: int
    position: int
    weapon_id: int
    distance_m: int
    shots: int
    score: Decimal | None
    caliber: str | None
    ammunition: str | None
    discipline: str | None
    competition: CompetitionType
    grouping_note: str | None
    notes: str | None


@dataclass(frozen=True, slots=True)
class SessionSpec:
    occurred_on: date  # the shooter's local calendar date: what the licence register counts
    club: str | None = None
    location: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    weather: str | None = None
    ammunition_brand: str | None = None
    notes: str | None = None
    reflection: str | None = None
    status: SessionStatus = SessionStatus.SAVED

    def __post_init__(self) -> None:
        if self.occurred_on is None:
            raise InvalidInput("occurred_on", "is required")
        _date("occurred_on", self.occurred_on)
        _aware("started_at", self.started_at)
        _aware("ended_at", self.ended_at)
        if self.started_at and self.ended_at and self.ended_at < self.started_at:
            raise InvalidInput("ended_at", "is before the start")
        try:
            object.__setattr__(self, "status", SessionStatus(self.status))
        except ValueError:
            raise InvalidInput("status", "must be draft or saved") from None
        _clean_fields(
            self,
            ("club", limits.MAX_SHORT_TEXT),
            ("location", limits.MAX_SHORT_TEXT),
            ("weather", limits.MAX_SHORT_TEXT),
            ("ammunition_brand", limits.MAX_SHORT_TEXT),
            ("notes", limits.MAX_NOTE),
            ("reflection", limits.MAX_NOTE),
        )


@dataclass(frozen=True, slots=True)
class ShootingSession:
    id: int
    occurred_on: date
    club: str | None
    location: str | None
    started_at: datetime | None
    ended_at: datetime | None
    weather: str | None
    ammunition_brand: str | None
    notes: str | None
    reflection: str | None
    status: SessionStatus
    created_at: datetime
    updated_at: datetime
    entries: tuple[Entry, ...] = ()


# --- attachments --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttachmentSpec:
    owner: AttachmentOwner
    owner_id: int
    path: str  # relative to the data directory
    mime: str
    size_bytes: int
    sha256: str
    original_name: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "owner", AttachmentOwner(self.owner))
        except ValueError:
            raise InvalidInput("owner", "must be session, entry or weapon") from None
        whole_number("owner_id", self.owner_id, low=1, high=limits.MAX_ROW_ID)
        if not isinstance(self.mime, str) or self.mime not in ALLOWED_ATTACHMENT_MIME:
            raise InvalidInput("mime", "must be a JPEG, PNG or WEBP image or a PDF")
        whole_number("size_bytes", self.size_bytes, low=1, high=limits.MAX_ATTACHMENT_BYTES)
        if not isinstance(self.sha256, str) or not _SHA256.fullmatch(self.sha256):
            raise InvalidInput("sha256", "must be 64 lowercase hex digits")
        path = self.path
        if (
            not isinstance(path, str)
            or not path
            or len(path) > limits.MAX_PATH
            or path.startswith(("/", "\\"))
            or any(part in {"", ".", ".."} for part in path.replace("\\", "/").split("/"))
            or _CONTROL.search(path)
        ):
            raise InvalidInput("path", "must be a plain path inside the data directory")
        object.__setattr__(
            self,
            "original_name",
            clean_text("original_name", self.original_name, max_len=limits.MAX_ORIGINAL_NAME),
        )


@dataclass(frozen=True, slots=True)
class Attachment:
    id: int
    owner: AttachmentOwner
    owner_id: int
    path: str
    mime: str
    size_bytes: int
    sha256: str
    original_name: str | None
    created_at: datetime


# --- AI -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AIAudit:
    """Who produced an AI result and how it went. Text is cut to fit, never refused: a failing
    job must always be able to record why it failed."""

    status: AIStatus
    provider: str | None = None
    model: str | None = None
    error: str | None = None
    generated_at: datetime | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "status", AIStatus(self.status))
        except ValueError:
            raise InvalidInput("status", "is not an AI status") from None
        _aware("generated_at", self.generated_at)
        for name, max_len in (
            ("provider", limits.MAX_AI_PROVIDER),
            ("model", limits.MAX_AI_MODEL),
            ("error", limits.MAX_AI_TEXT),
        ):
            object.__setattr__(self, name, fit_text(getattr(self, name), max_len))


@dataclass(frozen=True, slots=True)
class ReflectionText:
    """What a reflection on one session says, made by a model or from the statistics."""

    summary: str
    went_well: str
    needs_improvement: str
    next_focus: str


@dataclass(frozen=True, slots=True)
class InsightText:
    """What the trends of one weapon say."""

    trends: str
    typical_issues: str
    recommendations: str


@dataclass(frozen=True, slots=True)
class AnswerText:
    """The coach's answer to a free question."""

    answer: str


@dataclass(frozen=True, slots=True)
class Reflection:
    session_id: int
    summary: str | None
    went_well: str | None
    needs_improvement: str | None
    next_focus: str | None
    audit: AIAudit


@dataclass(frozen=True, slots=True)
class WeaponInsight:
    weapon_id: int
    trends: str | None
    typical_issues: str | None
    recommendations: str | None
    audit: AIAudit


@dataclass(frozen=True, slots=True)
class CoachThread:
    id: int
    title: str
    weapon_id: int | None
    period_from: date | None
    period_to: date | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CoachMessage:
    id: int
    thread_id: int
    role: MessageRole
    content: str
    provider: str | None
    model: str | None
    created_at: datetime
    # How an assistant answer went (None on the user's own messages); the error says why not.
    status: AIStatus | None = None
    error: str | None = None


# --- background jobs ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Job:
    """One row of the durable queue, as a worker or the owner's ``aimtrack jobs`` sees it."""

    id: int
    kind: str
    user_id: int | None
    payload: dict[str, Any]
    status: JobStatus
    attempts: int  # attempts started, counted when claimed
    max_attempts: int
    run_after: datetime
    lease_until: datetime | None
    lease_owner: str | None
    last_error: str | None
    # The chat message this job already sent: a run after a crash must not send it again.
    sent_message_id: str | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class QueueStats:
    pending: int  # due or not
    running: int
    failed: int
    oldest_pending_at: datetime | None  # created_at of the oldest pending job


# --- reminders ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentReminder:
    """A reminder on record: queued to be sent at ``sent_at``, so it is not sent again."""

    kind: ReminderKind
    key: str  # the local date of a licence reminder; the draft of a draft reminder
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class Recipient:
    """A user with reminders on, and how each transport knows them (oldest identity first)."""

    user_id: int
    is_allowed: bool
    identities: tuple[tuple[Transport, str], ...]  # (transport, external id)


# --- conversation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConversationState:
    transport: Transport
    chat_id: str
    flow: str
    step: str
    draft: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None
