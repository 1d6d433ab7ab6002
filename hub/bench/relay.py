"""The outbox relay: rows written by the messaging service, then drained by one ``Relay`` to the
office mailboxes (embedded) and to RabbitMQ (an AMQP office, publisher confirms), each in a process
of its own. Only the drain is timed; the rows are written first."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from hub.bench import Bench, Row, in_child, measured


async def drain(url: str, messages: int, amqp_url: str | None) -> dict[str, Any]:
    from adapters.amqp.topology import OUTBOUND_EXCHANGE, office_queue
    from hub.broker import Broker
    from hub.database import create_engine, session_factory, unit_of_work
    from hub.messaging import service
    from hub.messaging.amqp import AmqpTransport
    from hub.messaging.relay import Relay
    from hub.messaging.service import Envelope
    from hub.offices import service as offices
    from hub.offices.models import DeliveryChannel

    engine = create_engine(url)
    broker: Broker | None = None
    try:
        sessions = session_factory(engine)
        code = f"RELAY{uuid.uuid4().hex[:6].upper()}"
        channel = DeliveryChannel.AMQP if amqp_url else DeliveryChannel.PULL
        async with unit_of_work(sessions) as session:
            await offices.add_office(session, code=code, name="Bench office", delivery_channel=channel)
        for first in range(0, messages, 1000):
            async with unit_of_work(sessions) as session:
                for n in range(first, min(first + 1000, messages)):
                    await service.enqueue_outbound(
                        session,
                        Envelope(f"B-{code}-{n}", "mandate", "AGENCY", code),
                        b"<mandate/>",
                        "application/xml",
                        exchange=OUTBOUND_EXCHANGE,
                        routing_key=office_queue(code),
                    )
        if amqp_url:
            broker = Broker(amqp_url, [code])
            await broker.start()
            async with asyncio.timeout(60):
                await broker.ready()
        relay = Relay(sessions, broker=AmqpTransport(broker) if broker else None)
        started, cpu_started = time.perf_counter(), time.process_time()
        sent = await relay.drain()
        seconds = time.perf_counter() - started
        if sent < messages:
            raise RuntimeError(f"the relay sent {sent} of {messages} messages (see its log)")
        return {"count": sent, "seconds": seconds, "cpu_seconds": time.process_time() - cpu_started}
    finally:
        if broker is not None:
            await broker.stop()
        await engine.dispose()


async def measure_relay(bench: Bench, url: str, group: str, note: str = "") -> list[Row]:
    result, rss = await in_child("hub.bench.relay:drain", url, bench.scale.messages, None)
    rows = [
        measured(
            group,
            "relay to mailboxes",
            "msg/s",
            result,
            engine=bench.engine,
            peak_rss_mb=rss,
            process="bench child",
            raw="relay",
            note=note,
        )
    ]
    async with bench.vhost() as amqp_url:
        if amqp_url is not None:
            result, rss = await in_child("hub.bench.relay:drain", url, bench.scale.messages, amqp_url)
            rows.append(
                measured(
                    group,
                    "relay to RabbitMQ (confirms)",
                    "msg/s",
                    result,
                    engine=f"{bench.engine}+rabbitmq",
                    peak_rss_mb=rss,
                    process="bench child",
                    raw="amqp-publish-aiormq",
                    note=note,
                )
            )
    return rows


async def group(bench: Bench) -> list[Row]:
    async with bench.database() as url:
        return await measure_relay(bench, url, "relay")
