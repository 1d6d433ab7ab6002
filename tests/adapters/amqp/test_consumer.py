"""The consumer: ack after the handler returns, requeue on failure, poison messages to hub.dead."""

from __future__ import annotations

import asyncio

import pytest
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from adapters.amqp.consumer import Delivery, consume
from adapters.amqp.publisher import Publisher
from adapters.amqp.topology import DEAD_LETTER_QUEUE, DEFAULT_DELIVERY_LIMIT
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
