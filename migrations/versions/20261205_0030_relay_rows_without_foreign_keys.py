"""relay rows without foreign keys: mailbox items and lifecycle steps no longer checked against messages

Revision ID: 20261205_0030
Revises: 20261205_0029
Create Date: 2026-12-05 09:20:00

``mailbox.message_pk`` and ``message_events.message_pk`` lose their foreign keys to ``messages``
(docs/adr/0018-relay-rows-without-foreign-keys.md): the relay writes one of each per message it
delivers to a mailbox, and each check was an index probe of ``messages`` and a lock of the message
row. Both are written only from message rows read or written in the same transaction, and no path
deletes a message. Their indexes stay (``ix_message_events_message_pk``, ``uq_mailbox_message_pk``).
The downgrade puts the keys back (it fails if a row points nowhere, which this revision's writers
never leave). SQLite rebuilds the two tables (``batch_alter_table``).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261205_0030"
down_revision: str | None = "20261205_0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, constraint) of the keys this revision drops; the names follow hub.kit.db's convention.
KEYS = (
    ("mailbox", "fk_mailbox_message_pk_messages"),
    ("message_events", "fk_message_events_message_pk_messages"),
)


def upgrade() -> None:
    for table, name in KEYS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    for table, name in KEYS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_foreign_key(name, "messages", ["message_pk"], ["id"])
