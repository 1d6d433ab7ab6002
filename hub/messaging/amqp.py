"""The RabbitMQ side of the messaging module: the relay's transport (publish with confirms) and
the consumer of ``hub.inbound`` (offices' messages, acked only after the commit)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from collections.abc import Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from adapters.amqp.consumer import Consumer, Delivery, Limits, consume
from adapters.amqp.publisher import OutgoingMessage, Status
from hub.broker import Broker
from hub.database import is_busy, unit_of_work
from hub.kit.clock import utcnow
from hub.kit.db import is_unavailable
from hub.kit.errors import ErrorItem, HubError
from hub.kit.http import BodyLimits, body_too_large
from hub.kit.ratelimit import RateLimiter, TooManyRequests
from hub.messaging import service
from hub.messaging.inbound import InboundProcessor, Received
from hub.messaging.models import Receipt
from hub.messaging.outbound import error_report, receipt_message, send_to_office
from hub.messaging.relay import Outgoing
from hub.messaging.service import Envelope
from hub.messaging.signing import ALGORITHM
from hub.observability import metrics
from hub.offices.models import Office
from hub.offices.repository import OfficeRepository

log = structlog.get_logger()
UNKNOWN_SENDER = "UNKNOWN"
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # v1.MessageId
DEAD_LETTER_PARTY = "DEADLETTER"
DATABASE_RETRY_S = (0.5, 30.0)
"""While the database cannot be reached, a message is tried again after these seconds, doubling."""


class AmqpTransport:
    """Publishes outbox rows; AMQP ``message_id`` = the outbox id, so a consumer can drop a copy
    published twice (confirm lost, relay restarted) by that id."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        messages = [
            OutgoingMessage(
                message_id=str(out.entry.id),
                exchange=out.entry.exchange,
                routing_key=out.entry.routing_key,
                body=out.body,
                content_type=out.message.content_type,
                headers={
                    "x-hub-message-id": out.message.message_id,
                    "x-hub-kind": out.message.kind,
                    "x-hub-sender": out.message.sender,
                    **(out.entry.headers or {}),
                },
                correlation_id=out.message.correlation_id,
                type=out.message.kind,
            )
            for out in batch
        ]
        outcomes = await self.broker.publish_many(messages)
        offices = OfficeRepository(session)
        for out, outcome in zip(batch, outcomes, strict=True):
            if outcome.status is Status.RETURNED and await offices.get_by_code(out.entry.recipient):
                # An office added while this process ran: create its queue; the retry will route.
                await self.broker.ensure_office_queue(out.entry.recipient)
        return [None if o.ok else f"{o.status.value}: {o.detail}" for o in outcomes]


async def dead_letter(
    session: AsyncSession,
    delivery: Delivery,
    sender: str,
    reason: str,
    detail: str,
    *,
    keep_body: bool = True,
) -> None:
    """Keeps a message the hub cannot apply in ``hub.dead`` with the reason in its headers, through
    the outbox like every other publish (never straight from a consumer). The AMQP user it came
    with is kept too: ``hub dead requeue`` applies it as that office once the cause is fixed.
    ``keep_body=False``: the body is not stored (over the body limit), only the reason, its size
    and SHA-256."""
    envelope = Envelope(f"DL-{delivery.message_id or 'none'}"[:64], "dead_letter", sender, DEAD_LETTER_PARTY)
    await service.enqueue_outbound(
        session,
        envelope,
        delivery.body if keep_body else b"",
        delivery.content_type or "application/octet-stream",
        exchange=topology.DEAD_LETTER_EXCHANGE,
        routing_key=topology.INBOUND_QUEUE,
        headers={
            "x-hub-reason": reason,
            "x-hub-detail": detail[:500],
            "x-hub-sender": sender,
            "x-hub-user-id": delivery.user_id or "",
        },
    )


class InboundConsumer:
    """Consumes ``hub.inbound``. The sender is the AMQP user of the connection (RabbitMQ checks the
    ``user-id`` property against it; one user per office, named by its code), never the envelope."""

    def __init__(
        self,
        broker: Broker,
        sessions: async_sessionmaker[AsyncSession],
        processor: InboundProcessor,
        limiter: RateLimiter | None = None,
        *,
        limits: BodyLimits | None = None,
    ) -> None:
        self.broker = broker
        self.sessions = sessions
        self.processor = processor
        # The HTTP routes' rate, per AMQP user: beyond it a message is refused unread, as HTTP
        # answers 429 (waiting here would hold the one inbound queue up for every office).
        self.limiter = limiter or RateLimiter()
        self.limits = limits or BodyLimits.defaults()
        self.consumer: Consumer | None = None

    async def start(self, *, prefetch: int = 64) -> None:
        # hub.inbound has no broker delivery limit: this consumer gives up on a message itself
        # (adapters.amqp.consumer.Limits, ADR 0021), after as many failures as the office queues.
        self.consumer = await consume(
            await self.broker.channel(),
            topology.INBOUND_QUEUE,
            self.handle,
            prefetch=prefetch,
            limits=Limits(retries=self.broker.delivery_limit),
        )

    async def handle(self, delivery: Delivery) -> None:
        """Commits before returning; the adapter acks only then (redelivery finds the inbox entry)."""
        # Every log line of this delivery names it; the processor binds the envelope's message id.
        with structlog.contextvars.bound_contextvars(
            correlation_id=delivery.correlation_id or delivery.message_id or uuid.uuid4().hex,
            message_id=delivery.message_id,
            office=delivery.user_id,
        ):
            await self._handle_while_the_database_is_down(delivery)

    async def _handle_while_the_database_is_down(self, delivery: Delivery) -> None:
        """Tries again, holding the message, while the database cannot be reached (or SQLite stays
        busy): nothing was applied, and a requeue would spend the message's redeliveries in
        milliseconds and dead-letter every message in flight for an outage of a few seconds. The
        wait ends with the outage, or with the consumer's stop (the message is then requeued)."""
        pause, longest = DATABASE_RETRY_S
        while True:
            try:
                await self._handle(delivery)
                return
            except Exception as exc:
                if not (is_unavailable(exc) or is_busy(exc)):
                    raise
                log.warning("inbound_database_unavailable", error=type(exc).__name__, retry_in_s=pause)
                await asyncio.sleep(pause)
                pause = min(2 * pause, longest)

    async def _handle(self, delivery: Delivery) -> None:
        async with unit_of_work(self.sessions) as session:
            office = (
                await OfficeRepository(session).get_by_code(delivery.user_id) if delivery.user_id else None
            )
            limit = self.limits.for_message(delivery.content_type or "")
            if (too_large := body_too_large(len(delivery.body), limit)) is not None:
                await self._refuse_unread(session, office, delivery, too_large)
                return
            if office is None:
                detail = f"AMQP user {delivery.user_id!r} is not a registered office"
                await dead_letter(session, delivery, UNKNOWN_SENDER, "sender.unknown", detail)
                log.warning(
                    "inbound_unknown_sender", user_id=delivery.user_id, message_id=delivery.message_id
                )
                metrics.count_inbound(metrics.OTHER, "amqp", "refused", ["sender.unknown"])
                return
            try:
                self.limiter.check(f"amqp:{office.code}")
            except TooManyRequests as too_many:
                await self._refuse_unread(session, office, delivery, too_many)
                return
            received = Received(delivery.body, delivery.content_type or "application/xml", transport="amqp")
            outcome = await self.processor.receive(session, office, received, reply_receipt=True)
            if outcome.unreadable:
                first = outcome.receipt.errors[0]
                await dead_letter(session, delivery, office.code, first["code"], first["message"])

    async def _refuse_unread(
        self, session: AsyncSession, office: Office | None, delivery: Delivery, refusal: HubError
    ) -> None:
        """A message refused before it is read, as HTTP answers 413 or 429: nothing of it parsed or
        stored. The office (when the AMQP user is one) gets a signed negative receipt and an error
        report naming the AMQP ``message_id``. A body over the limit is also kept in ``hub.dead``
        with the reason, the size and the SHA-256, not the body; a message over the rate is not (the
        office sends it again)."""
        sha256 = hashlib.sha256(delivery.body).hexdigest()
        log.warning(
            "inbound_refused_unread", code=refusal.code, user_id=delivery.user_id, size=len(delivery.body)
        )
        metrics.count_inbound(metrics.OTHER, "amqp", "refused", [refusal.code])
        if not isinstance(refusal, TooManyRequests):
            sender = office.code if office is not None else UNKNOWN_SENDER
            detail = (
                f"{len(delivery.body)} bytes (SHA-256 {sha256}) from AMQP user {delivery.user_id!r}: "
                f"{refusal.detail}; the body is not kept"
            )
            await dead_letter(session, delivery, sender, refusal.code, detail, keep_body=False)
        if office is None:
            return
        errors = [ErrorItem("/", refusal.code, refusal.detail)]
        message_id = delivery.message_id or ""
        if not _MESSAGE_ID.match(message_id):
            message_id = "unknown"
        # Signed like a stored message's receipt, under a reference of its own: nothing is stored.
        reference, received_at = uuid.uuid4(), utcnow()
        signer = self.processor.signer
        payload = service.receipt_payload(
            message_id, office.code, sha256, received_at, False, errors, key_id=signer.key_id
        )
        receipt = Receipt(
            message_pk=reference,
            message_id=message_id,
            sender=office.code,
            sha256=sha256,
            accepted=False,
            errors=[e.as_dict() for e in errors],
            received_at=received_at,
            signature=signer.sign(payload),
            signature_alg=ALGORITHM,
            key_id=signer.key_id,
        )
        await send_to_office(session, office, receipt_message(receipt, office.code))
        await send_to_office(
            session, office, error_report(reference, message_id, sha256, office.code, errors)
        )

    async def stop(self, *, grace: float = 30.0) -> None:
        """No new delivery; the messages being handled commit and are acked (at most ``grace`` s)."""
        if self.consumer is not None:
            await self.consumer.stop(grace=grace)
