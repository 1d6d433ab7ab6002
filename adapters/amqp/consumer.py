"""Consuming with acknowledgement after the handler's work is committed.

The hub's handler commits its database transaction before returning, so acking only after it
returns means a message is never lost: if the process dies first, the broker redelivers it (and
the inbox table drops the duplicate). A handler that raises has the message rejected with
requeue; the quorum queue counts deliveries (``x-delivery-count``) and the message is
dead-lettered to ``hub.dead`` once it has had enough, so one poison message cannot loop forever.

Who gives up is either the queue (its ``x-delivery-limit``: the queues other parties consume) or
this consumer (``limits``: ``hub.inbound``, which has no broker limit, ADR 0021). RabbitMQ 3.x
counts a message returned by a consumer that died or lost its connection as a delivery, so a
worker killed again and again made the queue dead-letter the healthy messages it held at every
kill. With :class:`Limits` the consumer decides: it rejects without requeue (the queue's
dead-letter exchange takes the message, reason ``rejected``) a message whose handler failed at
its ``retries``-th redelivery, and, unhandled, one already delivered ``deliveries`` times (a
message that kills its consumer never reaches a handler's ``except``). RabbitMQ 4.3 counts the two
apart (``x-delivery-count`` failed deliveries only, ``x-acquired-count`` every delivery):
``deliveries`` is compared with the second where the broker sends it.

Handlers run concurrently, up to ``prefetch`` at a time (aiormq starts one task per delivery):
a slow or failing message does not hold back the others, and the order of handling is not the
order of the queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiormq
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue, ConsumerTag
from aio_pika.exceptions import MessageProcessError

from adapters.amqp.topology import DEFAULT_DELIVERY_LIMIT

log = logging.getLogger(__name__)

DEFAULT_PREFETCH = 256
DELIVERY_COUNT_HEADER = "x-delivery-count"
ACQUIRED_COUNT_HEADER = "x-acquired-count"  # RabbitMQ 4.3 and later (module doc)


@dataclass(frozen=True)
class Delivery:
    """One received message, detached from aio-pika (the handler cannot ack it by mistake)."""

    body: bytes
    queue: str
    exchange: str
    routing_key: str
    message_id: str | None
    correlation_id: str | None
    content_type: str | None
    headers: Mapping[str, Any]
    user_id: str | None
    """Validated by RabbitMQ against the connection's user when the publisher set it."""
    timestamp: datetime | None
    redelivered: bool
    """The broker delivered this message before (to this or another consumer)."""
    delivery_count: int
    """Failed deliveries so far (quorum queues' ``x-delivery-count``; 0 on a first delivery)."""
    acquired_count: int
    """Deliveries so far without an outcome, whatever ended them: ``x-acquired-count`` where the
    broker sends it (RabbitMQ 4.3 no longer counts a requeue or a consumer's death as a failed
    delivery), else ``delivery_count`` (RabbitMQ 3.x counts both)."""


Handler = Callable[[Delivery], Awaitable[None]]


@dataclass(frozen=True)
class Limits:
    """When this consumer dead-letters a message itself (for a queue without ``x-delivery-limit``)."""

    retries: int = DEFAULT_DELIVERY_LIMIT
    """A handler failing at this redelivery (or later) dead-letters the message: like the queue's
    own limit, the handler sees it ``retries + 1`` times at most."""
    deliveries: int = 20
    """A message delivered this many times before without an outcome (its consumers died with it)
    is dead-lettered before the handler sees it again."""

    def __post_init__(self) -> None:
        if not 0 <= self.retries <= self.deliveries:
            raise ValueError("need 0 <= retries <= deliveries")


def to_delivery(queue: str, message: AbstractIncomingMessage) -> Delivery:
    headers: Mapping[str, Any] = dict(message.headers or {})
    count = _count(headers, DELIVERY_COUNT_HEADER)
    return Delivery(
        body=message.body,
        queue=queue,
        exchange=message.exchange or "",
        routing_key=message.routing_key or "",
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        content_type=message.content_type,
        headers=headers,
        user_id=message.user_id,
        timestamp=message.timestamp,
        redelivered=bool(message.redelivered),
        delivery_count=count,
        acquired_count=max(count, _count(headers, ACQUIRED_COUNT_HEADER)),
    )


def _count(headers: Mapping[str, Any], name: str) -> int:
    value = headers.get(name, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class Consumer:
    """A running consumer of one queue; :meth:`stop` ends it cleanly."""

    def __init__(self, queue: AbstractQueue, handler: Handler, limits: Limits | None = None) -> None:
        self.queue = queue
        self.handler = handler
        self.limits = limits
        self.consumer_tag: ConsumerTag | None = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def in_flight(self) -> int:
        """Deliveries whose handler has not finished yet."""
        return self._in_flight

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._in_flight += 1
        self._idle.clear()
        try:
            await self._handle(message)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        delivery = to_delivery(self.queue.name, message)
        extra = {"queue": delivery.queue, "message_id": delivery.message_id}
        limits = self.limits
        if limits is not None and delivery.acquired_count >= limits.deliveries:
            log.error(
                "message dead-lettered unhandled: delivered %s times without an outcome",
                delivery.acquired_count,
                extra=extra,
            )
            await _settle(message, ack=False, requeue=False)
            return
        try:
            await self.handler(delivery)
        except Exception:
            give_up = limits is not None and delivery.delivery_count >= limits.retries
            log.exception(
                "handler failed; message %s (delivery count %s)",
                "dead-lettered" if give_up else "requeued",
                delivery.delivery_count,
                extra=extra,
            )
            await _settle(message, ack=False, requeue=not give_up)
            return
        except BaseException:
            # Cancelled (shutdown, lost channel): the work may not be committed; let the broker
            # redeliver it. On a lost channel the broker already requeued it by itself.
            await _settle(message, ack=False)
            raise
        await _settle(message, ack=True)

    async def stop(self, *, grace: float = 30.0) -> None:
        """Stops new deliveries, then waits (up to ``grace`` seconds) for running handlers to settle.

        Messages prefetched but not yet handled go back to the queue when the channel closes.
        """
        if self.consumer_tag is not None:
            tag, self.consumer_tag = self.consumer_tag, None
            try:
                await self.queue.cancel(tag)
            except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError) as error:
                log.warning("cancelling consumer %s failed: %s", tag, error)
        try:
            async with asyncio.timeout(grace):
                await self._idle.wait()
        except TimeoutError:
            log.warning("%d handlers still running after %s s", self._in_flight, grace)


async def _settle(message: AbstractIncomingMessage, *, ack: bool, requeue: bool = True) -> None:
    try:
        if ack:
            await message.ack()
        else:
            await message.reject(requeue=requeue)
    except (
        aiormq.exceptions.AMQPError,
        aiormq.exceptions.ChannelInvalidStateError,
        ConnectionError,
        MessageProcessError,
    ) as error:
        # The channel is gone: the broker requeues every unacked message of it by itself.
        log.warning("could not %s message %s: %s", "ack" if ack else "reject", message.message_id, error)


async def consume(
    channel: AbstractChannel,
    queue_name: str,
    handler: Handler,
    *,
    prefetch: int = DEFAULT_PREFETCH,
    limits: Limits | None = None,
) -> Consumer:
    """Starts consuming ``queue_name`` (which must exist) and returns the running consumer.

    On a robust channel the consumer is restored after a reconnect. The prefetch is per consumer
    (``global=False``), so use one channel per consumer to keep them independent. ``limits``: this
    consumer dead-letters (module doc); without, the queue's own delivery limit does.
    """
    await channel.set_qos(prefetch_count=prefetch)
    # Passive: the topology owns the queue's arguments; a consumer must not create it differently.
    queue = await channel.declare_queue(queue_name, passive=True)
    consumer = Consumer(queue, handler, limits)
    consumer.consumer_tag = await queue.consume(consumer._on_message)
    return consumer
