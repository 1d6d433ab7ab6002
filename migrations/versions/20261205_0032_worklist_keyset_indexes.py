"""worklist keyset indexes: the mandates not acknowledged and the held ones, and the pending cost
requests, each by the day it started waiting

Revision ID: 20261205_0032
Revises: 20261205_0030
Create Date: 2026-12-05 13:30:00

A page of the worklist reads each kind's items from its cursor on, ``limit`` at a time
(docs/adr/0012-worklist.md): ``ix_mandates_issued_issued_at`` (``mandate_ack_overdue``),
``ix_mandates_held_created_at`` (``held_mandate``) and ``ix_approvals_pending_created_at``
(``cost_request``) are walked from the cursor's day. Partial: each holds the rows of its kind alone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261205_0032"
down_revision: str | None = "20261205_0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "decision IS NULL AND request_message_id IS NOT NULL"
# (name, table, column, the rows it holds)
INDEXES = (
    ("ix_mandates_issued_issued_at", "mandates", "issued_at", "status = 'issued'"),
    ("ix_mandates_held_created_at", "mandates", "created_at", "status = 'held'"),
    ("ix_approvals_pending_created_at", "approvals", "created_at", PENDING),
)


def upgrade() -> None:
    for name, table, column, where in INDEXES:
        op.create_index(
            name, table, [column], unique=False, postgresql_where=sa.text(where), sqlite_where=sa.text(where)
        )


def downgrade() -> None:
    for name, table, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
