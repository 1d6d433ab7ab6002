"""The publisher: confirmed, persistent, mandatory, pipelined, one outcome per message."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection, DeliveryMode
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from adapters.amqp.publisher import OutgoingMessage, Publisher, Status, _Publishing
from tests.adapters.amqp.conftest import eventually, mandate, message_count

pytestmark = pytest.mark.rabbitmq


async def _get_all(channel: AbstractChannel, queue_name: str, count: int) -> list[AbstractIncomingMessage]:
    queue = await channel.declare_queue(queue_name, passive=True)
    received: list[AbstractIncomingMessage] = []

    async def keep(message: AbstractIncomingMessage) -> None:
        received.append(message)
        await message.ack()

    tag = await queue.consume(keep)
    await eventually(lambda: len(received) >= count)
    await queue.cancel(tag)
    return received


async def test_published_messages_are_persistent_and_carry_the_outbox_id(channel: AbstractChannel) -> None:
    publisher = Publisher(channel)
    outcomes = await publisher.publish_many(
        [mandate("outbox-1", body=b"<a/>"), mandate("outbox-2", body=b"<b/>")]
    )

    assert [(o.message_id, o.status) for o in outcomes] == [("outbox-1", Status.OK), ("outbox-2", Status.OK)]
    assert all(o.ok for o in outcomes)
    received = {m.message_id: m for m in await _get_all(channel, "office.CJ75001", 2)}
    first = received["outbox-1"]
    assert first.delivery_mode == DeliveryMode.PERSISTENT
    assert first.body == b"<a/>"
    assert first.content_type == "application/xml"
    assert first.correlation_id == "case-outbox-1"
    assert first.headers == {"x-hub-kind": "mandate"}
    assert first.timestamp is not None
    assert received["outbox-2"].body == b"<b/>"


@pytest.mark.parametrize(
    ("correlation_id", "user_id"), [("case-1", "guest"), (None, None), ("", "")], ids=["set", "none", "empty"]
)
def test_a_message_is_published_with_the_properties_aio_pika_would_send(
    correlation_id: str | None, user_id: str | None
) -> None:
    message = OutgoingMessage(
        "outbox-9", "hub.outbound", "office.CJ75001", b"<m/>", "application/xml", {"x": "1"}
    )
    message = dataclasses.replace(message, correlation_id=correlation_id, type=correlation_id and "mandate")
    timestamp = datetime.now(UTC)

    publishing = _Publishing(message, timestamp, user_id)

    assert publishing.body == message.body
    assert (
        publishing.properties
        == aio_pika.Message(
            message.body,
            content_type=message.content_type,
            headers=dict(message.headers),
            message_id=message.message_id,
            correlation_id=correlation_id,
            delivery_mode=DeliveryMode.PERSISTENT,
            timestamp=timestamp,
            type=message.type,
            user_id=user_id,
        ).properties
    )
    # The instrumentation injects its headers into the properties it reads: they are published.
    assert publishing.properties.headers is publishing.properties.headers
    assert publishing.properties.headers is not message.headers


async def test_user_id_is_sent_and_validated_by_the_broker(channel: AbstractChannel) -> None:
    outcome = await Publisher(channel, user_id="guest").publish(mandate("with-user"))

    assert outcome.status is Status.OK
    [message] = await _get_all(channel, "office.CJ75001", 1)
    assert message.user_id == "guest"


async def test_an_unroutable_message_is_returned_not_ok(channel: AbstractChannel) -> None:
    """An office without a queue (not declared yet, or a typo): the message must not count as sent."""
    publisher = Publisher(channel)
    outcomes = await publisher.publish_many(
        [mandate("to-known"), mandate("to-unknown", office="CJ99999"), mandate("to-known-too")]
    )

    assert [o.status for o in outcomes] == [Status.OK, Status.RETURNED, Status.OK]
    assert "NO_ROUTE" in outcomes[1].detail
    # The channel is still usable after a return.
    assert (await publisher.publish(mandate("after-return"))).ok


async def test_a_batch_of_two_thousand_is_pipelined_and_all_confirmed(channel: AbstractChannel) -> None:
    publisher = Publisher(channel, max_in_flight=500)
    messages = [mandate(f"bulk-{i}", body=b"x" * 200) for i in range(2000)]

    outcomes = await publisher.publish_many(messages)

    assert [o.message_id for o in outcomes] == [m.message_id for m in messages]  # same order
    assert {o.status for o in outcomes} == {Status.OK}
    assert await message_count(channel, "office.CJ75001") == 2000


async def test_returned_messages_among_confirmed_ones_are_each_reported(channel: AbstractChannel) -> None:
    """A window written as one: each return and each ``basic.ack`` finds its own message."""
    underlay = await channel.get_underlay_channel()
    messages = [mandate(f"mix-{i}", office="CJ99999" if i % 7 == 3 else "CJ75001") for i in range(60)]

    outcomes = await Publisher(channel).publish_many(messages)

    expected = [Status.RETURNED if i % 7 == 3 else Status.OK for i in range(60)]
    assert [o.status for o in outcomes] == expected
    assert await message_count(channel, "office.CJ75001") == expected.count(Status.OK)
    assert not underlay.message_id_delivery_tag  # aiormq forgets each message once answered


async def test_only_its_own_confirm_makes_a_message_ok(
    channel: AbstractChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message the broker never acks is a timeout, even among acked ones (an ack with
    ``multiple`` covers every tag up to its own; aiormq hands each tag its confirm)."""
    assert (await Publisher(channel).publish(mandate("before"))).ok  # the tags start past 1
    underlay = await channel.get_underlay_channel()
    confirm = underlay._confirm_delivery
    withheld = {underlay.delivery_tag + 2, underlay.delivery_tag + 4}

    def confirm_all_but_withheld(delivery_tag: int | None, frame: Any) -> None:
        if delivery_tag not in withheld:
            confirm(delivery_tag, frame)

    monkeypatch.setattr(underlay, "_confirm_delivery", confirm_all_but_withheld)

    outcomes = await Publisher(channel, publish_timeout=1.0).publish_many(
        [mandate(f"w-{i}") for i in range(5)]
    )

    assert [o.status for o in outcomes] == [Status.OK, Status.TIMEOUT, Status.OK, Status.TIMEOUT, Status.OK]


async def test_a_traced_publish_goes_through_aio_pika_with_its_trace_headers(
    channel: AbstractChannel,
) -> None:
    """With aio-pika instrumented (``hub.observability.tracing``), each message is published by
    ``Exchange.publish``: a producer span of its own, its ``traceparent`` in the message's headers."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = AioPikaInstrumentor()
    assert not instrumentor.is_instrumented_by_opentelemetry
    instrumentor.instrument(tracer_provider=provider)
    try:
        outcomes = await Publisher(channel).publish_many([mandate("traced-1"), mandate("traced-2")])
    finally:
        instrumentor.uninstrument()
    assert (await Publisher(channel).publish(mandate("untraced"))).ok

    assert [o.status for o in outcomes] == [Status.OK, Status.OK]
    spans = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.PRODUCER]
    assert sorted(s.attributes["messaging.message.id"] for s in spans if s.attributes) == [
        "traced-1",
        "traced-2",
    ]
    received = {m.message_id: m for m in await _get_all(channel, "office.CJ75001", 3)}
    for message_id in ("traced-1", "traced-2"):
        [span] = [s for s in spans if s.attributes and s.attributes["messaging.message.id"] == message_id]
        headers = received[message_id].headers
        assert headers["x-hub-kind"] == "mandate"
        _, trace_id, span_id, _ = str(headers["traceparent"]).split("-")
        assert (trace_id, span_id) == (f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}")
    assert received["untraced"].headers == {"x-hub-kind": "mandate"}


async def test_a_full_queue_nacks_and_the_outcome_says_so(channel: AbstractChannel) -> None:
    """``x-overflow=reject-publish``: the broker refuses (nacks) rather than dropping old messages."""
    tiny = await channel.declare_queue(
        "office.TINY",
        durable=True,
        arguments={"x-queue-type": "quorum", "x-max-length": 1, "x-overflow": "reject-publish"},
    )
    await tiny.bind("hub.outbound", "office.TINY")
    publisher = Publisher(channel)

    # A quorum queue applies its limit with a short delay (the enqueuer learns it is over the
    # limit after the fact): the first messages past the limit may still be accepted.
    statuses = [(await publisher.publish(mandate(f"m-{i}", office="TINY"))).status for i in range(20)]

    assert statuses[0] is Status.OK
    assert Status.NACKED in statuses
    assert set(statuses) == {Status.OK, Status.NACKED}


async def test_no_confirmation_in_time_is_a_timeout_not_ok(channel: AbstractChannel) -> None:
    outcome = await Publisher(channel, publish_timeout=1e-9).publish(mandate("too-slow"))

    assert outcome.status is Status.TIMEOUT


async def test_every_message_unconfirmed_at_the_deadline_is_a_timeout(channel: AbstractChannel) -> None:
    publisher = Publisher(channel, publish_timeout=1e-9, max_in_flight=2)

    outcomes = await publisher.publish_many([mandate(f"late-{i}") for i in range(5)])

    assert [o.message_id for o in outcomes] == [f"late-{i}" for i in range(5)]
    assert {o.status for o in outcomes} == {Status.TIMEOUT}
    assert (await Publisher(channel).publish(mandate("in-time"))).ok  # the channel still works


async def test_a_cancelled_batch_leaves_no_publish_running(channel: AbstractChannel) -> None:
    underlay = await channel.get_underlay_channel()
    before = asyncio.all_tasks()
    call = asyncio.ensure_future(Publisher(channel).publish_many([mandate(f"c-{i}") for i in range(50)]))
    await asyncio.sleep(0)  # the call runs up to the write of its window
    waiting = [c for c in underlay.confirmations.values() if isinstance(c, asyncio.Future) and not c.done()]
    assert len(waiting) == 50  # its publishes are under way
    call.cancel()

    with pytest.raises(asyncio.CancelledError):
        await call
    assert all(confirmation.cancelled() for confirmation in waiting)
    assert not [task for task in asyncio.all_tasks() - before if not task.done()]
    assert (await Publisher(channel).publish(mandate("after-cancel"))).ok  # the channel still works


async def test_a_closed_channel_is_a_connection_error_per_message(
    connection: AbstractRobustConnection,
) -> None:
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    publisher = Publisher(channel)
    await channel.close()

    outcomes = await publisher.publish_many([mandate("a"), mandate("b")])

    assert [o.status for o in outcomes] == [Status.CONNECTION_ERROR, Status.CONNECTION_ERROR]


async def test_a_missing_exchange_fails_the_message_without_raising(channel: AbstractChannel) -> None:
    message = OutgoingMessage("nowhere", "no.such.exchange", "x", b"", "text/plain", {})

    outcome = await Publisher(channel).publish(message)

    assert not outcome.ok
    assert outcome.status is Status.CONNECTION_ERROR
    assert "NOT_FOUND" in outcome.detail


def test_a_channel_without_confirms_is_refused() -> None:
    class NoConfirms:
        publisher_confirms = False

    with pytest.raises(ValueError, match="publisher_confirms"):
        Publisher(NoConfirms())  # type: ignore[arg-type]


async def test_duplicate_ids_in_one_batch_are_refused(channel: AbstractChannel) -> None:
    with pytest.raises(ValueError, match="unique"):
        await Publisher(channel).publish_many([mandate("same"), mandate("same")])


async def test_open_makes_a_confirming_channel(
    connection: AbstractRobustConnection, channel: AbstractChannel
) -> None:
    publisher = await Publisher.open(connection)

    assert publisher.channel.publisher_confirms
    assert (await publisher.publish(mandate("via-open"))).ok
    assert (await publisher.publish(mandate("unroutable", office="CJ99999"))).status is Status.RETURNED
