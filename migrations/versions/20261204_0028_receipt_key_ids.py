"""receipt key ids: the id of the key that signed each receipt and batch chunk

Revision ID: 20261204_0028
Revises: 20261204_0027
Create Date: 2026-12-04 23:30:00

``receipts.key_id`` and ``batch_receipts.key_id``: the first 16 hex characters of the SHA-256 of
the signing key's raw public key, signed with the receipt (hub/messaging/signing.py). NULL on the
rows signed before: their payload has no key id, so none is filled in (it would change what they
sign); they verify with any published key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_0028"
down_revision: str | None = "20261204_0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("receipts", "batch_receipts"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    for table in ("batch_receipts", "receipts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("key_id")
