"""mandates keep the date of their last act, kept by a trigger; the mandates at the office by the day
they went quiet

Revision ID: 20261205_0034
Revises: 20261205_0033
Create Date: 2026-12-05 19:15:00

The worklist's stale mandates are those at the office (acknowledged, in progress) quiet since before
their office's cutoff: quiet since their last act, else the UTC day they were issued. The last act
was a ``max(act_date)`` grouped over every act report ever stored, for every page: 450-640 ms on a
hub with five years of history, growing with it (docs/adr/0012-worklist.md). It is now a column,
``mandates.last_act_on`` (NULL: no act yet), and ``ix_mandates_working_quiet_since`` orders the
mandates at the office by ``coalesce(last_act_on, UTC day of issued_at)``: a page walks it from its
cursor and stops at the page.

The column is kept by the database, as the act tallies are (20261204_0014), so every path that
writes act reports keeps it (the ORM, a single report's multi-row INSERT, a batch chunk's COPY):

- PostgreSQL: a statement-level trigger with a transition table, the mandates' newest act of the
  statement's rows set where it is later than the kept one (an act reported out of date order
  leaves it, and its row, as they are). A trigger of its own beside ``act_reports_tally``, not a
  third statement in that one's function: it writes another table for another reader, and is
  dropped alone. Every writer of act reports has locked their mandates' rows before inserting
  them (``ActReportRepository.lock_office_mandates``, FOR NO KEY UPDATE, in id order, for a single
  report and a batch chunk alike), so the update takes no lock its transaction does not hold
  already and cannot deadlock with a concurrent report.
- SQLite: a row trigger (one writer at a time).

Act reports are never updated or deleted (a correction is a new report; a GDPR erasure blanks
personal data and keeps dates and references), so INSERT is the only trigger needed. Back-filled from
the reports already stored. SQLite's index orders ``date(issued_at)`` (timestamps stored as UTC text).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261205_0034"
down_revision: str | None = "20261205_0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AT_THE_OFFICE = "status IN ('acknowledged', 'in_progress')"
INDEX = "ix_mandates_working_quiet_since"

PG_LAST_ACT = """
CREATE FUNCTION act_reports_last_act() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE mandates AS m SET last_act_on = r.newest
    FROM (SELECT mandate_id, max(act_date) AS newest FROM new_reports GROUP BY mandate_id) r
    WHERE m.id = r.mandate_id AND (m.last_act_on IS NULL OR m.last_act_on < r.newest);
    RETURN NULL;
END
$$
"""
PG_TRIGGER = (
    "CREATE TRIGGER act_reports_last_act AFTER INSERT ON act_reports "
    "REFERENCING NEW TABLE AS new_reports FOR EACH STATEMENT EXECUTE FUNCTION act_reports_last_act()"
)
SQLITE_TRIGGER = """
CREATE TRIGGER act_reports_last_act AFTER INSERT ON act_reports
BEGIN
    UPDATE mandates SET last_act_on = NEW.act_date
    WHERE id = NEW.mandate_id AND (last_act_on IS NULL OR last_act_on < NEW.act_date);
END
"""
PG_BACKFILL = (
    "UPDATE mandates AS m SET last_act_on = r.newest "
    "FROM (SELECT mandate_id, max(act_date) AS newest FROM act_reports GROUP BY mandate_id) r "
    "WHERE m.id = r.mandate_id"
)
SQLITE_BACKFILL = (
    "UPDATE mandates SET last_act_on = "
    "(SELECT max(act_date) FROM act_reports r WHERE r.mandate_id = mandates.id)"
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # Plain ALTER TABLE (no batch copy): on SQLite a copy of ``mandates`` would be needless.
    op.add_column("mandates", sa.Column("last_act_on", sa.Date(), nullable=True))
    op.execute(PG_BACKFILL if postgres else SQLITE_BACKFILL)
    if postgres:
        op.execute(PG_LAST_ACT)
        op.execute(PG_TRIGGER)
        quiet_since = "coalesce(last_act_on, (issued_at AT TIME ZONE 'UTC')::date)"
    else:
        op.execute(SQLITE_TRIGGER)
        quiet_since = "coalesce(last_act_on, date(issued_at))"
    op.create_index(
        INDEX,
        "mandates",
        [sa.text(quiet_since)],
        unique=False,
        postgresql_where=sa.text(AT_THE_OFFICE),
        sqlite_where=sa.text(AT_THE_OFFICE),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="mandates")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER act_reports_last_act ON act_reports")
        op.execute("DROP FUNCTION act_reports_last_act()")
    else:
        op.execute("DROP TRIGGER act_reports_last_act")
    op.drop_column("mandates", "last_act_on")
