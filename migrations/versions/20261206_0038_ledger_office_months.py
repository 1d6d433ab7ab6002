"""an office's ledger summed by month, kept by a trigger on the ledger's entries

Revision ID: 20261206_0038
Revises: 20261205_0037
Create Date: 2026-12-06 07:20:00

An office's statement (its monthly report, the scorecard) opens with the office's balances before
the month: the sum of every entry the office ever had (``LedgerRepository.statement``). At the scale
rig's size that was 579 ms of the report's 903, and it grew with the office's history: at a national
agency's volume (2M entries an office a year) over ten seconds after three years (docs/scale.md).

``ledger_office_months`` keeps, per office, month (the first day of its transactions' effective
month), account and currency, the sum of the entries, as they are inserted, by a trigger in the
same transaction, as ``money_held`` is kept (20261205_0035): whatever path writes the entries (the
ORM, an act report's one statement, a batch chunk's COPY) keeps it, and a posting dated in an
earlier month (a manual posting, a reversal) adds to that month's row. The balances before a month
are then the sum of the office's months before it: months x accounts rows.

- PostgreSQL: one statement-level trigger with a transition table; each new entry's transaction is
  looked up by its key for its date (as ``ledger_entries_money_held`` does). Each row is upserted
  by an increment in key order. A month's sum is spread over 16 ``slot`` rows, the slot picked from
  the transaction's id: every posting of an office increments its month's rows, and with a single
  row per account two of its transactions at once (two act reports, a report beside a batch
  chunk) would wait on each other's commit; with slots they meet one time in 16, and a
  transaction's rows all sit in its one slot.
- SQLite: a row trigger, slot 0 (one writer at a time).

No foreign keys (the entries' own were checked). Written by the trigger alone: ``hub_app`` only
reads it and the trigger function runs as its owner (as 20261205_0036 did for the other kept
figures). Filled from the entries already stored, after the trigger is created (on PostgreSQL
creating it holds off other inserts until this revision commits, so none is missed or counted twice).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261206_0038"
down_revision: str | None = "20261205_0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "hub_app"  # 20261204_0013
KEY = "office_id, month, account, currency, slot"

PG_FUNCTION = f"""
CREATE FUNCTION ledger_entries_office_months() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO ledger_office_months AS m ({KEY}, cents)
    SELECT e.office_id, t.month, e.account, e.currency,
           (pg_current_xact_id()::text::bigint % 16)::smallint, sum(e.amount_cents)
    FROM new_entries e
    CROSS JOIN LATERAL (
        SELECT date_trunc('month', c.effective_on)::date AS month
        FROM ledger_transactions c
        WHERE c.id = e.transaction_id
        OFFSET 0  -- kept apart: each entry's transaction by its key, never a hash of them all
    ) t
    WHERE e.office_id IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ({KEY}) DO UPDATE SET cents = m.cents + EXCLUDED.cents;
    RETURN NULL;
END
$$
"""
PG_TRIGGER = (
    "CREATE TRIGGER ledger_entries_office_months AFTER INSERT ON ledger_entries "
    "REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_office_months()"
)
# The WHERE before ON CONFLICT is what SQLite's parser needs to tell the upsert from a join's ON.
SQLITE_TRIGGER = f"""
CREATE TRIGGER ledger_entries_office_months AFTER INSERT ON ledger_entries
WHEN NEW.office_id IS NOT NULL
BEGIN
    INSERT INTO ledger_office_months ({KEY}, cents)
    SELECT NEW.office_id, date(t.effective_on, 'start of month'), NEW.account, NEW.currency, 0,
           NEW.amount_cents
    FROM ledger_transactions t
    WHERE t.id = NEW.transaction_id
    ON CONFLICT ({KEY}) DO UPDATE SET cents = cents + excluded.cents;
END
"""
PG_MONTH = "date_trunc('month', t.effective_on)::date"
SQLITE_MONTH = "date(t.effective_on, 'start of month')"


def backfill(month: str) -> str:
    """The months of the entries already stored (slot 0), ``month`` the engine's first day of the
    month of ``t.effective_on``; the scale rig runs it after loading with triggers off."""
    return (
        f"INSERT INTO ledger_office_months ({KEY}, cents) "
        f"SELECT e.office_id, {month}, e.account, e.currency, 0, sum(e.amount_cents) "
        "FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id "
        "WHERE e.office_id IS NOT NULL GROUP BY 1, 2, 3, 4"
    )


def upgrade() -> None:
    op.create_table(
        "ledger_office_months",
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "office_id", "month", "account", "currency", "slot", name=op.f("pk_ledger_office_months")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
        op.execute(backfill(PG_MONTH))
        op.execute(f"REVOKE INSERT, UPDATE, DELETE ON ledger_office_months FROM {APP_ROLE}")
    else:
        op.execute(SQLITE_TRIGGER)
        op.execute(backfill(SQLITE_MONTH))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_office_months ON ledger_entries")
        op.execute("DROP FUNCTION IF EXISTS ledger_entries_office_months()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_office_months")
    op.drop_table("ledger_office_months")
