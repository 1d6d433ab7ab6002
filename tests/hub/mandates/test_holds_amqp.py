"""End to end on PostgreSQL and RabbitMQ: a hold raised on a case two offices work on reaches each
office as exactly one ``hold_notice`` (whatever its mandates and acts there); both acknowledge it,
one over AMQP as its own RabbitMQ user, the other on the HTTP path; a coercive act one of them
reports dated after its acknowledgement is accepted, flagged ``hold_breached`` and listed for
staff; then staff lift the hold, each office gets a ``hold_lift``, and a later act is not flagged."""

from __future__ import annotations

import asyncio
import json

import pytest
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from hub.acts.models import ActReport
from hub.bootstrap import inbound_processor
from hub.broker import Broker
from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.mandates import service
from hub.mandates.models import HoldNotice, MandateKind, MandateStatus
from hub.mandates.service import MandateIn
from hub.messaging.amqp import AmqpTransport, InboundConsumer
from hub.messaging.inbound import Received
from hub.messaging.relay import Relay
from hub.messaging.signing import ReceiptSigner
from hub.offices.models import DeliveryChannel
from schemas import v1
from tests.conftest import eventually
from tests.hub.acts.factories import report_json
from tests.hub.mandates.factories import RICH, a_case, an_office, new_code
from tests.hub.mandates.test_amqp import pg_sessions  # noqa: F401 - fixture
from tests.hub.mandates.test_case_updates_amqp import read
from tests.hub.mandates.test_handlers import office_message
from tests.hub.messaging.test_amqp import collect, office_code, publish_as_office  # noqa: F401 - fixture

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]
STAFF = "handler@agence.example"
JSON = "application/json"


async def acknowledged(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(HoldNotice)
        return int(await session.scalar(query.where(HoldNotice.acknowledged_at.is_not(None))) or 0)


async def test_a_hold_reaches_each_office_once_is_broken_flagged_then_lifted(
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
        plans = [
            (by_amqp, MandateKind.PER_ACT, ["BANK_GARNISHMENT", "GARNISHMENT_NOTICE"]),
            (by_amqp, MandateKind.PER_ACT, ["SERVE_TITLE"]),
            (by_http, MandateKind.WHOLE_FILE, None),
        ]
        mandates = [
            await service.create_mandate(
                session,
                MandateIn(
                    case_ref=case.ref,
                    office_code=code,
                    kind=kind,
                    acts=acts or [],
                    fee_budget_cents=None if acts else 100_000,
                ),
                actor=STAFF,
            )
            for code, kind, acts in plans
        ]
    assert [m.status for m in mandates] == [MandateStatus.ISSUED] * 3
    whole = mandates[2]

    broker = Broker(vhost_url, [by_amqp, by_http])
    await broker.start()
    processor = inbound_processor(ReceiptSigner("k" * 40))
    consumer = InboundConsumer(broker, pg_sessions, processor)
    received: dict[str, list[AbstractIncomingMessage]] = {by_amqp: [], by_http: []}
    listeners = []

    async def report(n: int, act_code: str) -> ActReport:
        raw = report_json(by_http, whole.ref, n, act_code=act_code, act_date=utcnow().date().isoformat())
        async with unit_of_work(pg_sessions) as session:
            outcome = await processor.receive(session, offices[1], Received(raw, JSON))
            assert outcome.accepted, outcome.receipt.errors
            query = select(ActReport).where(ActReport.message_pk == outcome.message.id)
            return (await session.execute(query)).scalar_one()

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
            raised = await service.raise_hold(session, case.ref, "disputed", actor=STAFF, comment="letter")
        hold_id = raised.hold.hold_id
        await drain()
        await eventually(lambda: all(read(into, v1.HoldNotice) for into in received.values()))
        notices = {code: read(into, v1.HoldNotice) for code, into in received.items()}
        [to_amqp], [to_http] = notices[by_amqp], notices[by_http]  # exactly one each
        assert {m.mandate_ref for m in to_amqp.mandates} == {mandates[0].ref, mandates[1].ref}
        assert [(m.mandate_ref, m.act_codes) for m in to_http.mandates] == [(whole.ref, [])]
        assert to_amqp.hold_id == to_http.hold_id == hold_id and to_amqp.case_ref == case.ref

        def ack(code: str, notice: v1.HoldNotice) -> bytes:
            body = office_message(
                "hold_notice_ack",
                code,
                notice_id=notice.envelope.message_id,
                mandate_ref=notice.mandates[0].mandate_ref,
            )
            return json.dumps(body).encode()

        # One over AMQP, as the office's own RabbitMQ user; its receipt comes back on its queue.
        await publish_as_office(vhost_url, by_amqp, ack(by_amqp, to_amqp), content_type=JSON)
        # The other on the HTTP routes' path (the same processor, in the request's transaction).
        async with unit_of_work(pg_sessions) as session:
            outcome = await processor.receive(session, offices[1], Received(ack(by_http, to_http), JSON))
        assert outcome.accepted, outcome.receipt.errors
        async with asyncio.timeout(30):
            while await acknowledged(pg_sessions) < 2:  # noqa: ASYNC110 - polls the database
                await asyncio.sleep(0.05)
        await drain()
        await eventually(lambda: bool(read(received[by_amqp], v1.Receipt)))
        [receipt] = read(received[by_amqp], v1.Receipt)
        assert receipt.accepted

        # A coercive act dated after the acknowledgement: accepted, flagged, listed for staff.
        broke = await report(1, "BANK_GARNISHMENT")
        assert broke.flagged and broke.breached_hold_id == raised.hold.id
        async with pg_sessions() as session:
            listed = await service.list_breaches(session, after=None, limit=500)
        assert [(b.act.id, b.hold.hold_id, b.office_code) for b in listed] == [(broke.id, hold_id, by_http)]

        # Lifted: each office is told, and a later act is not flagged.
        async with unit_of_work(pg_sessions) as session:
            await service.lift_hold(session, hold_id, actor=STAFF, comment="dispute settled")
        await drain()
        await eventually(lambda: all(read(into, v1.HoldLift) for into in received.values()))
        for code, into in received.items():
            [lift] = read(into, v1.HoldLift)
            [notice] = notices[code]
            assert (lift.hold_id, lift.notice_id, lift.still_held) == (
                hold_id,
                notice.envelope.message_id,
                False,
            )
        later = await report(2, "BANK_GARNISHMENT")
        assert later.breached_hold_id is None and not any(
            f["code"] == "hold_breached"
            for f in (later.assessment or {}).get("flags", [])  # type: ignore[union-attr]
        )
    finally:
        for connection in listeners:
            await connection.close()
        await consumer.stop()
        await broker.stop()
