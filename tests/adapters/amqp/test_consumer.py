"""The consumer: ack after the handler returns, requeue on failure, poison messages to hub.dead."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from adapters.amqp.consumer import Delivery, Limits, consume
from adapters.amqp.publisher import Publisher
from adapters.amqp.topology import (
    DEAD_LETTER_QUEUE,
    DEFAULT_DELIVERY_LIMIT,
    INBOUND_EXCHANGE,
    INBOUND_QUEUE,
    INBOUND_ROUTING_KEY,
)
from tests.adapters.amqp.conftest import eventually, mandate, message_count

pytestmark = pytest.mark.rabbitmq

QUEUE = "office.CJ75001"


async def _publish(channel: AbstractChannel, *ids: str) -> None:
    outcomes = await Publisher(channel).publish_many([mandate(i) for i in ids])
    assert all(o.ok for o in outcomes), outcomes


async def test_a_handled_message_is_acked_and_leaves_the_queue(
    connection: AbstractRobustConnection, channel: AbstractChannel
) -> None:
    handled: list[Delivery] = []

    async def handler(delivery: Delivery) -> None:
        handled.append(delivery)

    consumer = await consume(await connection.channel(), QUEUE, handler)
    await _publish(channel, "m-1", "m-2")
    await eventually(lambda: len(handled) == 2)
    await consumer.stop()
    await consumer.queue.channel.close()  # an unacked message would now go back to the queue

    assert await message_count(channel, QUEUE) == 0
    first = next(d for d in handled if d.message_id == "m-1")
    assert (first.queue, first.exchange, first.routing_key) == (QUEUE, "hub.outbound", "office.CJ75001")
    assert (first.body, first.content_type, first.correlation_id) == (
        b"<mandate/>",
        "application/xml",
        "case-m-1",
    )
    assert first.headers["x-hub-kind"] == "mandate"
    assert (first.redelivered, first.delivery_count) == (False, 0)


async def test_a_failing_handler_gets_the_message_again_with_its_delivery_count(
    connection: AbstractRobustConnection, channel: AbstractChannel
) -> None:
    seen: list[Delivery] = []

    async def fails_once(delivery: Delivery) -> None:
        seen.append(delivery)
        if len(seen) == 1:
            raise RuntimeError("database unavailable")

    consumer = await consume(await connection.channel(), QUEUE, fails_once)
    await _publish(channel, "retry-me")
    await eventually(lambda: len(seen) == 2 and consumer.in_flight == 0)
    await consumer.stop()

    assert [(d.message_id, d.redelivered, d.delivery_count) for d in seen] == [
        ("retry-me", False, 0),
        ("retry-me", True, 1),
    ]
    assert await message_count(channel, QUEUE) == 0


async def test_a_poison_message_ends_in_hub_dead_while_the_others_keep_flowing(
    connection: AbstractRobustConnection, channel: AbstractChannel
) -> None:
    attempts: list[int] = []
    handled: set[str] = set()

    async def handler(delivery: Delivery) -> None:
        if delivery.message_id == "poison":
            attempts.append(delivery.delivery_count)
            raise ValueError("cannot decode this mandate")
        handled.add(delivery.message_id or "")

    good = [f"good-{i}" for i in range(50)]
    consumer = await consume(await connection.channel(), QUEUE, handler, prefetch=8)
    await _publish(channel, good[0], "poison", *good[1:])
    await eventually(lambda: handled == set(good))
    await eventually(lambda: len(attempts) > DEFAULT_DELIVERY_LIMIT)
    await consumer.stop()

    dead = await channel.declare_queue(DEAD_LETTER_QUEUE, passive=True)
    got: list[AbstractIncomingMessage] = []

    async def keep(message: AbstractIncomingMessage) -> None:
        got.append(message)
        await message.ack()

    await dead.consume(keep)
    await eventually(lambda: len(got) == 1)
    [message] = got
    assert message.message_id == "poison"
    assert message.body == b"<mandate/>"
    deaths = message.headers["x-death"]
    assert isinstance(deaths, list)
    [death] = deaths
    assert isinstance(death, dict)
    assert death["queue"] == QUEUE
    assert death["reason"] == "delivery_limit"
    assert death["exchange"] == "hub.outbound"
    # Every delivery up to the limit reached the handler, none after.
    assert attempts == list(range(DEFAULT_DELIVERY_LIMIT + 1))
    assert await message_count(channel, QUEUE) == 0


async def test_stop_waits_for_running_handlers_and_takes_no_new_message(
    connection: AbstractRobustConnection, channel: AbstractChannel
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    handled: list[str] = []

    async def slow(delivery: Delivery) -> None:
        started.set()
        await release.wait()
        handled.append(delivery.message_id or "")

    consumer = await consume(await connection.channel(), QUEUE, slow, prefetch=1)
    await _publish(channel, "in-flight")
    await started.wait()
    stopping = asyncio.create_task(consumer.stop())
    done, _ = await asyncio.wait({stopping}, timeout=0.3)
    assert not done  # stop() waits for the handler, which has not committed yet
    release.set()
    await stopping

    assert handled == ["in-flight"]
    await _publish(channel, "after-stop")
    assert await message_count(channel, QUEUE) == 1  # published after stop: left in the queue
    assert handled == ["in-flight"]


async def _publish_inbound(channel: AbstractChannel, message_id: str) -> None:
    exchange = await channel.get_exchange(INBOUND_EXCHANGE, ensure=False)
    await exchange.publish(
        aio_pika.Message(
            b"<actReport/>", message_id=message_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
        ),
        routing_key=INBOUND_ROUTING_KEY,
    )


async def _die_holding(connection: AbstractRobustConnection, limits: Limits) -> list[Delivery]:
    """A consumer of hub.inbound whose handler never ends, gone (its channel closed) once it holds
    the message: what the broker sees of a worker killed mid-message. Returns what it was given."""
    got: list[Delivery] = []
    hold = asyncio.Event()

    async def handler(delivery: Delivery) -> None:
        got.append(delivery)
        await hold.wait()

    consumer = await consume(await connection.channel(), INBOUND_QUEUE, handler, limits=limits)
    await eventually(lambda: len(got) == 1)
    await consumer.queue.channel.close()
    return got


async def _dead_letters(channel: AbstractChannel) -> list[AbstractIncomingMessage]:
    dead = await channel.declare_queue(DEAD_LETTER_QUEUE, passive=True)
    letters: list[AbstractIncomingMessage] = []
    while (message := await dead.get(fail=False)) is not None:
        letters.append(message)
        await message.ack()
    return letters


async def _await_dead_letters(channel: AbstractChannel) -> list[AbstractIncomingMessage]:
    async with asyncio.timeout(30):
        while not (letters := await _dead_letters(channel)):  # noqa: ASYNC110 - polls the broker
            await asyncio.sleep(0.1)
    return letters


async def test_a_message_outlives_more_consumer_deaths_than_the_office_queues_delivery_limit(
    connection: AbstractRobustConnection, channel: AbstractChannel
) -> None:
    """hub.inbound has no broker limit (ADR 0021): a worker crash-looping with a message in hand
    does not make the queue dead-letter it; the next healthy worker handles it, once."""
    limits = Limits(retries=DEFAULT_DELIVERY_LIMIT, deliveries=4 * DEFAULT_DELIVERY_LIMIT)
    await _publish_inbound(channel, "r-1")
    deaths = DEFAULT_DELIVERY_LIMIT + 3
    counts = [(await _die_holding(connection, limits))[0].delivery_count for _ in range(deaths)]
    assert counts == list(range(deaths))  # each death counted by the broker

    handled: list[Delivery] = []

    async def handler(delivery: Delivery) -> None:
        handled.append(delivery)

    consumer = await consume(await connection.channel(), INBOUND_QUEUE, handler, limits=limits)
    await eventually(lambda: len(handled) == 1 and consumer.in_flight == 0)
    await consumer.stop()
    assert [(d.message_id, d.delivery_count) for d in handled] == [("r-1", deaths)]
    assert await message_count(channel, INBOUND_QUEUE) == 0
    assert await _dead_letters(channel) == []


async def test_a_message_its_consumers_keep_dying_with_is_dead_lettered_unhandled(
    connection: AbstractRobustConnection, channel: AbstractChannel
) -> None:
    limits = Limits(retries=1, deliveries=3)
    await _publish_inbound(channel, "kills-workers")
    for _ in range(limits.deliveries):
        await _die_holding(connection, limits)

    handled: list[Delivery] = []

    async def handler(delivery: Delivery) -> None:
        handled.append(delivery)

    consumer = await consume(await connection.channel(), INBOUND_QUEUE, handler, limits=limits)
    letters = await _await_dead_letters(channel)
    await consumer.stop()
    assert handled == []  # never handed to the handler again
    [letter] = letters
    assert letter.message_id == "kills-workers"
    [death] = letter.headers["x-death"]  # type: ignore[misc]
    assert (death["queue"], death["reason"]) == (INBOUND_QUEUE, "rejected")  # type: ignore[index]


async def test_the_consumer_dead_letters_a_message_whose_handler_fails_past_its_retries(
    connection: AbstractRobustConnection, channel: AbstractChannel
) -> None:
    attempts: list[int] = []

    async def fails(delivery: Delivery) -> None:
        attempts.append(delivery.delivery_count)
        raise ValueError("cannot decode this act report")

    consumer = await consume(
        await connection.channel(), INBOUND_QUEUE, fails, limits=Limits(retries=2, deliveries=10)
    )
    await _publish_inbound(channel, "poison")
    letters = await _await_dead_letters(channel)
    await consumer.stop()
    assert attempts == [0, 1, 2]  # like a broker limit of 2: the handler sees it retries + 1 times
    [death] = letters[0].headers["x-death"]  # type: ignore[misc]
    assert (death["queue"], death["reason"]) == (INBOUND_QUEUE, "rejected")  # type: ignore[index]
    assert await message_count(channel, INBOUND_QUEUE) == 0


@pytest.mark.parametrize(("retries", "deliveries"), [(-1, 5), (6, 5)])
def test_limits_that_cannot_hold_are_refused(retries: int, deliveries: int) -> None:
    with pytest.raises(ValueError, match="retries"):
        Limits(retries=retries, deliveries=deliveries)
