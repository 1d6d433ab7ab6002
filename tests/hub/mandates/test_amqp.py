"""End to end on PostgreSQL and RabbitMQ: a flagged mandate is held and never published; once a
person approves it, it reaches ``office.<code>`` exactly once, carrying its approval id."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from adapters.amqp.connection import connect
from hub.broker import Broker
from hub.database import create_engine, session_factory, unit_of_work
from hub.mandates import service
from hub.mandates.models import MandateKind, MandateStatus
from hub.mandates.service import MandateIn
from hub.messaging.amqp import AmqpTransport
from hub.messaging.inbound import decode
from hub.messaging.relay import Relay
from hub.offices.models import DeliveryChannel
from schemas import v1
from tests.conftest import postgres_database
from tests.hub.mandates.factories import POOR, a_case, an_office, new_code

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture
async def pg_sessions() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A database of this test's own: the relay sends every pending row, and rows other modules
    left for offices without a queue in this run's virtual host would come back unroutable first."""
    async with postgres_database() as url:
        engine = create_engine(url)
        yield session_factory(engine)
        await engine.dispose()


async def waiting_in(vhost_url: str, queue: str) -> int:
    """Messages ready in ``queue`` (the relay waits for the broker's confirm before it marks a row sent)."""
    connection = await connect(vhost_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


async def test_a_flagged_mandate_is_held_then_published_once_with_its_approval_id(
    vhost_url: str, pg_sessions: async_sessionmaker[AsyncSession]
) -> None:
    code = new_code()
    async with unit_of_work(pg_sessions) as session:
        await an_office(session, code, delivery_channel=DeliveryChannel.AMQP)
        case = await a_case(session, **POOR)
        held = await service.create_mandate(
            session,
            MandateIn(case_ref=case.ref, office_code=code, kind=MandateKind.PER_ACT, acts=["PAYMENT_ORDER"]),
            actor="handler@agence.example",
        )
    assert held.status == MandateStatus.HELD

    broker = Broker(vhost_url, [code])
    await broker.start()
    try:
        async with asyncio.timeout(30):
            await broker.ready()
        relay = Relay(pg_sessions, broker=AmqpTransport(broker), idle_sleep_s=0.05)

        async def drain() -> None:
            while await relay.run_once():
                pass

        await drain()
        queue = topology.office_queue(code)
        assert await waiting_in(vhost_url, queue) == 0

        async with unit_of_work(pg_sessions) as session:
            approval = await service.approve(
                session, held.ref, actor="chief@agence.example", comment="worth it"
            )
        await drain()
        await drain()  # a second pass finds nothing left to send
        assert await waiting_in(vhost_url, queue) == 1

        connection = await connect(vhost_url)
        async with connection:
            channel = await connection.channel()
            delivered = await (await channel.declare_queue(queue, passive=True)).get(no_ack=False)
            await delivered.ack()
        message = decode(delivered.body, delivered.content_type or "application/xml")
        assert isinstance(message, v1.Mandate)
        assert message.mandate_ref == held.ref and message.approval_id == approval.approval_id
        assert message.envelope.recipient == code and message.terms.kind == "per_act"
        assert await waiting_in(vhost_url, queue) == 0
    finally:
        await broker.stop()
