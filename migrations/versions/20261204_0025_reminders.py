"""reminders sent to offices about the worklist's items

Revision ID: 20261204_0025
Revises: 20261204_0024
Create Date: 2026-12-04 22:30:00

``reminders``: a follow-up sent to an office about an item of the worklist (a mandate gone quiet,
an acknowledgement overdue, money not remitted, a disputed invoice), who sent it and when, and the
office's acknowledgement. ``uq_reminders_item_day``: one reminder of an item a day unless forced
(partial unique index), so two staff reminding the same item at once send one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0025"
down_revision: str | None = "20261204_0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=True),
        sa.Column("mandate_ref", sa.String(length=64), nullable=True),
        sa.Column("invoice_number", sa.String(length=200), nullable=True),
        sa.Column("waiting_since", sa.Date(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("sent_by", sa.String(length=254), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("ack_due_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_message_id", sa.String(length=64), nullable=True),
        sa.Column("ack_comment", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"], name=op.f("fk_reminders_office_id_offices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("message_id", name=op.f("uq_reminders_message_id")),
    )
    op.create_index(
        "uq_reminders_item_day",
        "reminders",
        ["office_id", "topic", "subject", "sent_on"],
        unique=True,
        postgresql_where=sa.text("NOT forced"),
        sqlite_where=sa.text("NOT forced"),
    )
    op.create_index(
        "ix_reminders_item_sent_at", "reminders", ["office_id", "topic", "subject", "sent_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_reminders_item_sent_at", table_name="reminders")
    op.drop_index("uq_reminders_item_day", table_name="reminders")
    op.drop_table("reminders")
