"""the flagged act reports, listed for staff

Revision ID: 20261204_0023
Revises: 20261204_0022
Create Date: 2026-12-04 21:40:00

``ix_act_reports_flagged_id``: a partial index of the flagged act reports by id, so
``GET /v1/act-reports/flagged`` walks the few flagged rows, not every act report.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0023"
down_revision: str | None = "20261204_0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_act_reports_flagged_id",
        "act_reports",
        ["id"],
        unique=False,
        postgresql_where=sa.text("flagged"),
        sqlite_where=sa.text("flagged"),
    )


def downgrade() -> None:
    op.drop_index("ix_act_reports_flagged_id", table_name="act_reports")
