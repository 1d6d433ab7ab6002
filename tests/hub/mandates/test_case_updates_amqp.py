"""End to end on PostgreSQL and RabbitMQ: a case two offices work on gets a payment; each office
receives one ``case_update`` on its own queue and acknowledges it, one over AMQP as its own RabbitMQ
user, the other on the HTTP path; then the rest of the balance is paid and both are told that the
work stops, with a ``mandate_cancel`` of cause ``balance_cleared``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from hub.bootstrap import inbound_processor
from hub.broker import Broker
from hub.database import unit_of_work
from hub.mandates import service
from hub.mandates.models import CaseUpdateNotice, MandateKind, MandateStatus
from hub.mandates.service import MandateIn
from hub.messaging.amqp import AmqpTransport, InboundConsumer
from hub.messaging.inbound import Received, decode
from hub.messaging.relay import Relay
from hub.messaging.signing import ReceiptSigner
from hub.offices.models import DeliveryChannel
from schemas import v1
from tests.conftest import eventually
from tests.hub.mandates.factories import RICH, a_case, an_office, new_code
from tests.hub.mandates.test_amqp import pg_sessions  # noqa: F401 - fixture
from tests.hub.mandates.test_case_updates import payment
from tests.hub.mandates.test_handlers import office_message
from tests.hub.messaging.test_amqp import collect, office_code, publish_as_office  # noqa: F401 - fixture

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]
STAFF = "handler@agence.example"
JSON = "application/json"


def read(messages: list[AbstractIncomingMessage], kind: type[Any]) -> list[Any]:
    found = [decode(m.body, m.content_type or "application/xml") for m in messages]
    return [m for m in found if isinstance(m, kind)]


async def acknowledged(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(CaseUpdateNotice)
        return int(await session.scalar(query.where(CaseUpdateNotice.acknowledged_at.is_not(None))) or 0)


async def test_two_offices_receive_a_case_update_and_acknowledge_it(
    vhost_url: str,
    pg_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
    office_code: str,  # noqa: F811 - an office with an AMQP user of its own
) -> None:
    by_amqp, by_http = office_code, new_code()
    async with unit_of_work(pg_sessions) as session:
        offices = [
            await an_office(session, code, delivery_channel=DeliveryChannel.AMQP)
            for code in (by_amqp, by_http)
        ]
        case = await a_case(session, **RICH)
        mandates = [
            await service.create_mandate(
                session,
                MandateIn(
                    case_ref=case.ref, office_code=code, kind=MandateKind.PER_ACT, acts=["BANK_GARNISHMENT"]
                ),
                actor=STAFF,
            )
            for code in (by_amqp, by_http)
        ]
    assert [m.status for m in mandates] == [MandateStatus.ISSUED, MandateStatus.ISSUED]

    broker = Broker(vhost_url, [by_amqp, by_http])
    await broker.start()
    processor = inbound_processor(ReceiptSigner("k" * 40))
    consumer = InboundConsumer(broker, pg_sessions, processor)
    received: dict[str, list[AbstractIncomingMessage]] = {by_amqp: [], by_http: []}
    listeners = []
    try:
        async with asyncio.timeout(30):
            await broker.ready()
        await consumer.start()
        relay = Relay(pg_sessions, broker=AmqpTransport(broker), idle_sleep_s=0.05)

        async def drain() -> None:
            while await relay.run_once():
                pass

        for code, into in received.items():
            listeners.append(await collect(vhost_url, topology.office_queue(code), into))
        async with unit_of_work(pg_sessions) as session:
            view = await service.record_update(session, case.ref, payment(100_000, "CRM-1"), actor=STAFF)
        assert sorted(n.office_code for n in view.notices) == sorted([by_amqp, by_http])
        await drain()
        await eventually(lambda: all(read(into, v1.CaseUpdate) for into in received.values()))
        updates = {code: read(into, v1.CaseUpdate) for code, into in received.items()}
        for code, mandate in zip((by_amqp, by_http), mandates, strict=True):
            [update] = updates[code]
            assert update.envelope.recipient == code and update.mandate_refs == [mandate.ref]
            assert update.payment.amount_cents == 100_000 and update.outstanding_cents == 400_000
            assert not update.work_stops

        acks = {
            code: office_message("case_update_ack", code, update_id=u.envelope.message_id, case_ref=case.ref)
            for code, [u] in updates.items()
        }

        def ack(code: str) -> bytes:
            return json.dumps(acks[code]).encode()

        # One over AMQP, as the office's own RabbitMQ user; its receipt comes back on its queue.
        await publish_as_office(vhost_url, by_amqp, ack(by_amqp), content_type=JSON)
        # The other on the HTTP routes' path (the same processor, in the request's transaction).
        async with unit_of_work(pg_sessions) as session:
            outcome = await processor.receive(session, offices[1], Received(ack(by_http), JSON))
        assert outcome.accepted, outcome.receipt.errors
        async with asyncio.timeout(30):
            while await acknowledged(pg_sessions) < 2:  # noqa: ASYNC110 - polls the database
                await asyncio.sleep(0.05)
        await drain()
        await eventually(lambda: bool(read(received[by_amqp], v1.Receipt)))
        [receipt] = read(received[by_amqp], v1.Receipt)
        assert receipt.accepted and receipt.message_id == acks[by_amqp]["envelope"]["message_id"]

        # The rest of the balance paid: the work stops at both offices.
        async with unit_of_work(pg_sessions) as session:
            cleared = await service.record_update(session, case.ref, payment(400_000, "CRM-2"), actor=STAFF)
        assert cleared.ended_mandates == sorted(m.ref for m in mandates)
        await drain()
        await eventually(lambda: all(read(into, v1.MandateCancel) for into in received.values()))
        for code, mandate in zip((by_amqp, by_http), mandates, strict=True):
            assert [u.work_stops for u in read(received[code], v1.CaseUpdate)] == [False, True]
            [cancel] = read(received[code], v1.MandateCancel)
            assert cancel.mandate_ref == mandate.ref and cancel.cause is v1.CancelCause.BALANCE_CLEARED
    finally:
        for connection in listeners:
            await connection.close()
        await consumer.stop()
        await broker.stop()
