"""The background workers of a hub process, by role: the outbox relay and the webhook pusher
("relay"), the AMQP consumers ("worker"); "all" runs everything beside the API.

Stopping (SIGTERM, then the app's shutdown) is graceful and bounded by ``HUB_SHUTDOWN_GRACE_SECONDS``:
the consumers are cancelled first (no new delivery) and the messages being handled commit and are
acked; the relay and the pusher finish the batch in hand (the relay's waits for its publisher
confirms, then marks what was confirmed) and take no other. A worker still busy at the bound is
cancelled: its transaction rolls back, so an outbox row is never marked sent unconfirmed and an
unacked message is redelivered."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.bootstrap import inbound_processor
from hub.broker import Broker
from hub.gdpr import sweeper as gdpr_sweeper
from hub.kit.http import BodyLimits
from hub.mandates import sweeper
from hub.messaging.amqp import AmqpTransport, InboundConsumer
from hub.messaging.relay import Relay
from hub.messaging.signing import ReceiptSigner
from hub.messaging.webhooks import WebhookPusher
from hub.settings import Settings

log = structlog.get_logger()


class Workers:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        broker: Broker | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.broker = broker
        self.consumer: InboundConsumer | None = None
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._client = httpx.AsyncClient()

    def _spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(work, name=name))

    async def start(self) -> None:
        if self.settings.role in ("all", "relay"):
            # With a broker, AMQP offices and the agency are served through RabbitMQ; offices
            # without AMQP through their mailbox (pull inbox or webhook), in both modes.
            transport = AmqpTransport(self.broker) if self.broker is not None else None
            relay = Relay(self.sessions, broker=transport)
            pusher = WebhookPusher(self.sessions, self.settings.secret_box(), self._client)
            self._spawn("outbox-relay", relay.run_forever(self.stop))
            self._spawn("webhook-pusher", pusher.run_forever(self.stop))
            # A chore beside the relay: several relay processes sweep safely (lapsed mandates
            # are claimed with SKIP LOCKED) and what they expire leaves through the outbox.
            if self.settings.mandate_expiry_sweep_seconds > 0:
                every = self.settings.mandate_expiry_sweep_seconds
                self._spawn("mandate-expiry", sweeper.run_forever(self.sessions, self.stop, every))
            # Erases the debtor data of cases closed longer ago than the retention period.
            if self.settings.gdpr_sweep_seconds > 0:
                every = self.settings.gdpr_sweep_seconds
                self._spawn("gdpr-retention", gdpr_sweeper.run_forever(self.sessions, self.stop, every))
        if self.settings.role in ("all", "worker") and self.broker is not None:
            self._spawn("inbound-consumer", self._consume(self.broker))

    async def _consume(self, broker: Broker) -> None:
        if not await self._broker_ready_or_stopped(broker):
            return
        self.consumer = InboundConsumer(
            broker,
            self.sessions,
            inbound_processor(ReceiptSigner(self.settings.secret_key)),
            limits=BodyLimits.from_settings(self.settings),
        )
        await self.consumer.start()
        await self.stop.wait()
        await self.consumer.stop(grace=self.settings.shutdown_grace_seconds)

    async def _broker_ready_or_stopped(self, broker: Broker) -> bool:
        """Waits until the broker is connected, or the process is stopping: a process stopped while
        its broker is unreachable exits at once instead of at the end of its grace. True when ready."""
        ready = asyncio.ensure_future(broker.ready())
        stopping = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({ready, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
            stopping.cancel()
        return not self.stop.is_set()

    async def close(self) -> None:
        """Stops taking work and waits for the work in hand, at most the grace, then cancels."""
        self.stop.set()
        if self._tasks:
            log.info("workers_stopping", role=self.settings.role, tasks=[t.get_name() for t in self._tasks])
            _done, pending = await asyncio.wait(self._tasks, timeout=self.settings.shutdown_grace_seconds)
            for task in pending:
                log.warning("worker_cancelled_at_grace", task=task.get_name())
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            log.info("workers_stopped", role=self.settings.role, cancelled=len(pending))
        await self._client.aclose()

    async def wait(self) -> None:
        """For a process without the API: runs until stopped."""
        await self.stop.wait()
