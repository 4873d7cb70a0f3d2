"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 07:51:02.755019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processed_updates",
        sa.Column("transport", sa.String(length=20), nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("transport", "update_id", name=op.f("pk_processed_updates")),
    )
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_processed_updates_processed_at"), ["processed_at"], unique=False
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("knsa_number", sa.String(length=60), nullable=True),
        sa.Column("club", sa.String(length=200), nullable=True),
        sa.Column("licence_number", sa.String(length=60), nullable=True),
        sa.Column("licence_expiry", sa.Date(), nullable=True),
        sa.Column("is_allowed", sa.Boolean(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("language IN ('nl', 'en')", name=op.f("ck_users_language")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_table(
        "conversation_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("flow", sa.String(length=40), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_conversation_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_states")),
        sa.UniqueConstraint(
            "user_id",
            "transport",
            "chat_id",
            name=op.f("uq_conversation_states_user_id_transport_chat_id"),
        ),
    )
    with op.batch_alter_table("conversation_states", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_states_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=9), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("attempts <= max_attempts", name=op.f("ck_jobs_attempts_within_max")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_jobs_attempts_positive")),
        sa.CheckConstraint("length(kind) > 0", name=op.f("ck_jobs_kind_not_blank")),
        sa.CheckConstraint("max_attempts >= 1", name=op.f("ck_jobs_max_attempts_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_jobs_user_id_users"), ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'succeeded', 'failed')",
            name=op.f("ck_jobs_job_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_jobs_idempotency_key")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jobs_status_run_after"), ["status", "run_after"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_jobs_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("club", sa.String(length=200), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("weather", sa.String(length=200), nullable=True),
        sa.Column("ammunition_brand", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("reflection", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_sessions_ends_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.CheckConstraint("status IN ('draft', 'saved')", name=op.f("ck_sessions_session_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("user_id", "id", name=op.f("uq_sessions_user_id_id")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sessions_user_id_occurred_on"), ["user_id", "occurred_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(external_id) > 0", name=op.f("ck_user_identities_external_id_not_blank")
        ),
        sa.CheckConstraint(
            "length(transport) > 0", name=op.f("ck_user_identities_transport_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_identities")),
        sa.UniqueConstraint(
            "transport", "external_id", name=op.f("uq_user_identities_transport_external_id")
        ),
    )
    with op.batch_alter_table("user_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_identities_user_id"), ["user_id"], unique=False)

    op.create_table(
        "weapons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("nickname", sa.String(length=100), nullable=True),
        sa.Column("weapon_type", sa.String(length=10), nullable=False),
        sa.Column("caliber", sa.String(length=40), nullable=True),
        sa.Column("serial_number", sa.String(length=60), nullable=True),
        sa.Column("storage_location", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("licensed", sa.Boolean(), nullable=False),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(name) > 0", name=op.f("ck_weapons_name_not_blank")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_weapons_user_id_users"), ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "weapon_type IN ('pistol', 'revolver', 'rifle', 'carbine', 'shotgun', 'air_pistol', 'air_rifle', 'other')",
            name=op.f("ck_weapons_weapon_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weapons")),
        sa.UniqueConstraint("user_id", "id", name=op.f("uq_weapons_user_id_id")),
    )
    with op.batch_alter_table("weapons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_weapons_user_id"), ["user_id"], unique=False)

    op.create_table(
        "ai_reflections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("went_well", sa.Text(), nullable=True),
        sa.Column("needs_improvement", sa.Text(), nullable=True),
        sa.Column("next_focus", sa.Text(), nullable=True),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=9), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id", "session_id"],
            ["sessions.user_id", "sessions.id"],
            name=op.f("fk_ai_reflections_user_id_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ai_reflections_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'succeeded', 'failed')",
            name=op.f("ck_ai_reflections_ai_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_reflections")),
        sa.UniqueConstraint("session_id", name=op.f("uq_ai_reflections_session_id")),
    )
    with op.batch_alter_table("ai_reflections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ai_reflections_user_id"), ["user_id"], unique=False)

    op.create_table(
        "ai_weapon_insights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("weapon_id", sa.Integer(), nullable=False),
        sa.Column("trends", sa.Text(), nullable=True),
        sa.Column("typical_issues", sa.Text(), nullable=True),
        sa.Column("recommendations", sa.Text(), nullable=True),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=9), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id", "weapon_id"],
            ["weapons.user_id", "weapons.id"],
            name=op.f("fk_ai_weapon_insights_user_id_weapon_id_weapons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ai_weapon_insights_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'succeeded', 'failed')",
            name=op.f("ck_ai_weapon_insights_ai_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_weapon_insights")),
        sa.UniqueConstraint("weapon_id", name=op.f("uq_ai_weapon_insights_weapon_id")),
    )
    with op.batch_alter_table("ai_weapon_insights", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ai_weapon_insights_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "coach_threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("weapon_id", sa.Integer(), nullable=True),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(title) > 0", name=op.f("ck_coach_threads_title_not_blank")),
        sa.CheckConstraint(
            "period_from IS NULL OR period_to IS NULL OR period_from <= period_to",
            name=op.f("ck_coach_threads_period_order"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "weapon_id"],
            ["weapons.user_id", "weapons.id"],
            name=op.f("fk_coach_threads_user_id_weapon_id_weapons"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_coach_threads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_threads")),
        sa.UniqueConstraint("user_id", "id", name=op.f("uq_coach_threads_user_id_id")),
    )
    with op.batch_alter_table("coach_threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coach_threads_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coach_threads_weapon_id"), ["weapon_id"], unique=False)

    op.create_table(
        "session_weapon_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("weapon_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=False),
        sa.Column("shots", sa.Integer(), nullable=False),
        sa.Column("score_tenths", sa.Integer(), nullable=True),
        sa.Column("caliber", sa.String(length=40), nullable=True),
        sa.Column("ammunition", sa.String(length=200), nullable=True),
        sa.Column("discipline", sa.String(length=200), nullable=True),
        sa.Column("competition", sa.String(length=4), nullable=False),
        sa.Column("grouping_note", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "distance_m BETWEEN 1 AND 2000", name=op.f("ck_session_weapon_entries_distance_range")
        ),
        sa.CheckConstraint(
            "position >= 0", name=op.f("ck_session_weapon_entries_position_positive")
        ),
        sa.CheckConstraint(
            "score_tenths IS NULL OR (score_tenths >= 0 AND score_tenths <= shots * 109)",
            name=op.f("ck_session_weapon_entries_score_range"),
        ),
        sa.CheckConstraint(
            "shots BETWEEN 1 AND 10000", name=op.f("ck_session_weapon_entries_shots_range")
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "session_id"],
            ["sessions.user_id", "sessions.id"],
            name=op.f("fk_session_weapon_entries_user_id_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "weapon_id"],
            ["weapons.user_id", "weapons.id"],
            name=op.f("fk_session_weapon_entries_user_id_weapon_id_weapons"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_session_weapon_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "competition IN ('none', 'club', 'knsa')",
            name=op.f("ck_session_weapon_entries_competition_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_weapon_entries")),
        sa.UniqueConstraint("user_id", "id", name=op.f("uq_session_weapon_entries_user_id_id")),
    )
    with op.batch_alter_table("session_weapon_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_weapon_entries_session_id"), ["session_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_session_weapon_entries_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_session_weapon_entries_weapon_id"), ["weapon_id"], unique=False
        )

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("weapon_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("mime", sa.String(length=50), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "mime IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')",
            name=op.f("ck_attachments_mime_allowed"),
        ),
        sa.CheckConstraint(
            "(CASE WHEN session_id IS NULL THEN 0 ELSE 1 END + CASE WHEN entry_id IS NULL THEN 0 ELSE 1 END + CASE WHEN weapon_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_attachments_one_owner"),
        ),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_attachments_sha256_length")),
        sa.CheckConstraint(
            "size_bytes BETWEEN 1 AND 20971520", name=op.f("ck_attachments_size_range")
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "entry_id"],
            ["session_weapon_entries.user_id", "session_weapon_entries.id"],
            name=op.f("fk_attachments_user_id_entry_id_session_weapon_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "session_id"],
            ["sessions.user_id", "sessions.id"],
            name=op.f("fk_attachments_user_id_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id", "weapon_id"],
            ["weapons.user_id", "weapons.id"],
            name=op.f("fk_attachments_user_id_weapon_id_weapons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_attachments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("path", name=op.f("uq_attachments_path")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_weapon_id"), ["weapon_id"], unique=False)

    op.create_table(
        "coach_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=9), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(content) > 0", name=op.f("ck_coach_messages_content_not_blank")),
        sa.ForeignKeyConstraint(
            ["user_id", "thread_id"],
            ["coach_threads.user_id", "coach_threads.id"],
            name=op.f("fk_coach_messages_user_id_thread_id_coach_threads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_coach_messages_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "role IN ('user', 'assistant')", name=op.f("ck_coach_messages_message_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_messages")),
    )
    with op.batch_alter_table("coach_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coach_messages_thread_id"), ["thread_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_coach_messages_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("coach_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coach_messages_user_id"))
        batch_op.drop_index(batch_op.f("ix_coach_messages_thread_id"))

    op.drop_table("coach_messages")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_weapon_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_user_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_session_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_entry_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("session_weapon_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_weapon_entries_weapon_id"))
        batch_op.drop_index(batch_op.f("ix_session_weapon_entries_user_id"))
        batch_op.drop_index(batch_op.f("ix_session_weapon_entries_session_id"))

    op.drop_table("session_weapon_entries")
    with op.batch_alter_table("coach_threads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coach_threads_weapon_id"))
        batch_op.drop_index(batch_op.f("ix_coach_threads_user_id"))

    op.drop_table("coach_threads")
    with op.batch_alter_table("ai_weapon_insights", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_weapon_insights_user_id"))

    op.drop_table("ai_weapon_insights")
    with op.batch_alter_table("ai_reflections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_reflections_user_id"))

    op.drop_table("ai_reflections")
    with op.batch_alter_table("weapons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weapons_user_id"))

    op.drop_table("weapons")
    with op.batch_alter_table("user_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_identities_user_id"))

    op.drop_table("user_identities")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_sessions_user_id_occurred_on"))

    op.drop_table("sessions")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_user_id"))
        batch_op.drop_index(batch_op.f("ix_jobs_status_run_after"))

    op.drop_table("jobs")
    with op.batch_alter_table("conversation_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_states_user_id"))

    op.drop_table("conversation_states")
    op.drop_table("users")
    with op.batch_alter_table("processed_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_updates_processed_at"))

    op.drop_table("processed_updates")
