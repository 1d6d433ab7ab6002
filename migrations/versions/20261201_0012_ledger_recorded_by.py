"""ledger transactions: who recorded a manual posting or a reversal

Revision ID: 20261201_0012
Revises: 20261124_0011
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_0012"
down_revision: str | None = "20261124_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD COLUMN, nullable, no default: no rewrite (postings made by the hub itself name nobody).
    op.add_column("ledger_transactions", sa.Column("recorded_by", sa.String(length=254), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch rebuild would drop a table that entries reference.
    op.drop_column("ledger_transactions", "recorded_by")
