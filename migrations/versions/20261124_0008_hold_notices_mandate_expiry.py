"""hold notices with their acknowledgement deadline; mandates found by expiry

Revision ID: 20261124_0008
Revises: 20261124_0007
Create Date: 2026-11-24 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261124_0008"
down_revision: str | None = "20261124_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hold_notices",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("mandate_id", sa.Uuid(), nullable=False),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("act_code", sa.String(length=40), nullable=False),
        sa.Column("situation", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ack_due_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_message_id", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mandate_id"], ["mandates.id"], name=op.f("fk_hold_notices_mandate_id_mandates")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_hold_notices_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hold_notices")),
        sa.UniqueConstraint("message_id", name=op.f("uq_hold_notices_message_id")),
    )
    with op.batch_alter_table("hold_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hold_notices_ack_due_by"), ["ack_due_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_notices_mandate_id"), ["mandate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_notices_office_id"), ["office_id"], unique=False)
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mandates_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mandates_expires_at"))
    with op.batch_alter_table("hold_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hold_notices_office_id"))
        batch_op.drop_index(batch_op.f("ix_hold_notices_mandate_id"))
        batch_op.drop_index(batch_op.f("ix_hold_notices_ack_due_by"))
    op.drop_table("hold_notices")
