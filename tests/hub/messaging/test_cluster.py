"""A three-node RabbitMQ cluster of this test's own (never the machine's shared broker): the relay
publishes outbox events to an office's quorum queue while one node, the queue's leader, is killed
with ``kill -9`` and restarted, again and again. Nothing is lost (every event reaches the office
under its outbox id), nothing is applied twice (copies published again after a lost confirm carry
the same id, so the office's inbox keyed by message id keeps one), and every outbox entry ends sent.

The chaos size runs in CI at ``HUB_CHAOS_EVENTS`` (default 1,500) events and ``HUB_CHAOS_KILLS``
(default 5) kills; the issue's full size: ``HUB_CHAOS_EVENTS=10000``. The counts are printed."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from adapters.amqp.connection import connect
from hub.broker import Broker
from hub.database import create_engine, session_factory
from hub.messaging.amqp import AmqpTransport
from hub.messaging.models import OutboxEntry
from hub.messaging.relay import Relay
from tests.conftest import eventually, postgres_database
from tests.hub.messaging.outbox_traffic import OfficeInbox, office_with_events
from tests.rabbitmq_node import RabbitNode, private_rabbitmq_cluster

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]
EVENTS = int(os.environ.get("HUB_CHAOS_EVENTS", "1500"))
KILLS = int(os.environ.get("HUB_CHAOS_KILLS", "5"))


@pytest.fixture
async def pg_sessions() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """PostgreSQL, as production runs a cluster with (one run: the cluster is the subject here), in a
    database of this test's own: the relay sends every pending row, and only this test's."""
    async with postgres_database() as url:
        engine = create_engine(url)
        yield session_factory(engine)
        await engine.dispose()


async def _declare_with_leader_on(node: RabbitNode, code: str) -> None:
    """Declares the topology through ``node``: a quorum queue's leader is placed on the node its
    declaring client is connected to, so the kills below hit the leader, not only a follower."""
    connection = await connect(node.url, name="declare")
    async with connection:
        await topology.declare_topology(await connection.channel(), [code])


@pytest.mark.timeout(900)  # three nodes to start, five kills and restarts
async def test_killing_the_queue_leader_of_a_three_node_cluster_loses_and_doubles_nothing(
    pg_sessions: async_sessionmaker[AsyncSession], counts: Callable[[str], None]
) -> None:
    sessions = pg_sessions
    with private_rabbitmq_cluster(3) as nodes:
        hub_node, office_node, leader = nodes
        code = "CJ" + secrets.token_hex(4).upper()
        await _declare_with_leader_on(leader, code)
        ids = await office_with_events(sessions, code, EVENTS)

        broker = Broker(hub_node.url, [code])
        await broker.start()
        async with asyncio.timeout(60):
            await broker.ready()

        inbox = OfficeInbox()
        await inbox.start(office_node.url, code)
        seen = inbox.seen

        stop = asyncio.Event()
        relay = Relay(sessions, broker=AmqpTransport(broker), batch_size=100, idle_sleep_s=0.05)
        running = asyncio.create_task(relay.run_forever(stop))
        try:
            for kill in range(1, KILLS + 1):
                await eventually(lambda k=kill: len(seen) >= EVENTS * k // (KILLS + 1), within=120)  # type: ignore[misc]
                await asyncio.to_thread(leader.kill)
                await asyncio.sleep(1)  # traffic goes on with two nodes: a new leader is elected
                await asyncio.to_thread(leader.start)
            await eventually(lambda: len(seen) == EVENTS, within=180)
        finally:
            stop.set()
            await running
            await inbox.close()
            await broker.stop()

        async with sessions() as session:
            unsent = await session.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.id.in_(ids), OutboxEntry.status != "sent")
            )
        lost = len({str(i) for i in ids} - seen)
        counts(
            f"\ncluster chaos: {KILLS} kill -9 of the queue leader; sent {EVENTS}, received {len(seen)} "
            f"distinct, lost {lost}, duplicated deliveries {inbox.deliveries - len(seen)} "
            "(recognised by id), "
            f"outbox entries not marked sent {unsent}"
        )
        assert seen == {str(i) for i in ids}, "every event arrived, under its outbox id"
        assert unsent == 0
