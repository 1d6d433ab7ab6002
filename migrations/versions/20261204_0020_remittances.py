"""remittances sent by offices and their lines, each posted to the ledger

Revision ID: 20261204_0020
Revises: 20261204_0019
Create Date: 2026-12-04 20:10:00

``remittances``: a bank transfer by which an office hands over money it collected (message
``remittance``), one per office and bank reference. ``remittance_lines``: its part per case, with
the ledger transaction that posted it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0020"
down_revision: str | None = "20261204_0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "remittances",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("message_pk", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("bank_reference", sa.String(length=35), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"], name=op.f("fk_remittances_office_id_offices")),
        sa.ForeignKeyConstraint(
            ["message_pk"], ["messages.id"], name=op.f("fk_remittances_message_pk_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remittances")),
        sa.UniqueConstraint("office_id", "bank_reference", name="uq_remittances_office_bank_reference"),
    )
    op.create_index(op.f("ix_remittances_office_id"), "remittances", ["office_id"], unique=False)
    op.create_table(
        "remittance_lines",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("remittance_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_remittance_lines_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["remittance_id"], ["remittances.id"], name=op.f("fk_remittance_lines_remittance_id_remittances")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_remittance_lines_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remittance_lines")),
    )
    op.create_index(op.f("ix_remittance_lines_case_id"), "remittance_lines", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_remittance_lines_remittance_id"), "remittance_lines", ["remittance_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_remittance_lines_remittance_id"), table_name="remittance_lines")
    op.drop_index(op.f("ix_remittance_lines_case_id"), table_name="remittance_lines")
    op.drop_table("remittance_lines")
    op.drop_index(op.f("ix_remittances_office_id"), table_name="remittances")
    op.drop_table("remittances")
