"""Broker loss on a private RabbitMQ node of this test's own (never the machine's shared one):
2,000 outbox events while the broker is stopped and started twice; all arrive, none is lost, and
copies published twice are recognised by their message id."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from adapters.amqp.connection import connect
from hub.broker import Broker
from hub.database import unit_of_work
from hub.messaging import service
from hub.messaging.amqp import AmqpTransport
from hub.messaging.models import OutboxEntry
from hub.messaging.relay import Relay
from hub.messaging.service import Envelope
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel
from tests.conftest import eventually
from tests.rabbitmq_node import RabbitNode, private_node_fixture

pytestmark = pytest.mark.rabbitmq
node = private_node_fixture()
EVENTS = 2000


async def test_two_broker_restarts_lose_nothing(
    node: RabbitNode, sessions: async_sessionmaker[AsyncSession]
) -> None:
    code = "CJ" + secrets.token_hex(4).upper()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="Étude", delivery_channel=DeliveryChannel.AMQP)
        entries = []
        for n in range(EVENTS):
            envelope = Envelope(f"EV-{code}-{n}", "mandate", "AGENCY", code)
            entry = await service.enqueue_outbound(
                session, envelope, b"<m/>", "application/xml",
                exchange=topology.OUTBOUND_EXCHANGE, routing_key=topology.office_routing_key(code),
            )  # fmt: skip
            entries.append(entry)
    ids = [entry.id for entry in entries]  # given when written, at the commit

    broker = Broker(node.url, [code])
    await broker.start()
    async with asyncio.timeout(30):
        await broker.ready()

    # The office's consumer: the inbox of an office keyed by message id, as the spec asks of it.
    seen: set[str] = set()
    deliveries = 0
    office = await connect(node.url, name="office")
    channel = await office.channel()
    await channel.set_qos(prefetch_count=200)

    async def keep(message: AbstractIncomingMessage) -> None:
        nonlocal deliveries
        deliveries += 1
        seen.add(str(message.message_id))
        await message.ack()

    await (await channel.declare_queue(topology.office_queue(code), passive=True)).consume(keep)

    stop = asyncio.Event()
    relay = Relay(sessions, broker=AmqpTransport(broker), batch_size=100, idle_sleep_s=0.05)
    running = asyncio.create_task(relay.run_forever(stop))
    try:
        for threshold in (EVENTS // 5, EVENTS // 2):
            await eventually(lambda t=threshold: len(seen) >= t, within=60)  # type: ignore[misc]
            await asyncio.to_thread(node.stop)
            async with asyncio.timeout(15):  # what /readyz reports meanwhile
                while (down := await broker.health()) is None:  # noqa: ASYNC110 - polls the connection
                    await asyncio.sleep(0.1)
            assert "broker unreachable" in down
            await asyncio.to_thread(node.start)
        # Publishing and consuming resume by themselves (the robust connections reconnect).
        await eventually(lambda: len(seen) == EVENTS, within=120)
        # The relay's publishing connection reports itself back once its reconnect callback ran,
        # which may come a moment after the office's consumer has every message.
        async with asyncio.timeout(30):
            while await broker.health() is not None:  # noqa: ASYNC110 - polls the connection
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await running
        await office.close()
        await broker.stop()

    assert seen == {str(i) for i in ids}, "every event arrived, under its outbox id"
    assert deliveries >= EVENTS  # copies, if any, were recognised by their id above
    async with sessions() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.id.in_(ids), OutboxEntry.status != "sent")
        )
    assert pending == 0
