"""act reports: index on (case, act date, created) for the latest acts of a case

Revision ID: 20261124_0011
Revises: 20261124_0010
Create Date: 2026-11-24 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261124_0011"
down_revision: str | None = "20261124_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_act_reports_case_latest", "act_reports", ["case_id", "act_date", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_act_reports_case_latest", table_name="act_reports")
