"""office bank details and the record of changes made to an office

Revision ID: 20261204_0018
Revises: 20261204_0017
Create Date: 2026-12-04 17:45:00

``offices.iban`` and ``offices.bic``: where the agency pays the office's fees. ``office_events``:
every change staff made to an office (``hub offices update``, ``PATCH /v1/offices/{code}``), who,
when, and each field's value before and after. ``receipts.invoice_id``: the invoice an accepted
fee invoice recorded, named on its receipt.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0018"
down_revision: str | None = "20261204_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("offices") as batch_op:
        batch_op.add_column(sa.Column("iban", sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column("bic", sa.String(length=11), nullable=True))
    op.create_table(
        "office_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_office_events_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_events")),
    )
    op.create_index(op.f("ix_office_events_office_id"), "office_events", ["office_id"], unique=False)
    with op.batch_alter_table("receipts") as batch_op:
        batch_op.add_column(sa.Column("invoice_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("receipts") as batch_op:
        batch_op.drop_column("invoice_id")
    op.drop_index(op.f("ix_office_events_office_id"), table_name="office_events")
    op.drop_table("office_events")
    with op.batch_alter_table("offices") as batch_op:
        batch_op.drop_column("bic")
        batch_op.drop_column("iban")
