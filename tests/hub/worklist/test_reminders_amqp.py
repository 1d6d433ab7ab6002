"""End to end on PostgreSQL and RabbitMQ: a reminder reaches the office's own queue through the
outbox and the relay, the office acknowledges it over AMQP as its own RabbitMQ user (a signed
receipt back), and a second acknowledgement is refused; then two staff reminding the same item at
once on PostgreSQL send one reminder, round after round."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from hub.bootstrap import inbound_processor
from hub.broker import Broker
from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.kit.errors import Conflict
from hub.messaging.amqp import AmqpTransport, InboundConsumer
from hub.messaging.models import OutboxEntry, StoredMessage
from hub.messaging.relay import Relay
from hub.messaging.signing import ReceiptSigner
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel
from hub.worklist import service
from hub.worklist.models import Reminder
from schemas import v1
from tests.conftest import eventually
from tests.hub.mandates.test_amqp import pg_sessions  # noqa: F401 - fixture
from tests.hub.mandates.test_case_updates_amqp import read
from tests.hub.messaging.test_amqp import collect, office_code, publish_as_office  # noqa: F401 - fixture
from tests.hub.worklist.factories import a_mandate, an_office
from tests.hub.worklist.test_reminders import ack

pytestmark = [pytest.mark.postgres]
STAFF = "handler@agence.example"
JSON = "application/json"


async def acknowledged(sessions: async_sessionmaker[AsyncSession], reminder_id: str) -> bool:
    async with sessions() as session:
        reminder = await session.scalar(select(Reminder).where(Reminder.message_id == reminder_id))
        return reminder is not None and reminder.acknowledged_at is not None


@pytest.mark.rabbitmq
async def test_a_reminder_over_amqp_is_acknowledged_once(
    vhost_url: str,
    pg_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
    office_code: str,  # noqa: F811 - an office with an AMQP user of its own
) -> None:
    async with unit_of_work(pg_sessions) as session:
        office = await offices.add_office(
            session, code=office_code, name="Étude", delivery_channel=DeliveryChannel.AMQP
        )
        quiet = await a_mandate(session, office, status="acknowledged", issued=utcnow() - timedelta(days=40))
    broker = Broker(vhost_url, [office_code])
    await broker.start()
    consumer = InboundConsumer(broker, pg_sessions, inbound_processor(ReceiptSigner("k" * 40)))
    received: list[AbstractIncomingMessage] = []
    listener = None
    try:
        async with asyncio.timeout(30):
            await broker.ready()
        await consumer.start()
        relay = Relay(pg_sessions, broker=AmqpTransport(broker), idle_sleep_s=0.05)

        async def drain() -> None:
            while await relay.run_once():
                pass

        listener = await collect(vhost_url, topology.office_queue(office_code), received)
        data = service.ReminderIn(
            office_code=office_code, topic="stale_mandate", mandate_ref=quiet.mandate.ref, comment="Relance"
        )
        async with unit_of_work(pg_sessions) as session:
            sent, _ = await service.send_reminder(session, data, actor=STAFF)
        await drain()
        await eventually(lambda: bool(read(received, v1.Reminder)))
        [reminder] = read(received, v1.Reminder)
        assert reminder.envelope.message_id == sent.message_id and reminder.envelope.recipient == office_code
        assert reminder.topic is v1.ReminderTopic.STALE_MANDATE and reminder.mandate_ref == quiet.mandate.ref
        assert reminder.comment == "Relance" and reminder.case_ref == quiet.case.ref

        first = ack(office_code, sent.message_id)
        await publish_as_office(vhost_url, office_code, json.dumps(first).encode(), content_type=JSON)
        async with asyncio.timeout(30):
            while not await acknowledged(pg_sessions, sent.message_id):  # noqa: ASYNC110 - polls the database
                await asyncio.sleep(0.05)
        second = ack(office_code, sent.message_id)
        await publish_as_office(vhost_url, office_code, json.dumps(second).encode(), content_type=JSON)
        async with asyncio.timeout(30):
            while len(read(received, v1.Receipt)) < 2:
                await drain()
                await asyncio.sleep(0.05)
        receipts = {r.message_id: r for r in read(received, v1.Receipt)}
        assert receipts[first["envelope"]["message_id"]].accepted
        refused = receipts[second["envelope"]["message_id"]]
        assert not refused.accepted and refused.errors[0].code == "reminder.already_acknowledged"
    finally:
        if listener is not None:
            await listener.close()
        await consumer.stop()
        await broker.stop()


async def test_two_staff_reminding_one_item_at_once_send_one_reminder(
    pg_sessions: async_sessionmaker[AsyncSession],  # noqa: F811
) -> None:
    async with unit_of_work(pg_sessions) as session:
        office = await an_office(session)
        code = office.code
        quiet = [
            await a_mandate(session, office, status="acknowledged", issued=utcnow() - timedelta(days=40))
            for _ in range(20)
        ]

    async def remind(ref: str, who: str) -> str:
        data = service.ReminderIn(office_code=code, topic="stale_mandate", mandate_ref=ref)
        try:
            async with unit_of_work(pg_sessions) as session:
                await service.send_reminder(session, data, actor=who)
        except Conflict as exc:
            return exc.code
        return "sent"

    for s in quiet:
        outcomes = await asyncio.gather(
            remind(s.mandate.ref, "a@agence.example"), remind(s.mandate.ref, "b@agence.example")
        )
        assert sorted(outcomes) == ["reminder.already_sent_today", "sent"], outcomes
    async with pg_sessions() as session:
        rows = await session.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.office_id == office.id)
        )
        sent = await session.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .join(StoredMessage, StoredMessage.id == OutboxEntry.message_pk)
            .where(StoredMessage.kind == "reminder", StoredMessage.recipient == code)
        )
    assert rows == len(quiet) and sent == len(quiet)
