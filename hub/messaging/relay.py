"""The outbox relay: the only code that sends messages out. It reads committed outbox rows, hands
them to a transport (RabbitMQ, or the office mailboxes when embedded or for offices without AMQP)
and marks a row sent only once the transport confirmed it. A failed row is retried with backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.messaging import sealing
from hub.messaging.models import Direction, MailboxItem, OutboxEntry, OutboxStatus, Status, StoredMessage
from hub.messaging.repository import MessageRepository
from hub.messaging.service import record_many
from hub.observability import metrics
from hub.offices.models import DeliveryChannel
from hub.offices.repository import OfficeRepository

log = structlog.get_logger()
MAX_BACKOFF_S = 30  # a broker back after a restart is used again within 30 s


@dataclass(frozen=True)
class Outgoing:
    entry: OutboxEntry
    message: StoredMessage
    # The bytes to publish (the message's, opened when sealed); filled for the broker only: a
    # mailbox item points at the stored message, whose body is opened when it is read.
    body: bytes = b""


class Transport(Protocol):
    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        """One result per message, in order: ``None`` when delivered and confirmed, else the error."""
        ...


class MailboxTransport:
    """Delivery without a broker: the message lands in the recipient's mailbox, in the relay's own
    transaction, where the office pulls it (GET /v1/inbox) or the webhook pusher sends it. Set-based:
    one query for the recipients' channels, one for the items that exist, one multi-row INSERT of the
    new items and one UPDATE per push state of the items put back (a resend)."""

    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        repo = MessageRepository(session)
        channels = await OfficeRepository(session).channels({out.entry.recipient for out in batch})
        existing = await repo.mailbox_item_ids_for([out.message.id for out in batch])
        now = utcnow()
        new_items: list[dict[str, Any]] = []
        resent: dict[bool, list[int]] = {True: [], False: []}
        for out in batch:
            recipient = out.entry.recipient
            push = channels.get(recipient) == DeliveryChannel.WEBHOOK.value
            item_id = existing.get(out.message.id)
            if item_id is None:
                new_items.append(
                    {
                        "recipient": recipient,
                        "message_pk": out.message.id,
                        "acked_at": None,
                        "push_state": "due" if push else "none",
                        "push_attempts": 0,
                        "next_push_at": now if push else None,
                    }
                )
            else:
                resent[push].append(item_id)
        await repo.insert_rows(MailboxItem, new_items)
        for push, item_ids in resent.items():
            # A resend puts an acknowledged or already pushed message back in the mailbox.
            await repo.reset_mailbox_items(item_ids, push_at=now if push else None)
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
            channels: dict[str, str] = {}
            if self.broker is not None:
                channels = await OfficeRepository(session).channels({e.recipient for e in entries})
            for entry in entries:
                out = Outgoing(entry, messages[entry.message_pk])
                # The agency and AMQP offices are served by the broker; the others by their mailbox.
                channel = channels.get(entry.recipient, DeliveryChannel.AMQP.value)
                uses_broker = self.broker is not None and channel == DeliveryChannel.AMQP.value
                (by_broker if uses_broker else by_mailbox).append(out)

            sent = 0
            if by_mailbox:
                results = await self.mailbox.send(session, by_mailbox)
                sent += await self._settle(session, by_mailbox, results, Status.DELIVERED, "mailbox")
            if by_broker and self.broker is not None:
                by_broker = await self._opened(session, by_broker)
            if by_broker and self.broker is not None:
                results = await self.broker.send(session, by_broker)
                sent += await self._settle(session, by_broker, results, Status.CONFIRMED, "amqp")
            return sent

    @staticmethod
    async def _opened(session: AsyncSession, batch: list[Outgoing]) -> list[Outgoing]:
        """The batch with the bytes to publish; a message whose case was erased meanwhile is never
        sent (its outbox row ``erased``)."""
        bodies = await sealing.open_bodies(session, [out.message for out in batch])
        opened = []
        for out in batch:
            body = bodies[out.message.id]
            if body is None:
                out.entry.status = OutboxStatus.ERASED.value
            else:
                opened.append(Outgoing(out.entry, out.message, body))
        return opened

    async def _settle(
        self,
        session: AsyncSession,
        batch: Sequence[Outgoing],
        results: list[str | None],
        done: Status,
        transport: str,
    ) -> int:
        """Marks confirmed rows sent (``done`` in the message's lifecycle), set-based; schedules the
        others again, row by row (rare)."""
        now = utcnow()
        sent = [out for out, error in zip(batch, results, strict=True) if error is None]
        # Counted when decided; a pass rolled back after this (rare) is counted as tried.
        metrics.RELAY_SENT.labels(transport).inc(len(sent))
        metrics.RELAY_PUBLISH_FAILURES.labels(transport).inc(len(batch) - len(sent))
        for out, error in zip(batch, results, strict=True):
            lag = None if error else (now - out.entry.created_at).total_seconds()
            metrics.count_outbound(out.message.kind, transport, "failed" if error else "sent", lag)
        await MessageRepository(session).mark_sent([out.entry.id for out in sent], now)
        # An inbound message forwarded to the agency keeps its own status (validated), and the
        # outbox row says when it was sent.
        outbound = [out for out in sent if out.message.direction == Direction.OUTBOUND.value]
        await record_many(
            session,
            [out.message for out in outbound],
            done,
            details=[f"outbox {out.entry.id}" for out in outbound],
            actor="relay",
        )
        for out, error in zip(batch, results, strict=True):
            if error is not None:
                entry = out.entry
                entry.attempts += 1
                entry.next_attempt_at = now + backoff(entry.attempts)
                entry.last_error = error[:1000]
                log.warning("outbox_send_failed", outbox_id=entry.id, attempts=entry.attempts, error=error)
        await session.flush()
        return len(sent)

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("relay_iteration_failed")
                metrics.RELAY_ERRORS.inc()
                sent = 0
            if sent == 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.idle_sleep_s)
                except TimeoutError:
                    pass
