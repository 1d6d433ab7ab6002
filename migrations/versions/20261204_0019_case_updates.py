"""case updates, their notices to offices, and the case facts they record

Revision ID: 20261204_0019
Revises: 20261204_0018
Create Date: 2026-12-04 20:10:00

``case_updates``: what the agency learned about a case after it was opened (a payment received, a
new address, a dispute, a payment plan, the debtor's death, insolvency, limitation), who recorded
it and when; a retry of the same ``reference`` on a case is refused by a unique constraint.
``case_update_notices``: each update sent to an office holding a live mandate on the case, with its
acknowledgement deadline and when the office acknowledged it. ``cases.debtor_deceased`` and
``cases.limitation_reached_on``: facts the guardrails read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0019"
down_revision: str | None = "20261204_0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy): on SQLite a copy of ``cases`` would break the triggers that
    # name it (the act report tallies).
    op.add_column("cases", sa.Column("debtor_deceased", sa.Boolean(), nullable=True))
    op.add_column("cases", sa.Column("limitation_reached_on", sa.Date(), nullable=True))
    op.create_table(
        "case_updates",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("update_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("insolvency_kind", sa.String(length=32), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("outstanding_cents", sa.BigInteger(), nullable=False),
        sa.Column("recorded_by", sa.String(length=254), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_updates_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_updates")),
        sa.UniqueConstraint("case_id", "reference", name=op.f("uq_case_updates_case_id")),
        sa.UniqueConstraint("update_id", name=op.f("uq_case_updates_update_id")),
    )
    op.create_index(op.f("ix_case_updates_case_id"), "case_updates", ["case_id"], unique=False)
    op.create_table(
        "case_update_notices",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("update_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ack_due_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_message_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["update_id"], ["case_updates.id"], name=op.f("fk_case_update_notices_update_id_case_updates")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_case_update_notices_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_update_notices")),
        sa.UniqueConstraint("message_id", name=op.f("uq_case_update_notices_message_id")),
    )
    with op.batch_alter_table("case_update_notices") as batch_op:
        batch_op.create_index(batch_op.f("ix_case_update_notices_ack_due_by"), ["ack_due_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_update_notices_office_id"), ["office_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_update_notices_update_id"), ["update_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_update_notices") as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_update_notices_update_id"))
        batch_op.drop_index(batch_op.f("ix_case_update_notices_office_id"))
        batch_op.drop_index(batch_op.f("ix_case_update_notices_ack_due_by"))
    op.drop_table("case_update_notices")
    op.drop_index(op.f("ix_case_updates_case_id"), table_name="case_updates")
    op.drop_table("case_updates")
    op.drop_column("cases", "limitation_reached_on")
    op.drop_column("cases", "debtor_deceased")
