"""holds as records: one notice per office and hold, lifted by staff, breaches flagged on act reports

Revision ID: 20261204_0022
Revises: 20261204_0021
Create Date: 2026-12-04 20:40:00

``holds``: a hold raised on a case for a debtor's situation, who raised it and when, and once lifted
who lifted it, when and why. ``hold_notices`` becomes one row per office and hold: ``hold_id``, the
office's mandates on the case with their acts (``mandates``), the ``hold_lift`` sent to it
(``lift_message_id``); ``mandate_id`` and ``act_code`` are kept for the notices sent before (one per
act) and are NULL on the new ones. ``act_reports.breached_hold_id``: the hold an act report broke.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0022"
down_revision: str | None = "20261204_0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "holds",
        sa.Column("hold_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("situation", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("raised_by", sa.String(length=254), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=254), nullable=True),
        sa.Column("lift_comment", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_holds_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_holds_hold_id")),
    )
    op.create_index(op.f("ix_holds_case_id"), "holds", ["case_id"], unique=False)
    with op.batch_alter_table("hold_notices") as batch_op:
        batch_op.add_column(sa.Column("hold_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("mandates", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("lift_message_id", sa.String(length=64), nullable=True))
        batch_op.alter_column("mandate_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.alter_column("act_code", existing_type=sa.String(length=40), nullable=True)
        batch_op.create_foreign_key(batch_op.f("fk_hold_notices_hold_id_holds"), "holds", ["hold_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_hold_notices_hold_id"), ["hold_id"], unique=False)
    # Plain ALTER TABLE (no batch copy): on SQLite a copy of ``act_reports`` would break the
    # triggers that name it (the act report tallies). No foreign key, so that SQLite can drop it in
    # place too; the hold is only ever read through it.
    op.add_column("act_reports", sa.Column("breached_hold_id", sa.Uuid(), nullable=True))
    op.create_index(
        op.f("ix_act_reports_breached_hold_id"), "act_reports", ["breached_hold_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_act_reports_breached_hold_id"), table_name="act_reports")
    op.drop_column("act_reports", "breached_hold_id")
    op.execute("DELETE FROM hold_notices WHERE mandate_id IS NULL")  # the notices of holds go with them
    with op.batch_alter_table("hold_notices") as batch_op:
        batch_op.drop_index(batch_op.f("ix_hold_notices_hold_id"))
        batch_op.drop_constraint(batch_op.f("fk_hold_notices_hold_id_holds"), type_="foreignkey")
        batch_op.alter_column("act_code", existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column("mandate_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("lift_message_id")
        batch_op.drop_column("mandates")
        batch_op.drop_column("hold_id")
    op.drop_index(op.f("ix_holds_case_id"), table_name="holds")
    op.drop_table("holds")
