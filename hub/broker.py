"""The hub's RabbitMQ side when ``HUB_AMQP_URL`` is set: one robust connection, the topology
declared at start (and per office as offices appear), and the publisher the relay uses.

The connection is made in the background: the API serves, and ``/readyz`` says why it is not
ready, while the broker is down; after a broker restart the robust connection comes back by itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from aio_pika.exceptions import ChannelPreconditionFailed

from adapters.amqp import topology
from adapters.amqp.connection import connect
from adapters.amqp.publisher import OutgoingMessage, Publisher, PublishOutcome, Status

log = structlog.get_logger()
RETRY_CONNECT_S = 2.0
RETRY_TOPOLOGY_S = 30.0
TOPOLOGY_HINT = (
    "drain the queue named in the error, delete it (rabbitmqctl delete_queue NAME) and let the hub "
    "declare it again, or load deploy/rabbitmq/definitions.json into a new virtual host "
    "(docs/adr/0021-inbound-delivery-limit.md)"
)


class Broker:
    def __init__(self, url: str, office_codes: Sequence[str] = (), *, delivery_limit: int = 5) -> None:
        self.url = url
        self.office_codes = list(office_codes)
        self.delivery_limit = delivery_limit
        self.connection: AbstractRobustConnection | None = None
        self.publisher: Publisher | None = None
        self._declare_channel: AbstractChannel | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._declared_offices: set[str] = set()
        self._problem: str | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._connect(), name="broker-connect")

    async def ready(self) -> None:
        """Waits until connected and the topology is declared (bound it with asyncio.timeout)."""
        await self._ready.wait()

    async def _connect(self) -> None:
        while self.connection is None:
            try:
                connection = await connect(self.url, name="hub")
            except Exception as exc:
                log.warning("broker_unreachable", error=str(exc))
                await asyncio.sleep(RETRY_CONNECT_S)
                continue
            self._declare_channel = await connection.channel()
            try:
                await topology.declare_topology(
                    self._declare_channel, self.office_codes, delivery_limit=self.delivery_limit
                )
            except ChannelPreconditionFailed as exc:
                # A queue made with other arguments (e.g. hub.inbound with the x-delivery-limit
                # of before ADR 0021): nothing here can change it; say so until an operator has.
                self._problem = f"broker topology differs from the hub's: {exc}; {TOPOLOGY_HINT}"
                log.error("broker_topology_mismatch", error=str(exc), hint=TOPOLOGY_HINT)
                await connection.close()
                await asyncio.sleep(RETRY_TOPOLOGY_S)
                continue
            self._problem = None
            self._declared_offices.update(self.office_codes)
            self.publisher = await Publisher.open(connection)
            self.connection = connection
            self._ready.set()
            log.info("broker_connected", offices=len(self.office_codes))

    async def ensure_office_queue(self, code: str) -> None:
        """Declares ``office.<code>`` for an office added after start (idempotent)."""
        if code in self._declared_offices or self._declare_channel is None:
            return
        await topology.declare_office_queue(self._declare_channel, code, delivery_limit=self.delivery_limit)
        self._declared_offices.add(code)

    async def publish_many(self, messages: Sequence[OutgoingMessage]) -> list[PublishOutcome]:
        if self.publisher is None or await self.health() is not None:
            return [PublishOutcome(m.message_id, Status.CONNECTION_ERROR, "not connected") for m in messages]
        return await self.publisher.publish_many(messages)

    async def channel(self) -> AbstractChannel:
        """A new channel (one per consumer, so their prefetch windows stay independent)."""
        await self._ready.wait()
        assert self.connection is not None
        return await self.connection.channel()

    async def queue_depth(self, name: str) -> int | None:
        """Messages ready in queue ``name`` (a passive declare on a channel of its own, closed
        after); None when not connected or the queue does not answer (e.g. it does not exist)."""
        if self.connection is None or await self.health() is not None:
            return None
        try:
            channel = await self.connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
                count = queue.declaration_result.message_count
                return None if count is None else int(count)
            finally:
                if not channel.is_closed:
                    await channel.close()
        except Exception as exc:
            log.warning("broker_queue_unreadable", queue=name, error=str(exc))
            return None

    async def health(self) -> str | None:
        if self.connection is None:
            return self._problem or "broker unreachable: not connected yet"
        if self.connection.is_closed or not self.connection.connected.is_set():
            return "broker unreachable: connection lost, reconnecting"
        return None

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.connection is not None:
            await self.connection.close()


async def declare_office_queue_once(url: str, code: str, *, delivery_limit: int = 5) -> None:
    """For a command line that adds an office: its queue exists before anything is sent to it."""
    connection = await connect(url, name="hub-cli")
    async with connection:
        channel = await connection.channel()
        await topology.declare_office_queue(channel, code, delivery_limit=delivery_limit)
