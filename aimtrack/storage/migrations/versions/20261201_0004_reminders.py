"""reminders: the opt-in per user and the reminders already sent

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:40:05.118302

``users.reminders`` is off for every user that exists (server default false). ``reminders_sent``
holds one row per reminder queued, unique per user, kind and key, so a scan that runs again
(after a restart too) does not queue it twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    op.create_table(
        "reminders_sent",
        sa.Column("kind", sa.String(length=7), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("length(key) > 0", name=op.f("ck_reminders_sent_key_not_blank")),
        sa.CheckConstraint(
            "kind IN ('licence', 'draft')", name=op.f("ck_reminders_sent_reminder_kind")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_reminders_sent_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders_sent")),
        sa.UniqueConstraint(
            "user_id", "kind", "key", name=op.f("uq_reminders_sent_user_id_kind_key")
        ),
    )
    with op.batch_alter_table("reminders_sent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminders_sent_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reminders_sent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminders_sent_user_id"))

    op.drop_table("reminders_sent")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("reminders")
