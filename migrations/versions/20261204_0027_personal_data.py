"""personal data: each case's messages sealed with the case's own key; erasure and retention

Revision ID: 20261204_0027
Revises: 20261204_0026
Create Date: 2026-12-04 23:30:00

``case_keys``: the data key of each case, wrapped by the hub's key (NULL once erased).
``messages.case_id`` / ``messages.sealed``: the case a message concerns and whether its body is
sealed with that case's key. Rows stored before this revision are left as they are: ``case_id``
NULL, ``sealed`` false (legacy, in clear; docs/adr/0015-personal-data.md says why).
``cases.closed_on``: the day a case ended, from which its retention period runs.
``gdpr_events``: every export and erasure, who and when (no personal data).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0027"
down_revision: str | None = "20261204_0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_keys",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_keys_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_keys")),
    )
    op.create_table(
        "gdpr_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gdpr_events")),
    )
    op.create_index("ix_gdpr_events_case_ref", "gdpr_events", ["case_ref"], unique=False)
    # Plain ALTER TABLE (no batch copy): on SQLite a copy of ``cases`` or ``messages`` would break
    # the triggers that name them; a nullable column and a constant default cost no table rewrite.
    op.add_column("messages", sa.Column("case_id", sa.Uuid(), nullable=True))
    op.add_column("messages", sa.Column("sealed", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index(op.f("ix_messages_case_id"), "messages", ["case_id"], unique=False)
    op.add_column("cases", sa.Column("closed_on", sa.Date(), nullable=True))
    op.create_index(op.f("ix_cases_closed_on"), "cases", ["closed_on"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_closed_on"), table_name="cases")
    op.drop_column("cases", "closed_on")
    op.drop_index(op.f("ix_messages_case_id"), table_name="messages")
    op.drop_column("messages", "sealed")
    op.drop_column("messages", "case_id")
    op.drop_index("ix_gdpr_events_case_ref", table_name="gdpr_events")
    op.drop_table("gdpr_events")
    op.drop_table("case_keys")
