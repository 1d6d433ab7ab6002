"""indexes for the scale plan: a case's balance, a message by (office, message id), an office's month

Revision ID: 20261204_0016
Revises: 20261204_0015
Create Date: 2026-12-04 14:00:00

docs/scale.md gives the plans and the figures at 10M ledger entries and 5M messages. Dropped:
``ix_ledger_entries_case_id``, ``ix_act_reports_case_id``, ``ix_act_reports_office_id``,
``ix_ledger_transactions_office_id`` and ``ix_mandates_office_id`` (each the leading column of a
wider index that serves the same lookups) and ``ix_messages_recipient_status``
(``status`` changes at every lifecycle step: an indexed one makes every such update write all the
table's indexes; the office's messages are found by the (recipient, ...) indexes below).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261204_0016"
down_revision: str | None = "20261204_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATED = (
    ("ix_ledger_entries_case_balance", "ledger_entries", ["case_id", "account", "currency", "amount_cents"]),
    ("ix_messages_recipient_message_id", "messages", ["recipient", "message_id"]),
    ("ix_messages_sender_kind_created_at", "messages", ["sender", "kind", "created_at"]),
    ("ix_messages_recipient_kind_created_at", "messages", ["recipient", "kind", "created_at"]),
    ("ix_act_reports_office_date", "act_reports", ["office_id", "act_date"]),
    ("ix_ledger_transactions_office_date", "ledger_transactions", ["office_id", "effective_on"]),
    ("ix_mandates_office_issued", "mandates", ["office_id", "issued_at"]),
)
DROPPED = (
    ("ix_ledger_entries_case_id", "ledger_entries", ["case_id"]),
    ("ix_act_reports_case_id", "act_reports", ["case_id"]),
    ("ix_act_reports_office_id", "act_reports", ["office_id"]),
    ("ix_messages_recipient_status", "messages", ["recipient", "status"]),
    ("ix_ledger_transactions_office_id", "ledger_transactions", ["office_id"]),
    ("ix_mandates_office_id", "mandates", ["office_id"]),
)


def upgrade() -> None:
    for name, table, columns in CREATED:
        op.create_index(name, table, columns, unique=False)
    for name, table, _ in DROPPED:
        op.drop_index(name, table_name=table)
    if op.get_bind().dialect.name == "postgresql":
        # Plans at once, not after autovacuum's next pass (issue #11: statistics are kept).
        op.execute("ANALYZE ledger_entries, ledger_transactions, messages, act_reports, mandates")


def downgrade() -> None:
    for name, table, columns in DROPPED:
        op.create_index(name, table, columns, unique=False)
    for name, table, _ in CREATED:
        op.drop_index(name, table_name=table)
