"""the money offices hold, kept by a trigger on the ledger's entries

Revision ID: 20261205_0035
Revises: 20261205_0034
Create Date: 2026-12-05 19:30:00

The worklist's unremitted money and finance's views (``GET /v1/finance/unremitted``, the scorecards)
aged the money held from the ledger itself: every ``collected_by_office`` entry of every case ever,
grouped by day, on every page (150-210 ms on a seeded database with history, growing with the
ledger). They now read two tables kept as entries are inserted, by a trigger in the same
transaction, so whatever path writes them (the ORM, an act report's one statement, a batch chunk's
COPY) keeps them right:

- ``money_held``: per office, case and currency, the ``collected_by_office`` balance; the cases
  holding money (``cents > 0``) in a partial index, a few however long the history;
- ``money_collected_days``: per office, case, currency and day, the money collected (the account's
  entries of ``collection`` transactions, a reversal on the day of the collection it reverses):
  what the ageing walks, for the cases holding money only.

PostgreSQL: one statement-level trigger with a transition table (a multi-row INSERT or a COPY
updates each row once), which looks each new entry's transaction up by its key (joined, a chunk's
500 collections hashed every transaction of the ledger: 8 of the trigger's 20 ms on 60,000
transactions, and growing with them); SQLite: a row trigger. Each row is upserted by an increment
(``ON CONFLICT DO UPDATE SET cents = cents + EXCLUDED.cents``, never read then written), in key
order: two transactions posting on one case lose nothing, and two multi-row inserts lock the rows
in one order. No foreign keys: every row comes from entries whose own keys were checked (a check
per row written was a third of the trigger's time). The ledger is append-only (20261123_0006,
0013), so INSERT is the only trigger needed. The tables are filled from the entries already
stored, after the trigger is created: on PostgreSQL creating it holds off other inserts until this
revision commits, so none is missed or counted twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261205_0035"
down_revision: str | None = "20261205_0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELD = "'collected_by_office'"  # hub.ledger.postings.COLLECTED_BY_OFFICE
COLLECTION = "'collection'"  # hub.ledger.postings.COLLECTION
KEY = "office_id, case_id, currency"
DAY_KEY = f"{KEY}, collected_on"

PG_FUNCTION = f"""
CREATE FUNCTION ledger_entries_money_held() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO money_collected_days AS d ({DAY_KEY}, cents)
    SELECT e.office_id, e.case_id, e.currency, t.day, sum(e.amount_cents)
    FROM new_entries e
    CROSS JOIN LATERAL (
        SELECT COALESCE(r.effective_on, c.effective_on) AS day
        FROM ledger_transactions c LEFT JOIN ledger_transactions r ON r.id = c.reverses_id
        WHERE c.id = e.transaction_id AND c.kind = {COLLECTION}
        OFFSET 0  -- kept apart: each entry's transaction by its key, never a hash of them all
    ) t
    WHERE e.account = {HELD} AND e.office_id IS NOT NULL AND e.case_id IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT ({DAY_KEY}) DO UPDATE SET cents = d.cents + EXCLUDED.cents;
    INSERT INTO money_held AS h ({KEY}, cents)
    SELECT office_id, case_id, currency, sum(amount_cents)
    FROM new_entries
    WHERE account = {HELD} AND office_id IS NOT NULL AND case_id IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT ({KEY}) DO UPDATE SET cents = h.cents + EXCLUDED.cents;
    RETURN NULL;
END
$$
"""
PG_TRIGGER = (
    "CREATE TRIGGER ledger_entries_money_held AFTER INSERT ON ledger_entries "
    "REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_money_held()"
)
# The WHERE of each INSERT ... SELECT before ON CONFLICT is what SQLite's parser needs to tell the
# upsert from a join's ON.
SQLITE_TRIGGER = f"""
CREATE TRIGGER ledger_entries_money_held AFTER INSERT ON ledger_entries
WHEN NEW.account = {HELD} AND NEW.office_id IS NOT NULL AND NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO money_collected_days ({DAY_KEY}, cents)
    SELECT NEW.office_id, NEW.case_id, NEW.currency, COALESCE(r.effective_on, t.effective_on),
           NEW.amount_cents
    FROM ledger_transactions t LEFT JOIN ledger_transactions r ON r.id = t.reverses_id
    WHERE t.id = NEW.transaction_id AND t.kind = {COLLECTION}
    ON CONFLICT ({DAY_KEY}) DO UPDATE SET cents = cents + excluded.cents;
    INSERT INTO money_held ({KEY}, cents)
    VALUES (NEW.office_id, NEW.case_id, NEW.currency, NEW.amount_cents)
    ON CONFLICT ({KEY}) DO UPDATE SET cents = cents + excluded.cents;
END
"""
BACKFILL = (
    f"INSERT INTO money_collected_days ({DAY_KEY}, cents) "
    "SELECT e.office_id, e.case_id, e.currency, COALESCE(r.effective_on, t.effective_on), "
    "sum(e.amount_cents) "
    "FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id "
    "LEFT JOIN ledger_transactions r ON r.id = t.reverses_id "
    f"WHERE e.account = {HELD} AND e.office_id IS NOT NULL AND e.case_id IS NOT NULL "
    f"AND t.kind = {COLLECTION} GROUP BY 1, 2, 3, 4",
    f"INSERT INTO money_held ({KEY}, cents) SELECT office_id, case_id, currency, sum(amount_cents) "
    f"FROM ledger_entries WHERE account = {HELD} AND office_id IS NOT NULL AND case_id IS NOT NULL "
    "GROUP BY 1, 2, 3",
)


def _key_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "money_held",
        *_key_columns(),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("office_id", "case_id", "currency", name=op.f("pk_money_held")),
    )
    op.create_index(
        "ix_money_held_holding",
        "money_held",
        ["office_id", "case_id", "currency"],
        unique=False,
        postgresql_where=sa.text("cents > 0"),
        sqlite_where=sa.text("cents > 0"),
    )
    op.create_table(
        "money_collected_days",
        *_key_columns(),
        sa.Column("collected_on", sa.Date(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "office_id", "case_id", "currency", "collected_on", name=op.f("pk_money_collected_days")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_money_held ON ledger_entries")
        op.execute("DROP FUNCTION IF EXISTS ledger_entries_money_held()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_money_held")
    op.drop_table("money_collected_days")
    op.drop_index("ix_money_held_holding", table_name="money_held")
    op.drop_table("money_held")
