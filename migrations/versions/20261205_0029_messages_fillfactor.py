"""messages fillfactor: room on each page for a status update to stay HOT

Revision ID: 20261205_0029
Revises: 20261204_0028
Create Date: 2026-12-05 06:20:00

PostgreSQL only (SQLite has no fillfactor): ``messages`` is filled to half of each page, so the
status update of every lifecycle step (the relay's ``delivered``/``confirmed``, an office's
``acknowledged``) writes its new row version on the same page, a HOT update, instead of a new
entry in each of the table's ten indexes (docs/adr/0017-messages-fillfactor.md). Rows stored
before keep their full pages until the table is rewritten (``VACUUM FULL``, ``pg_repack``);
only the pages written from now on are half filled.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261205_0029"
down_revision: str | None = "20261204_0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE messages SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE messages RESET (fillfactor)")
