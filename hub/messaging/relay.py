"""The outbox relay: the only code that sends messages out. It reads committed outbox rows, hands
them to a transport (RabbitMQ, or the office mailboxes when embedded or for offices without AMQP)
and marks a row sent only once the transport confirmed it. A failed row is retried with backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.messaging.models import Direction, MailboxItem, OutboxEntry, OutboxStatus, Status, StoredMessage
from hub.messaging.repository import MessageRepository
from hub.messaging.service import record
from hub.offices.models import DeliveryChannel
from hub.offices.repository import OfficeRepository

log = structlog.get_logger()
MAX_BACKOFF_S = 30  # a broker back after a restart is used again within 30 s


@dataclass(frozen=True)
class Outgoing:
    entry: OutboxEntry
    message: StoredMessage


class Transport(Protocol):
    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        """One result per message, in order: ``None`` when delivered and confirmed, else the error."""
        ...


class MailboxTransport:
    """Delivery without a broker: the message lands in the recipient's mailbox, in the relay's own
    transaction, where the office pulls it (GET /v1/inbox) or the webhook pusher sends it."""

    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        offices = OfficeRepository(session)
        repo = MessageRepository(session)
        existing = await repo.mailbox_items_for([out.message.id for out in batch])
        pushes: dict[str, bool] = {}
        for out in batch:
            recipient = out.entry.recipient
            if recipient not in pushes:
                office = await offices.get_by_code(recipient)
                pushes[recipient] = (
                    office is not None and office.delivery_channel == DeliveryChannel.WEBHOOK.value
                )
            item = existing.get(out.message.id)
            if item is None:
                item = MailboxItem(recipient=recipient, message_pk=out.message.id)
                repo.stage(item)
            # A resend puts an acknowledged or already pushed message back in the mailbox.
            item.acked_at = None
            item.push_state = "due" if pushes[recipient] else "none"
            item.push_attempts = 0
            item.next_push_at = utcnow() if pushes[recipient] else None
        await session.flush()
        return [None] * len(batch)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, MAX_BACKOFF_S))


class Relay:
    """``broker`` is None in embedded mode; then every message goes to the mailboxes."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        broker: Transport | None = None,
        batch_size: int = 500,
        idle_sleep_s: float = 0.2,
    ) -> None:
        self.sessions = sessions
        self.broker = broker
        self.mailbox = MailboxTransport()
        self.batch_size = batch_size
        self.idle_sleep_s = idle_sleep_s

    async def _uses_broker(self, session: AsyncSession, recipient: str, cache: dict[str, bool]) -> bool:
        if self.broker is None:
            return False
        if recipient not in cache:
            office = await OfficeRepository(session).get_by_code(recipient)
            # The agency and AMQP offices are served by the broker; the others by their mailbox.
            cache[recipient] = office is None or office.delivery_channel == DeliveryChannel.AMQP.value
        return cache[recipient]

    async def run_once(self) -> int:
        """Sends one batch of due rows; returns how many were sent."""
        async with unit_of_work(self.sessions) as session:
            repo = MessageRepository(session)
            now = utcnow()
            entries = await repo.claim_pending(now, self.batch_size)
            if not entries:
                return 0
            messages = await repo.messages_by_pk([e.message_pk for e in entries])
            by_broker: list[Outgoing] = []
            by_mailbox: list[Outgoing] = []
            cache: dict[str, bool] = {}
            for entry in entries:
                out = Outgoing(entry, messages[entry.message_pk])
                (
                    by_broker if await self._uses_broker(session, entry.recipient, cache) else by_mailbox
                ).append(out)

            sent = 0
            if by_mailbox:
                results = await self.mailbox.send(session, by_mailbox)
                sent += await self._settle(session, by_mailbox, results, Status.DELIVERED)
            if by_broker and self.broker is not None:
                results = await self.broker.send(session, by_broker)
                sent += await self._settle(session, by_broker, results, Status.CONFIRMED)
            return sent

    async def _settle(
        self, session: AsyncSession, batch: Sequence[Outgoing], results: list[str | None], done: Status
    ) -> int:
        """Marks confirmed rows sent (``done`` in the message's lifecycle); schedules the others again."""
        now = utcnow()
        sent = 0
        for out, error in zip(batch, results, strict=True):
            entry = out.entry
            entry.attempts += 1
            if error is None:
                entry.status = OutboxStatus.SENT.value
                entry.sent_at = now
                entry.last_error = None
                if out.message.direction == Direction.OUTBOUND.value:
                    await record(session, out.message, done, detail=f"outbox {entry.id}", actor="relay")
                # else an inbound message forwarded to the agency: it keeps its own status (validated),
                # and the outbox row says when it was sent.
                sent += 1
            else:
                entry.next_attempt_at = now + backoff(entry.attempts)
                entry.last_error = error[:1000]
                log.warning("outbox_send_failed", outbox_id=entry.id, attempts=entry.attempts, error=error)
        await session.flush()
        return sent

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("relay_iteration_failed")
                sent = 0
            if sent == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.idle_sleep_s)
                except TimeoutError:
                    pass
