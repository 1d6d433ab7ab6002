"""ledger reversals: one reversal per transaction, its reason; entries indexed by case and office

Revision ID: 20261124_0007
Revises: 20261123_0006
Create Date: 2026-11-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261124_0007"
down_revision: str | None = "20261123_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A unique index, not a constraint: on SQLite it needs no table rebuild (ledger_transactions is
    # referenced by ledger_entries, and a rebuild would drop and re-create it under foreign keys).
    # NULLs are distinct on both engines, so every transaction that reverses nothing still fits.
    op.create_index("ix_ledger_transactions_reverses_id", "ledger_transactions", ["reverses_id"], unique=True)
    # ADD COLUMN, nullable, no default: no rewrite, and the append-only trigger (UPDATE/DELETE) is
    # not fired by it.
    op.add_column("ledger_transactions", sa.Column("reason", sa.String(length=500), nullable=True))
    op.create_index("ix_ledger_entries_case_id", "ledger_entries", ["case_id"], unique=False)
    op.create_index("ix_ledger_entries_office_id", "ledger_entries", ["office_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_office_id", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_case_id", table_name="ledger_entries")
    # Plain DROP COLUMN (SQLite >= 3.35): a batch rebuild would drop a table that entries reference.
    op.drop_column("ledger_transactions", "reason")
    op.drop_index("ix_ledger_transactions_reverses_id", table_name="ledger_transactions")
