"""job sent message id; status and error of coach messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:12:40.118230

``jobs.sent_message_id`` lets a job re-run after a crash skip the message it already sent.
``coach_messages.status`` and ``.error`` give an assistant answer the same record as every
other AI result (user messages leave them NULL). On SQLite the CHECK makes batch mode rebuild
``coach_messages``; migrate.py keeps foreign keys off for that (ADR 0006).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_message_id", sa.String(length=64), nullable=True))

    with op.batch_alter_table("coach_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_coach_messages_ai_status"),
            "status IN ('pending', 'running', 'succeeded', 'failed')",
        )


def downgrade() -> None:
    with op.batch_alter_table("coach_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_coach_messages_ai_status"), type_="check")
        batch_op.drop_column("error")
        batch_op.drop_column("status")

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("sent_message_id")
