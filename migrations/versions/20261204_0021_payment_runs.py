"""payment runs: approved invoices grouped into one SEPA credit transfer file, how each was paid

Revision ID: 20261204_0021
Revises: 20261204_0020
Create Date: 2026-12-04 20:00:00

``payment_runs`` keeps each run with the pain.001.001.09 file it wrote (the bytes served every time
it is downloaded) and the invoices it left out with their reason. ``invoices.payment_run_id``: the
one run an invoice is paid by (set once, under a row lock); ``invoices.paid_on`` and
``invoices.bank_reference``: the payment as the bank statement shows it.
``ix_ledger_transactions_effective_on``: the accounting journal of a period reads every office's
transactions by date (``hub finance journal``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0021"
down_revision: str | None = "20261204_0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("execution_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("transactions", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("pain001", sa.LargeBinary(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("bank_reference", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_runs")),
        sa.UniqueConstraint("message_id", name=op.f("uq_payment_runs_message_id")),
    )
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.add_column(sa.Column("payment_run_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("paid_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("bank_reference", sa.String(length=100), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_invoices_payment_run_id_payment_runs"), "payment_runs", ["payment_run_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_invoices_payment_run_id"), ["payment_run_id"], unique=False)
    op.create_index(
        "ix_ledger_transactions_effective_on", "ledger_transactions", ["effective_on"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_transactions_effective_on", table_name="ledger_transactions")
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_payment_run_id"))
        batch_op.drop_constraint(batch_op.f("fk_invoices_payment_run_id_payment_runs"), type_="foreignkey")
        batch_op.drop_column("bank_reference")
        batch_op.drop_column("paid_on")
        batch_op.drop_column("payment_run_id")
    op.drop_table("payment_runs")
