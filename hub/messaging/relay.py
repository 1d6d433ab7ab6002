"""The outbox relay: the only code that sends messages out. It reads committed outbox rows, hands
them to a transport (RabbitMQ, or the office mailboxes when embedded or for offices without AMQP)
and marks a row sent only once the transport confirmed it. A failed row is retried with backoff.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.database import unit_of_work
from hub.kit.clock import utcnow
from hub.messaging import sealing
from hub.messaging.models import Direction, MailboxItem, Status
from hub.messaging.repository import MessageRepository
from hub.observability import metrics
from hub.offices.models import DeliveryChannel

log = structlog.get_logger()
MAX_BACKOFF_S = 30  # a broker back after a restart is used again within 30 s


@dataclass(frozen=True)
class Outgoing:
    """A claimed outbox row (``entry``), its message (``message``) and its recipient's delivery
    channel (None: not an office, e.g. the agency): Core rows of the columns the relay needs
    (``MessageRepository.claim_pending``), no ORM objects."""

    entry: Any
    message: Any
    channel: str | None = None
    # The bytes to publish (the message's, opened when sealed); filled for the broker only: a
    # mailbox item points at the stored message, whose body is opened when it is read.
    body: bytes = b""


class Transport(Protocol):
    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        """One result per message, in order: ``None`` when delivered and confirmed, else the error."""
        ...


class MailboxTransport:
    """Delivery without a broker, on SQLite: the message lands in the recipient's mailbox, in the
    relay's own transaction, where the office pulls it (GET /v1/inbox) or the webhook pusher sends it.
    Set-based: one query for the items that exist, one multi-row INSERT of the new items and one
    UPDATE per push state of the items put back (a resend). On PostgreSQL the settle's one statement
    writes the same items (``MessageRepository.settle_sent`` with ``mailbox``)."""

    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        repo = MessageRepository(session)
        existing = await repo.mailbox_item_ids_for([out.message.id for out in batch])
        now = utcnow()
        # One item per message: a message resent before its first row went is claimed twice.
        new_items: dict[uuid.UUID, dict[str, Any]] = {}
        resent: dict[bool, list[int]] = {True: [], False: []}
        for out in batch:
            push = out.channel == DeliveryChannel.WEBHOOK.value
            item_id = existing.get(out.message.id)
            if item_id is None:
                new_items[out.message.id] = {
                    "recipient": out.entry.recipient,
                    "message_pk": out.message.id,
                    "acked_at": None,
                    "push_state": "due" if push else "none",
                    "push_attempts": 0,
                    "next_push_at": now if push else None,
                }
            else:
                resent[push].append(item_id)
        await repo.insert_rows(MailboxItem, list(new_items.values()))
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
        passes: int | None = None,
    ) -> None:
        self.sessions = sessions
        self.broker = broker
        self.mailbox = MailboxTransport()
        self.batch_size = batch_size
        self.idle_sleep_s = idle_sleep_s
        # Batches in flight at once (``run_once`` each, in a transaction of its own): with a
        # broker, the next batch is claimed and published while the one before awaits its
        # confirms. Each row is still marked sent only in the transaction that saw its confirm,
        # and ``SKIP LOCKED`` keeps the passes' rows apart, as for several relays. One on SQLite
        # (one writer at a time) and without a broker (the mailboxes' batch is one statement).
        if passes is None:
            bind = sessions.kw.get("bind")
            on_postgres = bind is not None and bind.dialect.name == "postgresql"
            passes = 2 if broker is not None and on_postgres else 1
        self.passes = passes

    async def run_once(self) -> int:
        """Sends one batch of due rows; returns how many were sent."""
        async with unit_of_work(self.sessions) as session:
            repo = MessageRepository(session)
            now = utcnow()
            if self.broker is None and repo.settles_in_one_statement:
                # Every row to the mailboxes: claimed, delivered and settled by one statement (its
                # metrics counted when decided, as below).
                delivered = await repo.deliver_due_to_mailboxes(now, self.batch_size)
                return metrics.count_sent("mailbox", delivered, now)
            by_broker: list[Outgoing] = []
            by_mailbox: list[Outgoing] = []
            for row in await repo.claim_pending(now, self.batch_size):
                out = Outgoing(row.entry, row.message, row.channel)
                # The agency and AMQP offices are served by the broker; the others by their mailbox.
                channel = out.channel or DeliveryChannel.AMQP.value
                uses_broker = self.broker is not None and channel == DeliveryChannel.AMQP.value
                (by_broker if uses_broker else by_mailbox).append(out)

            sent = 0
            if by_broker and self.broker is not None:
                by_broker = await self._opened(session, by_broker)
            if by_broker and self.broker is not None:
                results = await self.broker.send(session, by_broker)
                sent += await self._settle(session, by_broker, results, Status.CONFIRMED, "amqp")
            # The mailboxes last, once the broker has answered: their items' lock
            # (``MessageRepository.settle_sent``) is held from there to the commit, not through the
            # wait for confirms, while the relay's other pass waits to put items of its own.
            if by_mailbox:
                if not repo.settles_in_one_statement:
                    await self.mailbox.send(session, by_mailbox)
                put: list[str | None] = [None] * len(by_mailbox)
                sent += await self._settle(session, by_mailbox, put, Status.DELIVERED, "mailbox")
            return sent

    @staticmethod
    async def _opened(session: AsyncSession, batch: list[Outgoing]) -> list[Outgoing]:
        """The batch with the bytes to publish; a message whose case was erased meanwhile is never
        sent (its outbox row ``erased``)."""
        bodies = await sealing.open_bodies(session, [out.message for out in batch])
        opened, erased = [], []
        for out in batch:
            body = bodies[out.message.id]
            if body is None:
                erased.append(out.entry.id)
            else:
                opened.append(Outgoing(out.entry, out.message, out.channel, body))
        await MessageRepository(session).mark_erased(erased)
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
        repo = MessageRepository(session)
        outbound = Direction.OUTBOUND.value
        await repo.settle_sent(
            [(out.entry.id, out.message.id, out.message.direction == outbound) for out in sent],
            now,
            done,
            mailbox=transport == "mailbox",
        )
        # Counted when decided; a pass rolled back after this (rare) is counted as tried.
        metrics.count_sent(transport, [(out.message.kind, out.entry.created_at) for out in sent], now)
        metrics.RELAY_PUBLISH_FAILURES.labels(transport).inc(len(batch) - len(sent))
        for out, error in zip(batch, results, strict=True):
            if error is not None:
                attempts = out.entry.attempts + 1
                metrics.count_outbound(out.message.kind, transport, "failed")
                await repo.reschedule(out.entry.id, attempts, now + backoff(attempts), error[:1000])
                log.warning("outbox_send_failed", outbox_id=out.entry.id, attempts=attempts, error=error)
        return len(sent)

    async def drain(self) -> int:
        """Sends every due row, ``passes`` batches at a time; how many were sent."""

        async def one_pass() -> int:
            sent = 0
            while moved := await self.run_once():
                sent += moved
            return sent

        return sum(await asyncio.gather(*(one_pass() for _ in range(self.passes))))

    async def run_forever(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(self._run_pass(stop) for _ in range(self.passes)))

    async def _run_pass(self, stop: asyncio.Event) -> None:
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
