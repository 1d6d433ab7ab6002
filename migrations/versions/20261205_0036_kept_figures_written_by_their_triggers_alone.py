"""the figures the database keeps are written by their triggers alone: hub_app only reads them

Revision ID: 20261205_0036
Revises: 20261205_0035
Create Date: 2026-12-05 20:45:00

PostgreSQL only (SQLite has no roles). The act tallies (``act_report_tallies``,
``mandate_act_tallies``: 20261204_0014, 0017) and the money held (``money_held``,
``money_collected_days``: 20261205_0035) are sums of the rows inserted into ``act_reports`` and
``ledger_entries``, kept by triggers in the same transaction. No code of the hub writes them, and a
write that did would leave them wrong for good without a sign: the learned success rates and the
money offices hold would drift from the acts and the ledger they sum.

``hub_app``, the role production runs as (20261204_0013), kept the read-write rights every table
gets by default. It now only reads these four tables; their trigger functions run as their owner
(``SECURITY DEFINER``, the role that migrates and owns the tables, with a fixed ``search_path`` so
that a caller's cannot redirect their statements), so an act report or a posting by ``hub_app``
still keeps them. ``mandates.last_act_on`` (0034) is a column of a table ``hub_app`` updates, and
stays as it is: PostgreSQL's column rights cannot take back what a table's grant gives.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261205_0036"
down_revision: str | None = "20261205_0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "hub_app"  # 20261204_0013
KEPT = ("act_report_tallies", "mandate_act_tallies", "money_held", "money_collected_days")
TRIGGER_FUNCTIONS = ("act_reports_tally()", "ledger_entries_money_held()")
WRITES = "INSERT, UPDATE, DELETE"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in TRIGGER_FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SECURITY DEFINER SET search_path = public, pg_temp")
    op.execute(f"REVOKE {WRITES} ON {', '.join(KEPT)} FROM {APP_ROLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"GRANT {WRITES} ON {', '.join(KEPT)} TO {APP_ROLE}")
    for function in TRIGGER_FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SECURITY INVOKER RESET search_path")
