"""Broker loss on a private RabbitMQ node of this test's own (never the machine's shared one):
2,000 outbox events while the broker is stopped and started twice; all arrive, none is lost, and
copies published twice are recognised by their message id."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.broker import Broker
from hub.messaging.amqp import AmqpTransport
from hub.messaging.models import OutboxEntry
from hub.messaging.relay import Relay
from tests.conftest import eventually
from tests.hub.messaging.outbox_traffic import OfficeInbox, office_with_events
from tests.rabbitmq_node import RabbitNode, private_node_fixture

pytestmark = pytest.mark.rabbitmq
node = private_node_fixture()
EVENTS = 2000


async def test_two_broker_restarts_lose_nothing(
    node: RabbitNode, sessions: async_sessionmaker[AsyncSession]
) -> None:
    code = "CJ" + secrets.token_hex(4).upper()
    ids = await office_with_events(sessions, code, EVENTS)

    broker = Broker(node.url, [code])
    await broker.start()
    async with asyncio.timeout(30):
        await broker.ready()

    # The office's consumer: the inbox of an office keyed by message id, as the spec asks of it.
    inbox = OfficeInbox()
    await inbox.start(node.url, code)
    seen = inbox.seen

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
        await inbox.close()
        await broker.stop()

    assert seen == {str(i) for i in ids}, "every event arrived, under its outbox id"
    assert inbox.deliveries >= EVENTS  # copies, if any, were recognised by their id above
    async with sessions() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.id.in_(ids), OutboxEntry.status != "sent")
        )
    assert pending == 0
