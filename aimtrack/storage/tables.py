"""The schema: SQLAlchemy 2 typed tables.

Constraints make bad states impossible rather than merely unlikely:

* every child row carries its owner's ``user_id`` and points at its parent through a
  composite ``(user_id, id)`` foreign key, so no row can reference another user's session,
  entry or weapon, whatever the code above does;
* ranges (shots, distance, score per shot) are CHECK constraints built from
  :mod:`aimtrack.core.limits`, the same numbers input validation uses;
* an entry keeps its weapon (``NO ACTION``): a weapon with history cannot be deleted;
* one reflection per session, one insight per weapon (UNIQUE).

Scores are stored as whole tenths (``431.5`` -> ``4315``): exact on every backend.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aimtrack.core import limits
from aimtrack.core.model import (
    AIStatus,
    AttachmentOwner,
    CompetitionType,
    JobStatus,
    Language,
    MessageRole,
    ReminderKind,
    SessionStatus,
    WeaponType,
)
from aimtrack.storage.types import UTCDateTime, str_enum

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SCORE_TENTHS_PER_SHOT = round(limits.MAX_SCORE_PER_SHOT * 10)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON(),
    }


def _owner_fk(
    columns: list[str], table: str, ondelete: str | None = "CASCADE"
) -> sa.ForeignKeyConstraint:
    """``(user_id, x_id) -> table(user_id, id)``: the parent must belong to the same user."""
    return sa.ForeignKeyConstraint(
        ["user_id", *columns], [f"{table}.user_id", f"{table}.id"], ondelete=ondelete
    )


def _not_blank(column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"length({column}) > 0", name=f"{column}_not_blank")


class Owned:
    """A row that belongs to one user: repositories filter every query on ``user_id``."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UserRow(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(sa.String(limits.MAX_NAME), default="")
    language: Mapped[Language] = mapped_column(str_enum(Language, "language"), default=Language.NL)
    timezone: Mapped[str] = mapped_column(sa.String(limits.MAX_TIMEZONE))
    knsa_number: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SERIAL))
    club: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SHORT_TEXT))
    licence_number: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SERIAL))
    licence_expiry: Mapped[date | None]
    is_allowed: Mapped[bool] = mapped_column(default=False)
    is_admin: Mapped[bool] = mapped_column(default=False)
    # Opt-in. No Python default: a row inserted without it (an older migration's tests, plain
    # SQL) gets the server's false, as every row that existed before the column did.
    reminders: Mapped[bool] = mapped_column(server_default=sa.false())


class IdentityRow(Base):
    """How a user is known to a transport: ('telegram', '12345'), ('console', 'anna')."""

    __tablename__ = "user_identities"
    __table_args__ = (
        sa.UniqueConstraint("transport", "external_id"),
        _not_blank("transport"),
        _not_blank("external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    transport: Mapped[str] = mapped_column(sa.String(limits.MAX_TRANSPORT))
    external_id: Mapped[str] = mapped_column(sa.String(limits.MAX_EXTERNAL_ID))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WeaponRow(Owned, Timestamps, Base):
    __tablename__ = "weapons"
    __table_args__ = (sa.UniqueConstraint("user_id", "id"), _not_blank("name"))

    name: Mapped[str] = mapped_column(sa.String(limits.MAX_NAME))
    nickname: Mapped[str | None] = mapped_column(sa.String(limits.MAX_NAME))
    weapon_type: Mapped[WeaponType] = mapped_column(str_enum(WeaponType, "weapon_type"))
    caliber: Mapped[str | None] = mapped_column(sa.String(limits.MAX_CALIBER))
    serial_number: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SERIAL))
    storage_location: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SHORT_TEXT))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    purchase_date: Mapped[date | None]
    licensed: Mapped[bool] = mapped_column(default=True)
    retired_on: Mapped[date | None]


class SessionRow(Owned, Timestamps, Base):
    __tablename__ = "sessions"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "id"),
        sa.Index(None, "user_id", "occurred_on"),
        sa.CheckConstraint(
            "ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at",
            name="ends_after_start",
        ),
    )

    occurred_on: Mapped[date]
    club: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SHORT_TEXT))
    location: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SHORT_TEXT))
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    weather: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SHORT_TEXT))
    ammunition_brand: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SHORT_TEXT))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    reflection: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus, "session_status"), default=SessionStatus.SAVED
    )


class EntryRow(Owned, Base):
    __tablename__ = "session_weapon_entries"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "id"),
        _owner_fk(["session_id"], "sessions"),
        _owner_fk(["weapon_id"], "weapons", ondelete=None),  # NO ACTION: history keeps its weapon
        sa.Index(None, "session_id"),
        sa.Index(None, "weapon_id"),
        sa.CheckConstraint(
            f"distance_m BETWEEN {limits.MIN_DISTANCE_M} AND {limits.MAX_DISTANCE_M}",
            name="distance_range",
        ),
        sa.CheckConstraint(f"shots BETWEEN 1 AND {limits.MAX_SHOTS}", name="shots_range"),
        sa.CheckConstraint(
            "score_tenths IS NULL OR"
            f" (score_tenths >= 0 AND score_tenths <= shots * {SCORE_TENTHS_PER_SHOT})",
            name="score_range",
        ),
        sa.CheckConstraint("position >= 0", name="position_positive"),
    )

    session_id: Mapped[int]
    weapon_id: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    distance_m: Mapped[int]
    shots: Mapped[int]
    score_tenths: Mapped[int | None]
    caliber: Mapped[str | None] = mapped_column(sa.String(limits.MAX_CALIBER))
    ammunition: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SHORT_TEXT))
    discipline: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SHORT_TEXT))
    competition: Mapped[CompetitionType] = mapped_column(
        str_enum(CompetitionType, "competition_type"), default=CompetitionType.NONE
    )
    grouping_note: Mapped[str | None] = mapped_column(sa.String(limits.MAX_SHORT_TEXT))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttachmentRow(Owned, Base):
    __tablename__ = "attachments"
    __table_args__ = (
        _owner_fk(["session_id"], "sessions"),
        _owner_fk(["entry_id"], "session_weapon_entries"),
        _owner_fk(["weapon_id"], "weapons"),
        sa.Index(None, "session_id"),
        sa.Index(None, "entry_id"),
        sa.Index(None, "weapon_id"),
        sa.CheckConstraint(
            "(CASE WHEN session_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN entry_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN weapon_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_owner",
        ),
        sa.CheckConstraint(
            f"size_bytes BETWEEN 1 AND {limits.MAX_ATTACHMENT_BYTES}", name="size_range"
        ),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_length"),
        sa.CheckConstraint(
            "mime IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')",
            name="mime_allowed",
        ),
    )

    session_id: Mapped[int | None]
    entry_id: Mapped[int | None]
    weapon_id: Mapped[int | None]
    path: Mapped[str] = mapped_column(sa.String(limits.MAX_PATH), unique=True)
    mime: Mapped[str] = mapped_column(sa.String(50))
    size_bytes: Mapped[int]
    original_name: Mapped[str | None] = mapped_column(sa.String(limits.MAX_ORIGINAL_NAME))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def owner(self) -> tuple[AttachmentOwner, int]:
        if self.session_id is not None:
            return AttachmentOwner.SESSION, self.session_id
        if self.entry_id is not None:
            return AttachmentOwner.ENTRY, self.entry_id
        assert self.weapon_id is not None  # noqa: S101 - guaranteed by ck_attachments_one_owner
        return AttachmentOwner.WEAPON, self.weapon_id


class AIAuditColumns:
    provider: Mapped[str | None] = mapped_column(sa.String(limits.MAX_AI_PROVIDER))
    model: Mapped[str | None] = mapped_column(sa.String(limits.MAX_AI_MODEL))
    status: Mapped[AIStatus] = mapped_column(
        str_enum(AIStatus, "ai_status"), default=AIStatus.PENDING
    )
    error: Mapped[str | None] = mapped_column(sa.Text)
    generated_at: Mapped[datetime | None]


class ReflectionRow(Owned, AIAuditColumns, Timestamps, Base):
    __tablename__ = "ai_reflections"
    __table_args__ = (_owner_fk(["session_id"], "sessions"),)

    session_id: Mapped[int] = mapped_column(unique=True)
    summary: Mapped[str | None] = mapped_column(sa.Text)
    went_well: Mapped[str | None] = mapped_column(sa.Text)
    needs_improvement: Mapped[str | None] = mapped_column(sa.Text)
    next_focus: Mapped[str | None] = mapped_column(sa.Text)


class WeaponInsightRow(Owned, AIAuditColumns, Timestamps, Base):
    __tablename__ = "ai_weapon_insights"
    __table_args__ = (_owner_fk(["weapon_id"], "weapons"),)

    weapon_id: Mapped[int] = mapped_column(unique=True)
    trends: Mapped[str | None] = mapped_column(sa.Text)
    typical_issues: Mapped[str | None] = mapped_column(sa.Text)
    recommendations: Mapped[str | None] = mapped_column(sa.Text)


class CoachThreadRow(Owned, Timestamps, Base):
    __tablename__ = "coach_threads"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "id"),
        _owner_fk(["weapon_id"], "weapons", ondelete=None),
        sa.CheckConstraint(
            "period_from IS NULL OR period_to IS NULL OR period_from <= period_to",
            name="period_order",
        ),
        _not_blank("title"),
    )

    title: Mapped[str] = mapped_column(sa.String(limits.MAX_SHORT_TEXT))
    weapon_id: Mapped[int | None] = mapped_column(index=True)
    period_from: Mapped[date | None]
    period_to: Mapped[date | None]


class CoachMessageRow(Owned, Base):
    __tablename__ = "coach_messages"
    __table_args__ = (_owner_fk(["thread_id"], "coach_threads"), _not_blank("content"))

    thread_id: Mapped[int] = mapped_column(index=True)
    role: Mapped[MessageRole] = mapped_column(str_enum(MessageRole, "message_role"))
    content: Mapped[str] = mapped_column(sa.Text)
    provider: Mapped[str | None] = mapped_column(sa.String(limits.MAX_AI_PROVIDER))
    model: Mapped[str | None] = mapped_column(sa.String(limits.MAX_AI_MODEL))
    # Set on assistant answers only (written pending, completed by the worker); NULL for the
    # user's own messages, which nothing generates.
    status: Mapped[AIStatus | None] = mapped_column(str_enum(AIStatus, "ai_status"))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRow(Timestamps, Base):
    """The durable queue: state lives here, the scheduler only triggers."""

    __tablename__ = "jobs"
    __table_args__ = (
        sa.Index(None, "status", "run_after"),
        sa.CheckConstraint("attempts >= 0", name="attempts_positive"),
        sa.CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
        sa.CheckConstraint("attempts <= max_attempts", name="attempts_within_max"),
        _not_blank("kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(limits.MAX_JOB_KIND))
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, "job_status"), default=JobStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    # Who holds the lease: a worker completes a job only while it still owns it, so one whose
    # lease expired (and was taken over) cannot overwrite the new holder's result.
    lease_owner: Mapped[str | None] = mapped_column(sa.String(limits.MAX_LEASE_OWNER))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    idempotency_key: Mapped[str | None] = mapped_column(
        sa.String(limits.MAX_IDEMPOTENCY_KEY), unique=True
    )
    finished_at: Mapped[datetime | None]
    # The chat message the job already sent, so a run after a crash does not send it twice.
    sent_message_id: Mapped[str | None] = mapped_column(sa.String(limits.MAX_MESSAGE_ID))


class ProcessedUpdateRow(Base):
    """Update ids already handled, so a replayed update is handled once."""

    __tablename__ = "processed_updates"

    transport: Mapped[str] = mapped_column(sa.String(limits.MAX_TRANSPORT), primary_key=True)
    update_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WebLinkRow(Base):
    """One-time web links already exchanged for a session, by nonce: a link works once.

    Installation-wide like ``processed_updates``: a nonce is random and says nothing about its
    user's data. A row may go once its link has expired (it can no longer be used anyway).
    """

    __tablename__ = "web_links"
    __table_args__ = (_not_blank("nonce"),)

    nonce: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderSentRow(Owned, Base):
    """Reminders already queued for a user, so none is sent twice (see core/reminders.py)."""

    __tablename__ = "reminders_sent"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind", "key"), _not_blank("key"))

    kind: Mapped[ReminderKind] = mapped_column(str_enum(ReminderKind, "reminder_kind"))
    key: Mapped[str] = mapped_column(sa.String(limits.MAX_REMINDER_KEY))
    sent_at: Mapped[datetime]


class ConversationRow(Owned, Base):
    """Where each user is in a flow, per chat: saved after every step."""

    __tablename__ = "conversation_states"
    __table_args__ = (sa.UniqueConstraint("user_id", "transport", "chat_id"),)

    transport: Mapped[str] = mapped_column(sa.String(limits.MAX_TRANSPORT))
    chat_id: Mapped[str] = mapped_column(sa.String(limits.MAX_CHAT_ID))
    flow: Mapped[str] = mapped_column(sa.String(limits.MAX_FLOW_NAME))
    step: Mapped[str] = mapped_column(sa.String(limits.MAX_FLOW_NAME))
    draft: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
