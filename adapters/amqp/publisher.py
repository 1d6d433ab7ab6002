"""Publishing with publisher confirms, pipelined, with one outcome per message.

The outbox relay marks a row as sent only when the broker has confirmed it: "unconfirmed = not
sent". So every publish is persistent, ``mandatory`` (an unroutable message comes back instead of
vanishing), under a timeout, and reported one by one: the caller never has to guess which
messages of a batch made it.

Confirms are pipelined: the whole batch is written, then the confirmations are awaited together.
Awaiting each confirm before sending the next caps throughput at one broker round trip (fsync of
a quorum queue included) per message (~800/s here instead of ~3 k/s, see DESIGN.md).

A window of messages is written on aiormq's channel as one write, its confirmations awaited as
aiormq's own futures, with no task per message (``_publish_window``): aio-pika's
``Exchange.publish`` marshals, locks, writes and drains each message on its own, in a task of its
own, most of the relay's CPU (docs/performance.md). While something wraps ``Exchange.publish`` (the
OpenTelemetry instrumentation: a span per publish, its trace headers injected into the message),
every message goes through it instead, as before.
"""

from __future__ import annotations

import asyncio
import enum
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import cast

import aiormq
import pamqp.frame
from aio_pika import Exchange
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractMessage,
    DeliveryMode,
    MessageInfo,
)
from aiormq.abc import ChannelFrame, DeliveredMessage
from pamqp.body import ContentBody
from pamqp.commands import Basic
from pamqp.header import ContentHeader

DEFAULT_PUBLISH_TIMEOUT_S = 10.0
DEFAULT_MAX_IN_FLIGHT = 1000
_METHODS_KEPT = 4096  # marshalled ``basic.publish`` frames kept, one a route (an office's queue)


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
    type: str | None = None
    """AMQP's ``type`` property: the message's kind (the AsyncAPI document's ``messageType``)."""


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
        self._methods: dict[tuple[int, str, str], bytes] = {}

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
        if _publishes_are_wrapped():
            return await self._publish_window_through_aio_pika(window, timestamp)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.publish_timeout
        try:
            async with asyncio.timeout_at(deadline):
                confirmations = await self._write(window, timestamp)
        except TimeoutError:
            return [self._timed_out(m.message_id) for m in window]
        except _CONNECTION_ERRORS as error:
            detail = f"{type(error).__name__}: {error}"
            return [PublishOutcome(m.message_id, Status.CONNECTION_ERROR, detail) for m in window]
        try:
            _, unconfirmed = await asyncio.wait(confirmations, timeout=max(0.0, deadline - loop.time()))
        finally:
            # Those still waiting at the deadline (or when this call is cancelled) are given up:
            # aiormq ignores their confirm if it comes later, as it does for a cancelled publish.
            for confirmation in confirmations:
                confirmation.cancel()
        return [
            self._timed_out(message.message_id)
            if confirmation in unconfirmed
            else _confirmed(message.message_id, confirmation)
            for message, confirmation in zip(window, confirmations, strict=True)
        ]

    async def _write(
        self, window: Sequence[OutgoingMessage], timestamp: datetime
    ) -> list[asyncio.Future[object]]:
        """Writes the window on aiormq's channel as one payload and returns a confirmation future a
        message, registered as ``Channel.basic_publish`` registers its own (a delivery tag each, in
        the order written; the message id, by which a returned message finds its publish)."""
        if self.channel.is_closed:
            raise aiormq.exceptions.ChannelInvalidStateError(f"{self.channel!r} closed")
        channel = cast(aiormq.Channel, await self.channel.get_underlay_channel())
        ids = [message.message_id or uuid.uuid4().hex for message in window]
        payload = self._marshal(channel, window, ids, timestamp)
        async with channel.lock:  # the window's tags and its write, in the same order
            first = channel.delivery_tag + 1
            confirmations: list[asyncio.Future[object]] = []
            for tag, message_id in enumerate(ids, first):
                confirmation = channel.create_future()
                channel.confirmations[tag] = confirmation
                channel.message_id_delivery_tag[message_id] = tag
                confirmations.append(confirmation)
            channel.delivery_tag += len(ids)
            drained = channel.create_future()
            try:
                await channel.write_queue.put(ChannelFrame(payload, should_close=False, drain_future=drained))
            except BaseException:
                # Not written: the broker never saw these tags, the next publish takes them.
                channel.delivery_tag = first - 1
                for tag, (message_id, confirmation) in enumerate(zip(ids, confirmations, strict=True), first):
                    channel.confirmations.pop(tag, None)
                    _forget(channel.message_id_delivery_tag, message_id, tag)
                    confirmation.cancel()
                raise
            for tag, (message_id, confirmation) in enumerate(zip(ids, confirmations, strict=True), first):
                confirmation.add_done_callback(
                    partial(_forget_when_done, channel.message_id_delivery_tag, message_id, tag)
                )
            try:
                await drained
            except BaseException:
                for confirmation in confirmations:
                    confirmation.cancel()
                raise
        return confirmations

    def _marshal(
        self,
        channel: aiormq.Channel,
        window: Sequence[OutgoingMessage],
        ids: Sequence[str],
        timestamp: datetime,
    ) -> bytes:
        """The frames of every message of the window, as ``Channel.basic_publish`` writes them: the
        method (marshalled once a route), the content header, the body in frames of at most
        ``frame_max``."""
        number, largest = channel.number, channel.max_content_size
        frames: list[bytes] = []
        for message, message_id in zip(window, ids, strict=True):
            route = (number, message.exchange, message.routing_key)
            method = self._methods.get(route)
            if method is None:
                if len(self._methods) >= _METHODS_KEPT:
                    self._methods.clear()
                method = pamqp.frame.marshal(
                    Basic.Publish(exchange=message.exchange, routing_key=message.routing_key, mandatory=True),
                    number,
                )
                self._methods[route] = method
            frames.append(method)
            properties = _properties(message, message_id, timestamp, self.user_id)
            body = message.body
            frames.append(pamqp.frame.marshal(ContentHeader(0, len(body), properties), number))
            frames.extend(
                pamqp.frame.marshal(ContentBody(body[start : start + largest]), number)
                for start in range(0, len(body), largest)
            )
        return b"".join(frames)

    async def _publish_window_through_aio_pika(
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
        return [
            self._timed_out(message.message_id) if task.cancelled() else task.result()
            for message, task in zip(window, tasks, strict=True)
        ]

    async def _publish_one(self, message: OutgoingMessage, timestamp: datetime) -> PublishOutcome:
        amqp_message = _Publishing(message, timestamp, self.user_id)
        try:
            exchange = self._exchanges.get(message.exchange) or await self._exchange(message.exchange)
            result = await exchange.publish(amqp_message, message.routing_key, mandatory=True)
        except TimeoutError:
            return self._timed_out(message.message_id)
        except (aiormq.exceptions.DeliveryError, *_CONNECTION_ERRORS) as error:
            return _failed(message.message_id, error)

        return _confirmation(message.message_id, result)

    def _timed_out(self, message_id: str) -> PublishOutcome:
        return PublishOutcome(message_id, Status.TIMEOUT, f"no confirmation within {self.publish_timeout} s")

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
        self._properties = _properties(message, message.message_id, timestamp, user_id)

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
            type=p.message_type or "",
            user_id=p.user_id,
        )

    @property
    def locked(self) -> bool:
        return True  # never changed once built

    def lock(self) -> None:
        pass

    def __iter__(self) -> Iterator[int]:
        return iter(self.body)


def _properties(
    message: OutgoingMessage, message_id: str, timestamp: datetime, user_id: str | None
) -> aiormq.spec.Basic.Properties:
    """Those ``aio_pika.Message`` would send for the same arguments (``test_publisher`` compares
    them)."""
    return aiormq.spec.Basic.Properties(
        content_type=message.content_type,
        headers=dict(message.headers),
        delivery_mode=DeliveryMode.PERSISTENT,
        priority=0,
        correlation_id=message.correlation_id or None,
        message_id=message_id or None,
        timestamp=timestamp,
        message_type=message.type or None,
        user_id=user_id or None,
    )


_CONNECTION_ERRORS = (
    aiormq.exceptions.AMQPError,
    aiormq.exceptions.ChannelInvalidStateError,
    ConnectionError,
)


def _publishes_are_wrapped() -> bool:
    """Whether something wraps ``Exchange.publish`` (``AioPikaInstrumentor``, with wrapt): its
    publishes then go through it, each in a span of its own with its trace headers injected."""
    return hasattr(Exchange.publish, "__wrapped__")


def _confirmed(message_id: str, confirmation: asyncio.Future[object]) -> PublishOutcome:
    """The outcome of a confirmation future done before the deadline: its ``basic.ack``, its
    return or its ``basic.nack``, or the channel's closing (aiormq fails every future it holds)."""
    if confirmation.cancelled():
        return PublishOutcome(
            message_id, Status.CONNECTION_ERROR, "the channel was closed before the confirm"
        )
    error = confirmation.exception()
    if error is None:
        return _confirmation(message_id, confirmation.result())
    return _failed(message_id, error)


def _failed(message_id: str, error: BaseException) -> PublishOutcome:
    """A publish that raised, or whose confirmation failed: returned (mandatory, no route), nacked,
    else the connection or channel lost."""
    if isinstance(error, aiormq.exceptions.PublishError):
        return PublishOutcome(message_id, Status.RETURNED, _returned_detail(error.message))
    if isinstance(error, aiormq.exceptions.DeliveryError):
        return PublishOutcome(message_id, Status.NACKED, str(error))
    return PublishOutcome(message_id, Status.CONNECTION_ERROR, f"{type(error).__name__}: {error}")


def _confirmation(message_id: str, result: object) -> PublishOutcome:
    if isinstance(result, Basic.Ack):
        return PublishOutcome(message_id, Status.OK)
    # With on_return_raises=False aiormq hands back the returned message instead of raising.
    if isinstance(result, DeliveredMessage):
        return PublishOutcome(message_id, Status.RETURNED, _returned_detail(result))
    return PublishOutcome(message_id, Status.NACKED, f"unexpected confirmation {result!r}")


def _forget(delivery_tags: dict[str, int], message_id: str, tag: int) -> None:
    """The message id no longer leads to ``tag`` (as ``Channel.basic_publish`` forgets its own)."""
    if delivery_tags.get(message_id) == tag:
        del delivery_tags[message_id]


def _forget_when_done(delivery_tags: dict[str, int], message_id: str, tag: int, _: object) -> None:
    _forget(delivery_tags, message_id, tag)


def _returned_detail(message: DeliveredMessage | None) -> str:
    if message is None or not isinstance(message.delivery, Basic.Return):
        return "returned by the broker"
    frame = message.delivery
    return f"{frame.reply_code} {frame.reply_text}: {frame.exchange!r} -> {frame.routing_key!r}"
