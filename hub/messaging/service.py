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

from hub.kit import merkle
from hub.kit.clock import utcnow
from hub.kit.db import RowBuffer
from hub.kit.errors import Conflict, ErrorItem, NotFound
from hub.messaging import sealing
from hub.messaging.models import (
    BatchReceipt,
    Direction,
    InboxEntry,
    MessageEvent,
    OutboxEntry,
    Receipt,
    Status,
    StoredMessage,
)
from hub.messaging.repository import MessageRepository
from hub.messaging.signing import (
    ALGORITHM,
    BATCH_ALGORITHM,
    ReceiptKeys,
    ReceiptSigner,
    batch_proof,
    batch_root_payload,
    receipt_leaf,
    signed_time,
    verify_receipt,
)

HUB_PARTY = "HUB"
AGENCY_PARTY = "AGENCY"
# The lifecycle steps of a batch record that a chunk folds into its status (``record``).
FOLDED = frozenset({Status.RECEIVED, Status.VALIDATED})


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
    message: InboundMessage,
    status: Status,
    *,
    detail: str | None = None,
    actor: str = "hub",
) -> None:
    """Appends a lifecycle step and makes it the message's current status (written at the next flush).
    In a batch chunk, a record's ``received`` and ``validated`` steps are folded into its status: they
    are written in the transaction that stores it, so their times are its ``created_at``."""
    message.status = status.value
    if _folded(session, message, status):
        return
    MessageRepository(session).stage_row(
        MessageEvent, {"message_pk": message.id, "status": status.value, "detail": detail, "actor": actor}
    )


async def record_each(
    session: AsyncSession,
    message_pks: Collection[uuid.UUID],
    status: Status,
    *,
    detail: str | None = None,
    actor: str = "hub",
) -> None:
    """``record`` for many messages at once, by key, none of them loaded: their status in one UPDATE
    and their steps in one INSERT a thousand messages (a key no message has gets no step)."""
    repo = MessageRepository(session)
    found = await repo.set_status(message_pks, status.value)
    step = {"status": status.value, "detail": detail, "actor": actor, "at": utcnow()}
    await repo.insert_rows(MessageEvent, [{"message_pk": pk, **step} for pk in found])


def _folded(session: AsyncSession, message: InboundMessage, status: Status) -> bool:
    """A batch record's step that adds nothing is folded into its status (no event row)."""
    return status in FOLDED and message.parent_id is not None and RowBuffer.folds_lifecycle(session)


def _message_row(
    session: AsyncSession,
    envelope: Envelope,
    direction: Direction,
    body: bytes,
    content_type: str,
    parent_id: uuid.UUID | None,
    status: Status,
    case_id: uuid.UUID | None,
) -> dict[str, Any]:
    """The row of a message; the body of a case's message is stored sealed with the case's key
    (``sealing.load_keys`` first), its hash is the hash of ``body`` as received or sent."""
    pk = uuid.uuid4()
    return {
        "id": pk,
        "direction": direction.value,
        "message_id": envelope.message_id,
        "kind": envelope.kind,
        "version": envelope.version,
        "sender": envelope.sender,
        "recipient": envelope.recipient,
        "correlation_id": envelope.correlation_id,
        "parent_id": parent_id,
        "content_type": content_type,
        "body": body if case_id is None else sealing.seal_for(session, case_id, pk, body),
        "sha256": sha256_hex(body),
        "status": status.value,
        "case_id": case_id,
        "sealed": case_id is not None,
    }


class StagedMessage:
    """An inbound message kept as a row of its unit of work's row buffer (``store_inbound(staged=
    True)``: a batch chunk's record, a single act report), with no ORM object: what the rest of the
    unit of work reads of it, as of a ``StoredMessage``. Its status is written into the row, which the
    buffer writes with its other rows (a chunk's by COPY on PostgreSQL, a single message's in one
    statement), so it must not change once they are written: only a kind that checks before it writes
    (``KindHandling.savepoint`` False) is staged."""

    __slots__ = ("direction", "id", "kind", "message_id", "parent_id", "recipient", "row", "sender", "sha256")
    # Filled in as the row is written, as an ORM object's before its flush: a receipt's time is its own.
    created_at = None

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.id: uuid.UUID = row["id"]
        self.direction: str = row["direction"]
        self.message_id: str = row["message_id"]
        self.kind: str = row["kind"]
        self.sender: str = row["sender"]
        self.recipient: str = row["recipient"]
        self.sha256: str = row["sha256"]
        self.parent_id: uuid.UUID | None = row["parent_id"]

    def __getattr__(self, name: str) -> Any:
        """The row's other columns (its body, content type, case...), as a ``StoredMessage``'s."""
        if name == "row":  # not set yet: no row to read from
            raise AttributeError(name)
        try:
            return self.row[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def status(self) -> str:
        status: str = self.row["status"]
        return status

    @status.setter
    def status(self, status: str) -> None:
        self.row["status"] = status


class StagedReceipt:
    """A batch record's receipt as its chunk answers it (``Outcome.receipt``): the values of its row,
    staged in the chunk's buffer, as attributes, and no ORM object; its signature and proof are given
    when the chunk is signed (``ChunkReceipts.seal``)."""

    created_at = None  # filled in as the row is written, as an ORM object's before its flush
    # The row's columns, as ``Receipt``'s (declared for the type checker: the row sets them).
    message_pk: uuid.UUID
    message_id: str
    sender: str
    sha256: str
    accepted: bool
    errors: list[dict[str, Any]]
    received_at: datetime
    signature: str
    signature_alg: str
    key_id: str | None
    invoice_id: uuid.UUID | None
    proof: dict[str, Any] | None

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)


# An inbound message as the unit of work that stored it reads it.
InboundMessage = StoredMessage | StagedMessage
# A receipt as the unit of work that issued it reads it.
IssuedReceipt = Receipt | StagedReceipt


async def store_inbound(
    session: AsyncSession,
    envelope: Envelope,
    raw: bytes,
    content_type: str,
    *,
    parent_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    staged: bool = False,
) -> InboundMessage:
    """Keeps an office's message as received; ``case_id``: the case it concerns (sealed with its key).
    ``staged``: as a row of the session's row buffer (a ``StagedMessage``), when one is open."""
    await sealing.load_keys(session, [case_id], create=True)
    row = _message_row(
        session, envelope, Direction.INBOUND, raw, content_type, parent_id, Status.RECEIVED, case_id
    )
    message: InboundMessage
    if staged and RowBuffer.stage(session, StoredMessage, row):
        message = StagedMessage(row)
    else:
        message = StoredMessage(**row)
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


async def mark_applied(session: AsyncSession, message: InboundMessage) -> None:
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
    case_id: uuid.UUID | None = None,
) -> OutboxEntry:
    """Stores an outbound message and its outbox row; the relay sends it once this commits.
    ``case_id``: the case the message concerns (sealed with its key)."""
    await sealing.load_keys(session, [case_id], create=True)
    message = _message_row(
        session, envelope, Direction.OUTBOUND, body, content_type, parent_id, Status.ROUTED, case_id
    )
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


_CHUNK_RECEIPTS = "hub.chunk_receipts"


class ChunkReceipts:
    """The receipts of a batch chunk's records, signed once for the chunk: the Ed25519 signature of
    the Merkle root of their payloads (a ``BatchReceipt``), each record's receipt carrying that
    signature and its inclusion proof, so it is still verifiable alone (``receipt_verifies``).
    Sealed before every write of the chunk's ``RowBuffer``: a chunk written in parts (a duplicate
    inside it reads its first copy back) has one tree per part."""

    def __init__(self, session: AsyncSession, signer: ReceiptSigner, batch_pk: uuid.UUID) -> None:
        self.session = session
        self.signer = signer
        self.batch_pk = batch_pk
        self.pending: list[tuple[dict[str, Any], dict[str, object], IssuedReceipt]] = []

    @classmethod
    def open(
        cls, session: AsyncSession, rows: RowBuffer, signer: ReceiptSigner, batch_pk: uuid.UUID
    ) -> ChunkReceipts:
        chunk = cls(session, signer, batch_pk)
        session.sync_session.info[_CHUNK_RECEIPTS] = chunk
        rows.before_write.append(chunk.seal)
        return chunk

    def close(self) -> None:
        self.session.sync_session.info.pop(_CHUNK_RECEIPTS, None)

    @staticmethod
    def of(session: AsyncSession) -> ChunkReceipts | None:
        chunk: ChunkReceipts | None = session.sync_session.info.get(_CHUNK_RECEIPTS)
        return chunk

    def add(self, row: dict[str, Any], payload: dict[str, object], receipt: IssuedReceipt) -> None:
        self.pending.append((row, payload, receipt))

    def seal(self) -> None:
        """Signs the pending receipts' root and gives each its signature and proof (staged rows are
        finished in place, before they are written)."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        tree = merkle.levels([receipt_leaf(payload) for _row, payload, _receipt in pending])
        root = tree[-1][0].hex()
        signature = self.signer.sign(batch_root_payload(root, len(pending), self.signer.key_id))
        MessageRepository(self.session).stage_row(
            BatchReceipt,
            {
                "batch_pk": self.batch_pk,
                "root": root,
                "leaves": len(pending),
                "signature": signature,
                "signature_alg": ALGORITHM,
                "key_id": self.signer.key_id,
            },
        )
        for index, (row, _payload, receipt) in enumerate(pending):
            row["signature"] = receipt.signature = signature
            row["proof"] = receipt.proof = batch_proof(tree, index)


def stored_receipt_payload(receipt: Receipt) -> dict[str, object]:
    """What a stored receipt signs (``receipt_payload``), from its columns."""
    payload: dict[str, object] = {
        "message_id": receipt.message_id,
        "sender": receipt.sender,
        "sha256": receipt.sha256,
        "received_at": signed_time(receipt.received_at),
        "accepted": receipt.accepted,
        "errors": list(receipt.errors),
    }
    if receipt.invoice_id is not None:
        payload["invoice_id"] = str(receipt.invoice_id)
    if receipt.key_id is not None:
        payload["key_id"] = receipt.key_id
    return payload


def signed_alone(signer: ReceiptSigner, receipt: Receipt) -> Receipt:
    """A batch record's receipt in the wire form of any receipt (``v1.Receipt``: Ed25519 over its
    own payload, no proof), e.g. to answer a second copy sent alone. Ed25519 is deterministic: the
    signature is the one a receipt signed alone always had. Not added to the session."""
    if receipt.proof is None:
        return receipt
    columns = (
        "message_pk",
        "message_id",
        "sender",
        "sha256",
        "accepted",
        "errors",
        "received_at",
        "invoice_id",
    )
    alone = Receipt(**{c: getattr(receipt, c) for c in columns}, created_at=receipt.created_at)
    # Signed now, so by the current key, whichever key signed its chunk.
    alone.key_id = signer.key_id
    alone.signature = signer.sign(stored_receipt_payload(alone))
    alone.signature_alg = ALGORITHM
    return alone


def receipt_verifies(keys: ReceiptKeys | str, receipt: Receipt) -> bool:
    """A stored receipt checked alone against the hub's published keys (or one public key), whether
    it was signed by itself or with its batch chunk (``signing.verify_receipt``): with the key its
    ``key_id`` names (``UnknownKeyId`` when none is published), or any for a receipt without one."""
    return verify_receipt(keys, stored_receipt_payload(receipt), receipt.signature, receipt.proof)


def receipt_payload(
    message_id: str,
    sender: str,
    sha256: str,
    received_at: datetime,
    accepted: bool,
    errors: list[ErrorItem],
    invoice_id: uuid.UUID | None = None,
    key_id: str | None = None,
) -> dict[str, object]:
    """The signed fields of a receipt (see ``signing.canonical_json``); ``invoice_id`` only when the
    receipt names one, so every other receipt signs what it always did; ``key_id``: the signing
    key's id, on every receipt signed since key ids (signed, so it cannot be swapped for another)."""
    payload: dict[str, object] = {
        "message_id": message_id,
        "sender": sender,
        "sha256": sha256,
        "received_at": signed_time(received_at),
        "accepted": accepted,
        "errors": [e.as_dict() for e in errors],
    }
    if invoice_id is not None:
        payload["invoice_id"] = str(invoice_id)
    if key_id is not None:
        payload["key_id"] = key_id
    return payload


async def issue_receipt(
    session: AsyncSession,
    signer: ReceiptSigner,
    message: InboundMessage,
    *,
    accepted: bool,
    errors: list[ErrorItem] | None = None,
    invoice_id: uuid.UUID | None = None,
) -> IssuedReceipt:
    """The signed receipt of ``message``; ``invoice_id``: the invoice an accepted fee invoice
    recorded, which the receipt names."""
    errors = errors or []
    received_at = message.created_at or utcnow()
    payload = receipt_payload(
        message.message_id,
        message.sender,
        message.sha256,
        received_at,
        accepted,
        errors,
        invoice_id,
        signer.key_id,
    )
    row = {
        "message_pk": message.id,
        "message_id": message.message_id,
        "sender": message.sender,
        "sha256": message.sha256,
        "accepted": accepted,
        "errors": [e.as_dict() for e in errors],
        "received_at": received_at,
        "signature_alg": ALGORITHM,
        "key_id": signer.key_id,
        "invoice_id": invoice_id,
        "proof": None,  # every staged row names the same columns (one statement per table)
    }
    chunk = ChunkReceipts.of(session)
    if chunk is not None and message.parent_id == chunk.batch_pk and RowBuffer.of(session) is not None:
        # A batch record: signed with the rest of its chunk when the chunk's rows are written.
        row |= {"signature": "", "signature_alg": BATCH_ALGORITHM}
        receipt: IssuedReceipt = StagedReceipt(row)
        MessageRepository(session).stage_row(Receipt, row)
        chunk.add(row, payload, receipt)
    else:
        row["signature"] = signer.sign(payload)
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
    if await sealing.is_erased(session, message):
        raise sealing.erased(message)
    last = await repo.last_outbox_entry(message.id)
    if last is None:  # an inbound message with an outbox row was forwarded to the agency
        raise Conflict(
            "only a message the hub sent or forwarded can be resent; replay an inbound one",
            code="message.not_outbound",
        )
    entry = OutboxEntry(
        message_pk=message.id,
        recipient=last.recipient,
        exchange=last.exchange,
        routing_key=last.routing_key,
        headers=last.headers,
    )
    await repo.add(entry)
    if message.direction == Direction.OUTBOUND.value:
        await record(session, message, Status.ROUTED, detail=f"resent as outbox {entry.id}", actor=actor)
    return entry
