"""every staff list a page at a time; cost requests keep what staff need to decide them

Revision ID: 20261204_0024
Revises: 20261204_0023
Create Date: 2026-12-04 23:10:00

- ``approvals``: an office's cost request keeps its ``justification``, the office's
  ``expected_recovery_cents`` and the hub's ``assessment`` of the act when asked (NULL on the
  requests recorded before); ``ix_approvals_pending_id``, a partial index of the requests waiting for
  a decision by approval id, walked by ``GET /v1/approvals``.
- ``mandates``: ``ix_mandates_status_ref`` (status, ref) replaces ``ix_mandates_status``: the held
  mandates (``GET /v1/mandates/held``) and a list by status walk it from their cursor;
  ``ix_mandates_office_ref`` (office_id, ref) serves an office's own list.
- ``messages``: ``ix_messages_created_at_id``, the message log's order (``GET /v1/messages``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0024"
down_revision: str | None = "20261204_0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "decision IS NULL AND request_message_id IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("approvals") as batch_op:
        batch_op.add_column(sa.Column("justification", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("expected_recovery_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("assessment", sa.JSON(), nullable=True))
    op.create_index(
        "ix_approvals_pending_id",
        "approvals",
        ["approval_id"],
        unique=False,
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )
    op.create_index("ix_mandates_status_ref", "mandates", ["status", "ref"], unique=False)
    op.create_index("ix_mandates_office_ref", "mandates", ["office_id", "ref"], unique=False)
    op.drop_index("ix_mandates_status", table_name="mandates")
    op.create_index("ix_messages_created_at_id", "messages", ["created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_messages_created_at_id", table_name="messages")
    op.create_index("ix_mandates_status", "mandates", ["status"], unique=False)
    op.drop_index("ix_mandates_office_ref", table_name="mandates")
    op.drop_index("ix_mandates_status_ref", table_name="mandates")
    op.drop_index("ix_approvals_pending_id", table_name="approvals")
    with op.batch_alter_table("approvals") as batch_op:
        batch_op.drop_column("assessment")
        batch_op.drop_column("expected_recovery_cents")
        batch_op.drop_column("justification")
