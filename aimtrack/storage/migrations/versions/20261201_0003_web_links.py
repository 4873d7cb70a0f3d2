"""web links used once

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 19:58:12.402711

``web_links`` records the nonce of every one-time web link when it is exchanged for a session
on the web page, so a second use of the same link is refused.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_links",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(nonce) > 0", name=op.f("ck_web_links_nonce_not_blank")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_web_links")),
    )
    with op.batch_alter_table("web_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_links_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_links_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_links_user_id"))
        batch_op.drop_index(batch_op.f("ix_web_links_expires_at"))

    op.drop_table("web_links")
