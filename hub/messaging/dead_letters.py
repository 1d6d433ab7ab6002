"""Operators' view of ``hub.dead``: list what is there and why, and requeue, which runs each
message through the inbound path again as its original office (the AMQP user it was sent with)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from adapters.amqp.connection import connect
from hub.database import unit_of_work
from hub.messaging.inbound import InboundProcessor, Received
from hub.offices.repository import OfficeRepository


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    sender: str | None
    reason: str
    detail: str
    size: int


def describe(message: AbstractIncomingMessage) -> DeadLetter:
    headers: dict[str, Any] = dict(message.headers or {})
    deaths = headers.get("x-death") or []
    first_death = deaths[0] if isinstance(deaths, list) and deaths else {}
    reason = str(
        headers.get("x-hub-reason") or (first_death.get("reason") if isinstance(first_death, dict) else "")
    )
    sender = headers.get("x-hub-sender") or message.user_id
    return DeadLetter(
        message_id=message.message_id,
        sender=str(sender) if sender else None,
        reason=reason or "unknown",
        detail=str(headers.get("x-hub-detail") or ""),
        size=len(message.body),
    )


async def _take(url: str, limit: int) -> tuple[Any, list[AbstractIncomingMessage]]:
    connection = await connect(url, name="hub-dead-letters")
    channel = await connection.channel()
    queue = await channel.declare_queue(topology.DEAD_LETTER_QUEUE, passive=True)
    taken: list[AbstractIncomingMessage] = []
    while len(taken) < limit:
        message = await queue.get(no_ack=False, fail=False)
        if message is None:
            break
        taken.append(message)
    return connection, taken


async def list_dead_letters(url: str, *, limit: int = 100) -> list[DeadLetter]:
    """Looks without taking: every message read is put back."""
    connection, taken = await _take(url, limit)
    try:
        return [describe(m) for m in taken]
    finally:
        for message in taken:
            await message.nack(requeue=True)
        await connection.close()


async def requeue_dead_letters(
    url: str, sessions: async_sessionmaker[AsyncSession], processor: InboundProcessor, *, limit: int = 100
) -> list[tuple[DeadLetter, str]]:
    """Each message again through the inbound path, as its sender; acked from hub.dead once its
    outcome is committed. A message whose sender is not an office stays where it is."""
    connection, taken = await _take(url, limit)
    results: list[tuple[DeadLetter, str]] = []
    try:
        for message in taken:
            letter = describe(message)
            async with unit_of_work(sessions) as session:
                office = await OfficeRepository(session).get_by_code(letter.sender) if letter.sender else None
                if office is not None:
                    received = Received(message.body, message.content_type or "application/xml")
                    outcome = await processor.receive(session, office, received, reply_receipt=True)
                    verdict = (
                        "duplicate" if outcome.duplicate else ("accepted" if outcome.accepted else "refused")
                    )
            if office is None:
                await message.nack(requeue=True)
                results.append((letter, "kept: sender is not a registered office"))
            else:
                await message.ack()
                results.append((letter, verdict))
    finally:
        await connection.close()
    return results
