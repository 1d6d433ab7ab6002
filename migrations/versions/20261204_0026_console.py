"""the staff console: passwords, server-side sessions, one-time sign-in links

Revision ID: 20261204_0026
Revises: 20261204_0025
Create Date: 2026-12-04 23:00:00

``staff_users.password_hash``: an argon2id hash (NULL: the account signs in by link only).
``console_sessions``: one row per signed-in browser, deleted at sign-out; the cookie's secret is
stored as its SHA-256. ``console_sign_in_links``: single-use links with an expiry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0026"
down_revision: str | None = "20261204_0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=256), nullable=True))
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", sa.Uuid(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"], ["staff_users.id"], name=op.f("fk_console_sessions_staff_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_console_sessions_staff_user_id"), "console_sessions", ["staff_user_id"], unique=False
    )
    op.create_table(
        "console_sign_in_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_console_sign_in_links_staff_user_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sign_in_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_sign_in_links_token_hash")),
    )
    op.create_index(
        op.f("ix_console_sign_in_links_staff_user_id"),
        "console_sign_in_links",
        ["staff_user_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_console_sign_in_links_staff_user_id"), table_name="console_sign_in_links")
    op.drop_table("console_sign_in_links")
    op.drop_index(op.f("ix_console_sessions_staff_user_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("password_hash")
