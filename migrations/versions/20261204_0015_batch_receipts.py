"""batch receipts: one signature per batch chunk over a Merkle tree of its records' receipts

Revision ID: 20261204_0015
Revises: 20261204_0014
Create Date: 2026-12-04 14:00:00

``batch_receipts`` keeps each chunk's signed Merkle root; ``receipts.proof`` a batch record's
inclusion proof (docs/adr/0006-batch-receipts.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0015"
down_revision: str | None = "20261204_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch_receipts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("batch_pk", sa.Uuid(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("leaves", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("signature_alg", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_pk"], ["messages.id"], name=op.f("fk_batch_receipts_batch_pk_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_receipts")),
        sa.UniqueConstraint("root", name=op.f("uq_batch_receipts_root")),
    )
    op.create_index(op.f("ix_batch_receipts_batch_pk"), "batch_receipts", ["batch_pk"], unique=False)
    with op.batch_alter_table("receipts") as batch_op:
        batch_op.add_column(sa.Column("proof", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("receipts") as batch_op:
        batch_op.drop_column("proof")
    op.drop_index(op.f("ix_batch_receipts_batch_pk"), table_name="batch_receipts")
    op.drop_table("batch_receipts")
