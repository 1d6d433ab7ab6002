"""A broker restart or crash: the robust connection comes back, and confirmed messages survive.

These tests stop and kill a broker, so they run on a private node (tests/rabbitmq_node.py), never
on the machine's shared one. One node serves the whole module (a start costs several seconds).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aio_pika.abc import AbstractRobustConnection

from adapters.amqp.connection import connect
from adapters.amqp.consumer import Delivery, consume
from adapters.amqp.publisher import Publisher, PublishOutcome
from adapters.amqp.topology import INBOUND_EXCHANGE, INBOUND_QUEUE, INBOUND_ROUTING_KEY, declare_topology
from tests.adapters.amqp.conftest import eventually, mandate
from tests.rabbitmq_node import RabbitNode, private_node_fixture

pytestmark = pytest.mark.rabbitmq

node = private_node_fixture(scope="module")
RESUME_WITHIN_S = 30.0


@pytest.fixture
async def connection(node: RabbitNode) -> AsyncIterator[AbstractRobustConnection]:
    """A connection to a virtual host of the test's own on the private node."""
    vhost = f"hubt_{secrets.token_hex(4)}"
    node.ctl("add_vhost", vhost)
    node.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    connection = await connect(f"{node.url}{vhost}", name="hub-tests-restart", reconnect_interval=0.5)
    try:
        yield connection
    finally:
        await connection.close()
        node.ctl("delete_vhost", vhost)


async def _publish_until_ok(publisher: Publisher, prefix: str) -> PublishOutcome:
    """Retries (new id each time) until the broker confirms; a failed try was never 'sent'."""
    async with asyncio.timeout(RESUME_WITHIN_S):
        while True:
            outcome = await publisher.publish(mandate(f"{prefix}-{secrets.token_hex(4)}"))
            if outcome.ok:
                return outcome
            await asyncio.sleep(0.2)


async def _restart_case(node: RabbitNode, connection: AbstractRobustConnection, *, crash: bool) -> None:
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    await declare_topology(channel, ["CJ75001"])
    publisher = Publisher(channel, publish_timeout=5)
    received: list[Delivery] = []

    async def handler(delivery: Delivery) -> None:
        received.append(delivery)

    # A consumer running across the restart: the robust channel must restore it.
    consumer = await consume(await connection.channel(), "office.CJ75001", handler)
    # Confirmed act reports waiting in a durable quorum queue nobody consumes yet.
    inbound = [
        replace(mandate(f"report-{i}"), exchange=INBOUND_EXCHANGE, routing_key=INBOUND_ROUTING_KEY)
        for i in range(20)
    ]
    assert all(o.ok for o in await publisher.publish_many(inbound))

    if crash:
        await asyncio.to_thread(node.kill)
    else:
        await asyncio.to_thread(node.stop)
    down = await publisher.publish(mandate("while-down"))
    assert not down.ok  # never "sent" while the broker is away
    await asyncio.to_thread(node.start)

    after = await _publish_until_ok(publisher, "after-restart")
    await eventually(lambda: after.message_id in {d.message_id for d in received}, within=RESUME_WITHIN_S)

    reports: list[Delivery] = []

    async def keep(delivery: Delivery) -> None:
        reports.append(delivery)

    inbound_consumer = await consume(await connection.channel(), INBOUND_QUEUE, keep)
    await eventually(lambda: len(reports) == len(inbound), within=RESUME_WITHIN_S)
    assert {d.message_id for d in reports} == {m.message_id for m in inbound}
    await inbound_consumer.stop()
    await consumer.stop()


async def test_after_a_clean_restart_the_same_connection_publishes_and_consumes_again(
    node: RabbitNode, connection: AbstractRobustConnection
) -> None:
    await _restart_case(node, connection, crash=False)


@pytest.mark.skipif(
    os.environ.get("HUB_TEST_BROKER_CRASH") != "1",
    reason=(
        "RabbitMQ 3.10.8 on this machine: a single-node quorum queue written to just before a kill -9 "
        "comes back without a leader (publish and consume to it hang forever, even on a new "
        "connection; 'leader call - leader not known' in the node log). Killing 8 s after the last "
        "write recovered in our trial. Run with HUB_TEST_BROKER_CRASH=1 to check a newer broker."
    ),
)
async def test_confirmed_messages_survive_a_kill_9_of_the_broker(
    node: RabbitNode, connection: AbstractRobustConnection
) -> None:
    await _restart_case(node, connection, crash=True)
