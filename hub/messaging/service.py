"""Use cases of the message store: keep every message raw with its lifecycle, de-duplicate inbound
messages, queue outbound ones on the outbox, and sign receipts. Takes a session; never commits."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.kit.clock import utcnow
from hub.kit.errors import Conflict, ErrorItem, NotFound
from hub.messaging.models import (
    Direction,
    InboxEntry,
    MessageEvent,
    OutboxEntry,
    Receipt,
    Status,
    StoredMessage,
)
from hub.messaging.repository import MessageRepository
from hub.messaging.signing import ALGORITHM, ReceiptSigner, signed_time

HUB_PARTY = "HUB"
AGENCY_PARTY = "AGENCY"


@dataclass(frozen=True)
class Envelope:
    """What the store needs to know of a message, whatever its codec."""

    message_id: str
    kind: str
    sender: str
    recipient: str
    version: str = "1"
    correlation_id: str | None = None


def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


async def record(
    session: AsyncSession,
    message: StoredMessage,
    status: Status,
    *,
    detail: str | None = None,
    actor: str = "hub",
) -> None:
    """Appends a lifecycle step and makes it the message's current status (written at the next flush)."""
    message.status = status.value
    MessageRepository(session).stage_row(
        MessageEvent, {"message_pk": message.id, "status": status.value, "detail": detail, "actor": actor}
    )


def _message_row(
    envelope: Envelope,
    direction: Direction,
    body: bytes,
    content_type: str,
    parent_id: uuid.UUID | None,
    status: Status,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "direction": direction.value,
        "message_id": envelope.message_id,
        "kind": envelope.kind,
        "version": envelope.version,
        "sender": envelope.sender,
        "recipient": envelope.recipient,
        "correlation_id": envelope.correlation_id,
        "parent_id": parent_id,
        "content_type": content_type,
        "body": body,
        "sha256": sha256_hex(body),
        "status": status.value,
    }


def _new_message(
    envelope: Envelope,
    direction: Direction,
    body: bytes,
    content_type: str,
    parent_id: uuid.UUID | None,
    status: Status,
) -> StoredMessage:
    return StoredMessage(**_message_row(envelope, direction, body, content_type, parent_id, status))


async def store_inbound(
    session: AsyncSession,
    envelope: Envelope,
    raw: bytes,
    content_type: str,
    *,
    parent_id: uuid.UUID | None = None,
) -> StoredMessage:
    message = _new_message(envelope, Direction.INBOUND, raw, content_type, parent_id, Status.RECEIVED)
    MessageRepository(session).stage(message)
    await record(session, message, Status.RECEIVED)
    return message


async def already_applied(session: AsyncSession, sender: str, message_id: str) -> StoredMessage | None:
    """The earlier copy of a message whose effects were already applied, if any."""
    repo = MessageRepository(session)
    entry = await repo.inbox_entry(sender, message_id)
    return None if entry is None else await repo.get(entry.message_pk)


async def applied_among(
    session: AsyncSession, sender: str, message_ids: Collection[str]
) -> dict[str, uuid.UUID]:
    """Which of ``message_ids`` from ``sender`` were applied already, and by which stored message."""
    return await MessageRepository(session).inbox_entries(sender, message_ids)


async def mark_applied(session: AsyncSession, message: StoredMessage) -> None:
    """Written in the transaction that applies the message's effects. The primary key on
    (sender, message id) makes a concurrent second copy fail its commit instead of applying twice."""
    MessageRepository(session).stage_row(
        InboxEntry, {"sender": message.sender, "message_id": message.message_id, "message_pk": message.id}
    )
    await record(session, message, Status.VALIDATED)


async def enqueue_outbound(
    session: AsyncSession,
    envelope: Envelope,
    body: bytes,
    content_type: str,
    *,
    exchange: str,
    routing_key: str,
    parent_id: uuid.UUID | None = None,
    headers: dict[str, str] | None = None,
) -> OutboxEntry:
    """Stores an outbound message and its outbox row; the relay sends it once this commits."""
    message = _message_row(envelope, Direction.OUTBOUND, body, content_type, parent_id, Status.ROUTED)
    row = {
        "message_pk": message["id"],
        "recipient": envelope.recipient,
        "exchange": exchange,
        "routing_key": routing_key,
        "headers": headers,
    }
    repo = MessageRepository(session)
    repo.stage_row(StoredMessage, message)
    entry = repo.stage_row(OutboxEntry, row)
    # Every event names the same columns, so a flush writes a batch of them in one statement.
    routed = {"message_pk": message["id"], "status": Status.ROUTED.value, "detail": None, "actor": "hub"}
    repo.stage_row(MessageEvent, routed)
    return entry if entry is not None else OutboxEntry(**row)


def receipt_payload(
    message_id: str, sender: str, sha256: str, received_at: datetime, accepted: bool, errors: list[ErrorItem]
) -> dict[str, object]:
    """The signed fields of a receipt (see ``signing.canonical_json``)."""
    return {
        "message_id": message_id,
        "sender": sender,
        "sha256": sha256,
        "received_at": signed_time(received_at),
        "accepted": accepted,
        "errors": [e.as_dict() for e in errors],
    }


async def issue_receipt(
    session: AsyncSession,
    signer: ReceiptSigner,
    message: StoredMessage,
    *,
    accepted: bool,
    errors: list[ErrorItem] | None = None,
) -> Receipt:
    errors = errors or []
    received_at = message.created_at or utcnow()
    payload = receipt_payload(
        message.message_id, message.sender, message.sha256, received_at, accepted, errors
    )
    row = {
        "message_pk": message.id,
        "message_id": message.message_id,
        "sender": message.sender,
        "sha256": message.sha256,
        "accepted": accepted,
        "errors": [e.as_dict() for e in errors],
        "received_at": received_at,
        "signature": signer.sign(payload),
        "signature_alg": ALGORITHM,
    }
    # Buffered in a batch chunk: the receipt answered is then the same values, not in the session.
    receipt = MessageRepository(session).stage_row(Receipt, row) or Receipt(**row)
    if not accepted:
        await record(session, message, Status.REJECTED, detail=f"{len(errors)} error(s)")
    return receipt


async def resend(session: AsyncSession, message_pk: uuid.UUID, *, actor: str) -> OutboxEntry:
    """Queues an outbound message again, with the same message id: the recipient's inbox drops it
    if it had it already, and takes it if it was lost."""
    repo = MessageRepository(session)
    message = await repo.get(message_pk)
    if message is None:
        raise NotFound(f"no message {message_pk}", code="message.not_found")
    last = await repo.last_outbox_entry(message.id)
    if message.direction != Direction.OUTBOUND.value or last is None:
        raise Conflict(
            "only a message the hub sent can be resent; replay an inbound one", code="message.not_outbound"
        )
    entry = OutboxEntry(
        message_pk=message.id,
        recipient=last.recipient,
        exchange=last.exchange,
        routing_key=last.routing_key,
        headers=last.headers,
    )
    await repo.add(entry)
    await record(session, message, Status.ROUTED, detail=f"resent as outbox {entry.id}", actor=actor)
    return entry
