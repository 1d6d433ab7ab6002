"""The message store: every message received or sent, raw, with its lifecycle; plus the outbox,
the inbox (de-duplication), the office mailboxes and the signed receipts.

Inspired by bots' ``ta`` records: any message can be traced, resent or re-received, and a batch
file is the parent of the reports it carried.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.kit.clock import utcnow
from hub.kit.db import Base, BigIntId, Timestamped, UtcDateTime, UuidPk


class Direction(enum.StrEnum):
    INBOUND = "inbound"  # office -> hub
    OUTBOUND = "outbound"  # hub -> office or agency


class Status(enum.StrEnum):
    """Lifecycle of a message; the log keeps every step, ``StoredMessage.status`` the latest."""

    RECEIVED = "received"
    VALIDATED = "validated"
    REJECTED = "rejected"
    ROUTED = "routed"  # an outbox row exists for it
    PUBLISHED = "published"  # handed to the broker
    CONFIRMED = "confirmed"  # the broker confirmed it (publisher confirm)
    DELIVERED = "delivered"  # in the office's mailbox, or its webhook answered 2xx
    ACKNOWLEDGED = "acknowledged"  # the office acknowledged it (pull inbox ack)
    DEAD_LETTERED = "dead_lettered"
    REPLAYED = "replayed"


class StoredMessage(UuidPk, Timestamped, Base):
    __tablename__ = "messages"
    __table_args__ = (
        # An office finds a message by the id it chose, as sender or recipient (docs/scale.md).
        Index("ix_messages_sender_message_id", "sender", "message_id"),
        Index("ix_messages_recipient_message_id", "recipient", "message_id"),
        # An office's messages of a kind over a period; without ``party``, the kind and period alone.
        # No index holds ``status``: it changes at every lifecycle step, and an indexed column
        # makes each of those updates write every index of the table (no HOT update).
        Index("ix_messages_sender_kind_created_at", "sender", "kind", "created_at"),
        Index("ix_messages_recipient_kind_created_at", "recipient", "kind", "created_at"),
        Index("ix_messages_correlation_id", "correlation_id"),
        Index("ix_messages_kind_created_at", "kind", "created_at"),
        # The message log read a page at a time in the order stored (GET /v1/messages): a walk from
        # the page's cursor, not a sort of the whole store.
        Index("ix_messages_created_at_id", "created_at", "id"),
        # Pages half filled (PostgreSQL): a status update finds room on its row's page for the new
        # version (HOT, no index written) instead of an entry in each of the indexes above.
        # Twice the heap, for rows updated once or twice each soon after they are written
        # (docs/adr/0017-messages-fillfactor.md; migration 20261205_0029).
        {"postgresql_with": {"fillfactor": 50}},
    )

    direction: Mapped[str] = mapped_column(String(8))
    message_id: Mapped[str] = mapped_column(String(64))  # the envelope's id (sender-chosen inbound)
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(8), default="1")
    sender: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(16))
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), ForeignKey("messages.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))  # of the bytes received or sent, sealed or not
    status: Mapped[str] = mapped_column(String(16))
    # The case the message concerns (its debtor's personal data), when it concerns one: its body is
    # then sealed with the case's data key (``sealed``; ``hub.messaging.sealing``). NULL: a message
    # of no case (receipts, invoices, remittances) or stored before sealing (legacy, clear).
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)
    sealed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MessageEvent(Base):
    """One step of a message's lifecycle. Append-only."""

    __tablename__ = "message_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    # No foreign key (ADR 0018): the relay writes a step for each message it delivers, and the check
    # (an index probe and a lock of the message row per step) was a fifth of its statement. Every
    # step is written from a message row read or written in the same transaction, and messages are
    # never deleted (erasure destroys the case's key, the rows stay).
    message_pk: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    # Declared so the unit of work inserts the message before the rows that point at it.
    message: Mapped[StoredMessage] = relationship(
        primaryjoin="MessageEvent.message_pk == StoredMessage.id", foreign_keys=[message_pk], lazy="raise"
    )
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64), default="hub")
    detail: Mapped[str | None] = mapped_column(Text)


class CaseKey(Base):
    """The data key that seals a case's stored messages, wrapped by the hub's key. Erasing the case
    destroys it (``wrapped_key`` NULL, ``erased_at`` set): every body it sealed is unreadable from then
    on, while their hashes, and the receipts that sign them, stay as they were."""

    __tablename__ = "case_keys"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("cases.id"), primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class InboxEntry(Base):
    """(sender, message id) of every inbound message whose effects were applied: a second copy,
    from a retry or an AMQP redelivery, is recognised here and applied no second time."""

    __tablename__ = "inbox"
    __table_args__ = (PrimaryKeyConstraint("sender", "message_id", name="pk_inbox"),)

    sender: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(64))
    message_pk: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("messages.id"))
    # Declared so the unit of work inserts the message before the rows that point at it.
    message: Mapped[StoredMessage] = relationship(lazy="raise")
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"  # confirmed by the broker, or put in the recipient's mailbox
    ERASED = "erased"  # never sent: its case's personal data was erased first


class OutboxEntry(Base):
    """A message to send, written in the same transaction as the effects that caused it.
    Only the relay reads it; ``id`` is the AMQP ``message_id`` of the publish."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The relay's claim (pending rows in id order, LIMIT n): an index walk over the pending rows
        # alone, however many were sent; never a sort of the whole backlog.
        Index(
            "ix_outbox_pending_id",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    message_pk: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("messages.id"), index=True)
    # Declared so the unit of work inserts the message before the rows that point at it.
    message: Mapped[StoredMessage] = relationship(lazy="raise")
    recipient: Mapped[str] = mapped_column(String(16))
    exchange: Mapped[str] = mapped_column(String(64))
    routing_key: Mapped[str] = mapped_column(String(128))
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)  # extra AMQP headers (dead letters)
    status: Mapped[str] = mapped_column(String(8), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class MailboxItem(Timestamped, Base):
    """An outbound message waiting for an office without AMQP: pulled with GET /v1/inbox and
    acknowledged, or pushed by webhook until the endpoint answers 2xx."""

    __tablename__ = "mailbox"
    __table_args__ = (
        UniqueConstraint("message_pk", name="uq_mailbox_message_pk"),
        Index("ix_mailbox_recipient_acked", "recipient", "acked_at"),
        # The webhook pusher's claim (due pushes in id order): the due rows alone, as for the outbox.
        Index(
            "ix_mailbox_push_due_id",
            "id",
            postgresql_where=text("push_state = 'due'"),
            sqlite_where=text("push_state = 'due'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(16))
    # No foreign key, as for ``MessageEvent`` (ADR 0018): an item is written only from a claimed
    # outbox row, whose own foreign key holds its message.
    message_pk: Mapped[uuid.UUID] = mapped_column(Uuid())
    # Declared so the unit of work inserts the message before the rows that point at it.
    message: Mapped[StoredMessage] = relationship(
        primaryjoin="MailboxItem.message_pk == StoredMessage.id", foreign_keys=[message_pk], lazy="raise"
    )
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Webhook push: "none" (pull only), "due", "delivered", "given_up", "disabled" (410 Gone).
    push_state: Mapped[str] = mapped_column(String(12), default="none")
    push_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_push_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_push_error: Mapped[str | None] = mapped_column(Text)


class Receipt(Timestamped, Base):
    """The hub's signed answer to every message it accepted or refused. Never updated."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    message_pk: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("messages.id"), unique=True)
    # Declared so the unit of work inserts the message before the rows that point at it.
    message: Mapped[StoredMessage] = relationship(lazy="raise")
    message_id: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    accepted: Mapped[bool] = mapped_column(Boolean)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    signature: Mapped[str] = mapped_column(String(200))
    signature_alg: Mapped[str] = mapped_column(String(16))
    # The id of the key that signed (signed with the rest, ``signing.key_id``); None on receipts
    # signed before key ids, whose payload has none.
    key_id: Mapped[str | None] = mapped_column(String(16))
    # The invoice an accepted fee invoice recorded, named on its receipt (and signed with it).
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    # A batch record's receipt is signed with its chunk (``BatchReceipt``): ``signature`` is the
    # signature of the chunk's Merkle root, and this the record's inclusion proof ({"root",
    # "leaves", "index", "path": [[side, sibling hash], ...]}); None for a receipt signed alone.
    proof: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class BatchReceipt(Timestamped, Base):
    """The hub's one signature over the receipts of a batch chunk's records: Ed25519 over the
    Merkle root of their signed payloads (docs/adr/0006-batch-receipts.md). Never updated."""

    __tablename__ = "batch_receipts"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    batch_pk: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("messages.id"), index=True)
    # Declared so the unit of work inserts the message before the rows that point at it.
    batch: Mapped[StoredMessage] = relationship(lazy="raise")
    root: Mapped[str] = mapped_column(String(64), unique=True)
    leaves: Mapped[int] = mapped_column(Integer)
    signature: Mapped[str] = mapped_column(String(200))
    signature_alg: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str | None] = mapped_column(String(16))
