"""What the hub sends because of a message it received or a decision it made, always through the
outbox (``service.enqueue_outbound``): a message to an office in its codec, an accepted office
message forwarded to the agency's systems, a receipt's wire form and a negative acknowledgement.
Domain modules import these; the inbound processor uses them too, never the reverse."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.amqp import topology
from adapters.xml import codec
from hub.kit.clock import utcnow
from hub.kit.errors import ErrorItem
from hub.messaging import service
from hub.messaging.models import OutboxEntry
from hub.messaging.repository import MessageRepository
from hub.messaging.service import AGENCY_PARTY, Envelope, InboundMessage, IssuedReceipt
from hub.messaging.signing import BATCH_ALGORITHM
from hub.offices.models import Office
from schemas import v1

JSON = "application/json"
XML = "application/xml"


async def send_to_office(
    session: AsyncSession,
    office: Office,
    message: v1.MessageModel,
    *,
    parent_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
) -> None:
    """Queues a message for an office in its codec (canonical XML or JSON) on the outbox. ``case_id``:
    the case the message concerns, whose key seals it in the store (docs/adr/0015-personal-data.md)."""
    as_json = office.codec.startswith("json")
    body = v1.dump_json(message) if as_json else codec.encode(message)  # type: ignore[arg-type]
    env = message.envelope
    await service.enqueue_outbound(
        session,
        Envelope(env.message_id, env.kind, env.sender, env.recipient, env.version, env.correlation_id),
        body,
        JSON if as_json else XML,
        exchange=topology.OUTBOUND_EXCHANGE,
        routing_key=topology.office_routing_key(office.code),
        parent_id=parent_id,
        case_id=case_id,
    )


async def forward_to_agency(session: AsyncSession, message: InboundMessage) -> None:
    """Routes an accepted office message to the agency's systems (``hub.agency``, key
    ``<kind>.received``): an outbox row pointing at the stored inbound message, which the relay
    publishes as it was received (its envelope already names the agency), not a second copy of its
    body."""
    MessageRepository(session).stage_row(
        OutboxEntry,
        {
            "message_pk": message.id,
            "recipient": AGENCY_PARTY,
            "exchange": topology.AGENCY_EXCHANGE,
            "routing_key": f"{message.kind}.received",
            "headers": None,
        },
    )


def receipt_message_id(receipt: IssuedReceipt) -> str:
    """The envelope id of a receipt sent as a message: one per received message, whenever sent."""
    return f"RCPT-{receipt.message_pk.hex}"


def receipt_message(receipt: IssuedReceipt, recipient: str) -> v1.Receipt:
    """The wire form of a stored receipt, as returned to the sender: signed alone (``Ed25519``), or a
    batch record's, signed with its chunk (``Ed25519-Merkle``, with its proof)."""
    return v1.Receipt(
        envelope=v1.Envelope(
            message_id=receipt_message_id(receipt),
            kind="receipt",
            version="1",
            sender=AGENCY_PARTY,
            recipient=recipient,
            sent_at=receipt.created_at or utcnow(),
            correlation_id=receipt.message_id,
        ),
        message_id=receipt.message_id,
        sha256=receipt.sha256,
        received_at=receipt.received_at,
        accepted=receipt.accepted,
        errors=[v1.ErrorItem(**e) for e in receipt.errors],
        invoice_id=str(receipt.invoice_id) if receipt.invoice_id is not None else None,
        signature=receipt.signature,
        # A batch record's receipt is signed with its chunk: its algorithm and proof say so, or no
        # office could verify its signature (docs/adr/0006-batch-receipts.md).
        signature_alg=v1.SIGNED_BY_CHUNK if receipt.signature_alg == BATCH_ALGORITHM else v1.SIGNED_ALONE,
        proof=v1.ReceiptProof.model_validate(receipt.proof) if receipt.proof is not None else None,
        key_id=receipt.key_id,
    )


async def send_receipt(
    session: AsyncSession, office: Office, receipt: IssuedReceipt, *, parent_id: uuid.UUID
) -> None:
    """The receipt of an office's message, sent back as a message (to AMQP senders, and on replay)."""
    await send_to_office(session, office, receipt_message(receipt, office.code), parent_id=parent_id)


async def resend_receipt(
    session: AsyncSession, office: Office, receipt: IssuedReceipt, *, parent_id: uuid.UUID
) -> None:
    """The receipt of a message the office sent again, already applied (a duplicate, over AMQP: an
    office that saw no receipt sends again): the receipt message sent the first time, queued again
    with its message id (the office's inbox drops it if it had it, takes it if it was lost); or, if
    the first copy's receipt was never sent as a message (it came over HTTP, where the receipt is
    the response), sent now."""
    first = await MessageRepository(session).sent_to(office.code, receipt_message_id(receipt))
    if first is None:
        await send_receipt(session, office, receipt, parent_id=parent_id)
    else:
        await service.resend(session, first.id, actor="hub")


def error_report(
    reference: uuid.UUID, message_id: str, sha256: str, recipient: str, errors: list[ErrorItem]
) -> v1.ErrorReport:
    """Which message of ``recipient``'s was refused and why; ``reference``: the hub's id of it."""
    return v1.ErrorReport(
        envelope=v1.Envelope(
            message_id=f"NACK-{reference.hex}",
            kind="error_report",
            version="1",
            sender=AGENCY_PARTY,
            recipient=recipient,
            sent_at=utcnow(),
            correlation_id=message_id[:64],
        ),
        message_id=message_id,
        sha256=sha256,
        errors=[v1.ErrorItem(path=e.path[:500], code=e.code, message=e.message[:500]) for e in errors],
    )


async def negative_ack(
    session: AsyncSession, office: Office, refused: InboundMessage, errors: list[ErrorItem]
) -> None:
    """Tells the office which of its messages was refused and why (kind ``error_report``)."""
    report = error_report(refused.id, refused.message_id, refused.sha256, office.code, errors)
    await send_to_office(session, office, report, parent_id=refused.id)
