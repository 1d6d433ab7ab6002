"""act report tallies kept by a trigger; partial indexes for the relay's and the pusher's claims

Revision ID: 20261204_0014
Revises: 20261204_0013
Create Date: 2026-12-04 14:00:00

Every act report (and every batch chunk) read the learned success rates with an aggregate over all
act reports, and a per-act mandate's reports with a count: a cost per message that grew with the
table. The tallies are now kept as reports are inserted, by a trigger in the same transaction, so
whatever path writes them (the ORM, a batch's multi-row INSERT, COPY) keeps them right:

- PostgreSQL: one statement-level trigger with a transition table, so a multi-row INSERT updates
  each tally once; each (act, office, outcome, money) tally is spread over 16 rows
  (``hub.acts.models.TALLY_SLOTS``) picked at random, summed on read, so concurrent reports do
  not queue on one row until commit. Rows are upserted in key order, so two multi-row INSERTs
  touching the same tallies lock them in one order and never deadlock.
- SQLite: a row trigger (one writer at a time: slot 0 only).

Act reports are never updated or deleted (a correction is a new report), so INSERT is the only
trigger needed. The tallies are filled from the reports already stored.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0014"
down_revision: str | None = "20261204_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PG_TALLY = """
CREATE FUNCTION act_reports_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO act_report_tallies AS t (act_code, office_id, outcome_code, brought_money, slot, reports)
    SELECT act_code, office_id, outcome_code, (seized_cents > 0 OR collected_cents > 0),
           floor(random() * 16)::smallint, count(*)
    FROM new_reports GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (act_code, office_id, outcome_code, brought_money, slot)
    DO UPDATE SET reports = t.reports + EXCLUDED.reports;
    INSERT INTO mandate_act_tallies AS t (mandate_id, act_code, reports)
    SELECT mandate_id, act_code, count(*) FROM new_reports GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (mandate_id, act_code) DO UPDATE SET reports = t.reports + EXCLUDED.reports;
    RETURN NULL;
END
$$
"""
PG_TRIGGER = (
    "CREATE TRIGGER act_reports_tally AFTER INSERT ON act_reports "
    "REFERENCING NEW TABLE AS new_reports FOR EACH STATEMENT EXECUTE FUNCTION act_reports_tally()"
)
SQLITE_TRIGGER = """
CREATE TRIGGER act_reports_tally AFTER INSERT ON act_reports
BEGIN
    INSERT INTO act_report_tallies (act_code, office_id, outcome_code, brought_money, slot, reports)
    VALUES (NEW.act_code, NEW.office_id, NEW.outcome_code,
            (NEW.seized_cents > 0 OR NEW.collected_cents > 0), 0, 1)
    ON CONFLICT (act_code, office_id, outcome_code, brought_money, slot)
    DO UPDATE SET reports = reports + 1;
    INSERT INTO mandate_act_tallies (mandate_id, act_code, reports)
    VALUES (NEW.mandate_id, NEW.act_code, 1)
    ON CONFLICT (mandate_id, act_code) DO UPDATE SET reports = reports + 1;
END
"""
BACKFILL = (
    "INSERT INTO act_report_tallies (act_code, office_id, outcome_code, brought_money, slot, reports) "
    "SELECT act_code, office_id, outcome_code, (seized_cents > 0 OR collected_cents > 0), 0, count(*) "
    "FROM act_reports GROUP BY 1, 2, 3, 4",
    "INSERT INTO mandate_act_tallies (mandate_id, act_code, reports) "
    "SELECT mandate_id, act_code, count(*) FROM act_reports GROUP BY 1, 2",
)


def upgrade() -> None:
    op.create_table(
        "act_report_tallies",
        sa.Column("act_code", sa.String(length=40), nullable=False),
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("outcome_code", sa.String(length=40), nullable=False),
        sa.Column("brought_money", sa.Boolean(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("reports", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_act_report_tallies_office_id_offices")
        ),
        sa.PrimaryKeyConstraint(
            "act_code",
            "office_id",
            "outcome_code",
            "brought_money",
            "slot",
            name=op.f("pk_act_report_tallies"),
        ),
    )
    op.create_table(
        "mandate_act_tallies",
        sa.Column("mandate_id", sa.Uuid(), nullable=False),
        sa.Column("act_code", sa.String(length=40), nullable=False),
        sa.Column("reports", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mandate_id"], ["mandates.id"], name=op.f("fk_mandate_act_tallies_mandate_id_mandates")
        ),
        sa.PrimaryKeyConstraint("mandate_id", "act_code", name=op.f("pk_mandate_act_tallies")),
    )
    for statement in BACKFILL:
        op.execute(statement)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_TALLY)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")
        batch_op.create_index(
            "ix_outbox_pending_id",
            ["id"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
    with op.batch_alter_table("mailbox", schema=None) as batch_op:
        batch_op.drop_index("ix_mailbox_push_due")
        batch_op.create_index(
            "ix_mailbox_push_due_id",
            ["id"],
            unique=False,
            postgresql_where=sa.text("push_state = 'due'"),
            sqlite_where=sa.text("push_state = 'due'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("mailbox", schema=None) as batch_op:
        batch_op.drop_index("ix_mailbox_push_due_id")
        batch_op.create_index("ix_mailbox_push_due", ["push_state", "next_push_at"], unique=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending_id")
        batch_op.create_index("ix_outbox_pending", ["status", "next_attempt_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS act_reports_tally ON act_reports")
        op.execute("DROP FUNCTION IF EXISTS act_reports_tally()")
    else:
        op.execute("DROP TRIGGER IF EXISTS act_reports_tally")
    op.drop_table("mandate_act_tallies")
    op.drop_table("act_report_tallies")
