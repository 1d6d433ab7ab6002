"""Publishing with publisher confirms, pipelined, with one outcome per message.

The outbox relay marks a row as sent only when the broker has confirmed it: "unconfirmed = not
sent". So every publish is persistent, ``mandatory`` (an unroutable message comes back instead of
vanishing), under a timeout, and reported one by one: the caller never has to guess which
messages of a batch made it.

Confirms are pipelined: the whole batch is written, then the confirmations are awaited together.
Awaiting each confirm before sending the next caps throughput at one broker round trip (fsync of
a quorum queue included) per message (~800/s here instead of ~3 k/s, see DESIGN.md).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractMessage,
    DeliveryMode,
    MessageInfo,
)
from aiormq.abc import DeliveredMessage
from pamqp.commands import Basic

DEFAULT_PUBLISH_TIMEOUT_S = 10.0
DEFAULT_MAX_IN_FLIGHT = 1000


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to publish; the hub sets ``message_id`` to its outbox id."""

    message_id: str
    exchange: str
    routing_key: str
    body: bytes
    content_type: str
    headers: Mapping[str, str]
    correlation_id: str | None = None


class Status(enum.StrEnum):
    OK = "ok"
    """Confirmed (``basic.ack``) by the broker: the message is in every queue it was routed to."""
    RETURNED = "returned"
    """Unroutable: no queue is bound for this routing key (e.g. an office with no queue yet)."""
    NACKED = "nacked"
    """Refused by the broker (``basic.nack``), e.g. a full queue with ``x-overflow=reject-publish``."""
    TIMEOUT = "timeout"
    """No confirmation in time. The broker may still have the message: a retry can duplicate it."""
    CONNECTION_ERROR = "connection_error"
    """The connection or channel was lost or closed (a robust connection reconnects by itself)."""


@dataclass(frozen=True)
class PublishOutcome:
    message_id: str
    status: Status
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


class Publisher:
    """Publishes on one channel opened with publisher confirms.

    ``user_id`` sets AMQP's ``user-id`` property, which RabbitMQ validates against the
    connection's user (an office cannot pretend to be another). It is a property of the
    connection's identity, hence of the publisher, not of each message: a mismatch makes the
    broker close the channel.

    ``max_in_flight`` bounds the messages written but not yet confirmed, so a huge batch neither
    holds every frame in memory nor times out its tail while waiting behind its head.
    """

    def __init__(
        self,
        channel: AbstractChannel,
        *,
        publish_timeout: float = DEFAULT_PUBLISH_TIMEOUT_S,
        user_id: str | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        if not channel.publisher_confirms:
            raise ValueError("the channel must be opened with publisher_confirms=True")
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.channel = channel
        self.publish_timeout = publish_timeout
        self.user_id = user_id
        self.max_in_flight = max_in_flight
        self._exchanges: dict[str, AbstractExchange] = {}

    @classmethod
    async def open(
        cls,
        connection: AbstractConnection,
        *,
        publish_timeout: float = DEFAULT_PUBLISH_TIMEOUT_S,
        user_id: str | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> Publisher:
        """A publisher on a new channel of ``connection`` with confirms and raising returns."""
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        return cls(channel, publish_timeout=publish_timeout, user_id=user_id, max_in_flight=max_in_flight)

    async def publish(self, message: OutgoingMessage) -> PublishOutcome:
        return (await self.publish_many([message]))[0]

    async def publish_many(self, messages: Iterable[OutgoingMessage]) -> list[PublishOutcome]:
        """Publishes every message and returns their outcomes in the same order.

        Never raises for a failed message: its outcome says why. Message ids must be unique in
        a call, because the client matches a returned message to its publish by ``message_id``.

        A window of ``max_in_flight`` messages at a time, written together, each confirmed within
        ``publish_timeout`` of the window's start: one deadline and no semaphore for the window,
        where one of each per message cost a tenth of the publish's CPU (docs/performance.md).
        """
        batch: Sequence[OutgoingMessage] = list(messages)
        ids = [m.message_id for m in batch]
        if len(set(ids)) != len(ids):
            raise ValueError("message ids must be unique within one publish_many call")
        timestamp = datetime.now(UTC)
        outcomes: list[PublishOutcome] = []
        for first in range(0, len(batch), self.max_in_flight):
            outcomes += await self._publish_window(batch[first : first + self.max_in_flight], timestamp)
        return outcomes

    async def _publish_window(
        self, window: Sequence[OutgoingMessage], timestamp: datetime
    ) -> list[PublishOutcome]:
        tasks = [asyncio.ensure_future(self._publish_one(message, timestamp)) for message in window]
        try:
            await asyncio.wait(tasks, timeout=self.publish_timeout)
        finally:
            # Those still waiting for their confirm at the deadline (or when this call is
            # cancelled) are cancelled as the timeout of each publish did before.
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
        timed_out = f"no confirmation within {self.publish_timeout} s"
        return [
            PublishOutcome(message.message_id, Status.TIMEOUT, timed_out)
            if task.cancelled()
            else task.result()
            for message, task in zip(window, tasks, strict=True)
        ]

    async def _publish_one(self, message: OutgoingMessage, timestamp: datetime) -> PublishOutcome:
        amqp_message = _Publishing(message, timestamp, self.user_id)

        def outcome(status: Status, detail: str = "") -> PublishOutcome:
            return PublishOutcome(message.message_id, status, detail)

        try:
            exchange = self._exchanges.get(message.exchange) or await self._exchange(message.exchange)
            result = await exchange.publish(amqp_message, message.routing_key, mandatory=True)
        except TimeoutError:
            return outcome(Status.TIMEOUT, f"no confirmation within {self.publish_timeout} s")
        except aiormq.exceptions.PublishError as error:
            return outcome(Status.RETURNED, _returned_detail(error.message))
        except aiormq.exceptions.DeliveryError as error:
            return outcome(Status.NACKED, str(error))
        except (
            aiormq.exceptions.AMQPError,
            aiormq.exceptions.ChannelInvalidStateError,
            ConnectionError,
        ) as error:
            return outcome(Status.CONNECTION_ERROR, f"{type(error).__name__}: {error}")

        # With on_return_raises=False aiormq hands back the returned message instead of raising.
        if isinstance(result, DeliveredMessage):
            return outcome(Status.RETURNED, _returned_detail(result))
        if isinstance(result, Basic.Ack):
            return outcome(Status.OK)
        return outcome(Status.NACKED, f"unexpected confirmation {result!r}")

    async def _exchange(self, name: str) -> AbstractExchange:
        # Not declared (nor checked) here: the topology is declared once, at start.
        exchange = self._exchanges.get(name)
        if exchange is None:
            exchange = await self.channel.get_exchange(name, ensure=False)
            self._exchanges[name] = exchange
        return exchange


class _Publishing(AbstractMessage):
    """An outgoing message as ``Exchange.publish`` reads it (its body and its properties), the
    properties built once, straight: those ``aio_pika.Message`` would send for the same arguments
    (``test_publisher`` compares them), without its sixteen attributes set through a locked
    ``__setattr__`` and its properties built again at each read (13 µs a message against 1, a
    tenth of the publish's CPU, docs/performance.md). The OpenTelemetry instrumentation injects its trace
    headers into ``properties.headers`` before publishing: the same object is published."""

    __slots__ = ("_properties", "body")

    def __init__(self, message: OutgoingMessage, timestamp: datetime, user_id: str | None) -> None:
        self.body = message.body
        self._properties = aiormq.spec.Basic.Properties(
            content_type=message.content_type,
            headers=dict(message.headers),
            delivery_mode=DeliveryMode.PERSISTENT,
            priority=0,
            correlation_id=message.correlation_id or None,
            message_id=message.message_id or None,
            timestamp=timestamp,
            user_id=user_id or None,
        )

    @property
    def properties(self) -> aiormq.spec.Basic.Properties:
        return self._properties

    def info(self) -> MessageInfo:
        p = self._properties
        return MessageInfo(
            body_size=len(self.body),
            content_type=p.content_type,
            correlation_id=p.correlation_id,
            delivery_mode=DeliveryMode.PERSISTENT,
            headers=p.headers or {},
            message_id=p.message_id,
            priority=p.priority,
            timestamp=p.timestamp,
            user_id=p.user_id,
        )

    @property
    def locked(self) -> bool:
        return True  # never changed once built

    def lock(self) -> None:
        pass

    def __iter__(self) -> Iterator[int]:
        return iter(self.body)


def _returned_detail(message: DeliveredMessage | None) -> str:
    if message is None or not isinstance(message.delivery, Basic.Return):
        return "returned by the broker"
    frame = message.delivery
    return f"{frame.reply_code} {frame.reply_text}: {frame.exchange!r} -> {frame.routing_key!r}"
