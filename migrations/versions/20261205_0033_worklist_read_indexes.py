"""worklist read indexes: the hold notices not acknowledged by their deadline, and the acts by day

Revision ID: 20261205_0033
Revises: 20261205_0032
Create Date: 2026-12-05 17:30:00

Two of the worklist's kinds are still read whole in the database (docs/adr/0012-worklist.md); these
bound what they read as the hub's history piles up. ``ix_hold_notices_unacknowledged_ack_due_by``
holds the notices not acknowledged alone (the overdue ones, on the worklist and in the staff's list
of overdue notices), instead of ``ix_hold_notices_ack_due_by``, which held every notice and served
only those two reads. ``ix_act_reports_act_date``: the acts of the pace's window (the last
``HUB_WORKLIST_PACE_WINDOW_DAYS``), not every act ever reported.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261205_0033"
down_revision: str | None = "20261205_0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNACKNOWLEDGED = "acknowledged_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_hold_notices_unacknowledged_ack_due_by",
        "hold_notices",
        ["ack_due_by"],
        unique=False,
        postgresql_where=sa.text(UNACKNOWLEDGED),
        sqlite_where=sa.text(UNACKNOWLEDGED),
    )
    op.drop_index("ix_hold_notices_ack_due_by", table_name="hold_notices")
    op.create_index("ix_act_reports_act_date", "act_reports", ["act_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_act_reports_act_date", table_name="act_reports")
    op.create_index("ix_hold_notices_ack_due_by", "hold_notices", ["ack_due_by"], unique=False)
    op.drop_index("ix_hold_notices_unacknowledged_ack_due_by", table_name="hold_notices")
