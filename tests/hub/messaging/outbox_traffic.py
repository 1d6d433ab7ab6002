"""What the broker-fault tests share: outbox events for one AMQP office, and that office's inbox,
which keeps each message by its id (as the spec asks of an office) and counts the deliveries."""

from __future__ import annotations

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from adapters.amqp.connection import connect
from hub.database import unit_of_work
from hub.messaging import service
from hub.messaging.service import Envelope
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel


async def office_with_events(sessions: async_sessionmaker[AsyncSession], code: str, count: int) -> list[int]:
    """A new AMQP office and ``count`` outbox events for it; their ids, given at the commit."""
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="Étude", delivery_channel=DeliveryChannel.AMQP)
        entries = []
        for n in range(count):
            envelope = Envelope(f"EV-{code}-{n}", "mandate", "AGENCY", code)
            entry = await service.enqueue_outbound(
                session, envelope, b"<m/>", "application/xml",
                exchange=topology.OUTBOUND_EXCHANGE, routing_key=topology.office_routing_key(code),
            )  # fmt: skip
            entries.append(entry)
    return [entry.id for entry in entries]


class OfficeInbox:
    """The office's consumer of ``office.<code>``: the message ids seen, and how many deliveries."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.deliveries = 0
        self.connection: AbstractRobustConnection | None = None

    async def start(self, url: str, code: str) -> None:
        self.connection = await connect(url, name="office")
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=200)
        queue = await channel.declare_queue(topology.office_queue(code), passive=True)
        await queue.consume(self._keep)

    async def _keep(self, message: AbstractIncomingMessage) -> None:
        self.deliveries += 1
        self.seen.add(str(message.message_id))
        await message.ack()

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
