"""inventory reconciliation: the last result per office

Revision ID: 20261124_0010
Revises: 20261124_0009
Create Date: 2026-11-24 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261124_0010"
down_revision: str | None = "20261124_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inventory_results",
        sa.Column("office_id", sa.Uuid(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("inventory", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_inventory_results_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("office_id", name=op.f("pk_inventory_results")),
    )


def downgrade() -> None:
    op.drop_table("inventory_results")
