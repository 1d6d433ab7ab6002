"""Operators' view of ``hub.dead``: list what is there and why, and requeue, which runs each
message through the inbound path again as its original office (the AMQP user it was sent with).

Who a dead letter came from is never read from a header an office could have written:
- the broker moved it here from ``hub.inbound`` (``x-death``, e.g. its delivery limit): the AMQP
  ``user-id`` property, which RabbitMQ validated against the office's connection when it was
  published (the office's own headers travel with it and prove nothing);
- the hub put it here itself (an unknown sender, an unreadable body), through its outbox: offices
  cannot write to ``hub.dead``, so the ``x-hub-*`` headers are the hub's, and ``x-hub-user-id``
  keeps the AMQP user the message came with (an office unknown then may be registered since).
A message that died in another queue (one the hub sent to an office or the agency) is not an
office's message: requeue leaves it where it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiormq
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.amqp import topology
from adapters.amqp.connection import connect
from hub.database import unit_of_work
from hub.kit.errors import HubError
from hub.messaging.inbound import InboundProcessor, Received
from hub.offices.repository import OfficeRepository

# Headers of the dead letters the hub publishes itself (``hub.messaging.amqp.dead_letter``).
REASON_HEADER = "x-hub-reason"
DETAIL_HEADER = "x-hub-detail"
SENDER_HEADER = "x-hub-sender"
USER_HEADER = "x-hub-user-id"
# Letters of unknown senders kept before ``x-hub-user-id`` existed name the user in their detail.
_USER_IN_DETAIL = re.compile(r"^AMQP user '([^']+)' is not a registered office")
_NOT_AN_OFFICE = frozenset({"UNKNOWN", "AGENCY", "HUB", "DEADLETTER"})


class DeadLettersUnavailable(HubError):
    """The broker cannot be reached, or has no ``hub.dead`` queue."""

    status = 503
    code = "dead_letters.unavailable"
    title = "Dead letters unavailable"


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    sender: str | None
    """The AMQP user (an office's code) the message was sent with: requeue applies it as this
    office. None when it is not an office's message, or the user is not known."""
    reason: str
    detail: str
    size: int


def _deaths(headers: dict[str, Any]) -> list[dict[str, Any]]:
    deaths = headers.get("x-death")
    return [d for d in deaths if isinstance(d, dict)] if isinstance(deaths, list) else []


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def sender_of(message: AbstractIncomingMessage) -> str | None:
    """The original AMQP user of a dead letter, from what an office cannot forge (module doc)."""
    headers: dict[str, Any] = dict(message.headers or {})
    if deaths := _deaths(headers):
        if any(_text(d.get("queue")) != topology.INBOUND_QUEUE for d in deaths):
            return None
        return message.user_id or None
    user = _text(headers.get(USER_HEADER))
    if not user and (named := _USER_IN_DETAIL.match(_text(headers.get(DETAIL_HEADER)))):
        user = named.group(1)
    if not user:
        user = _text(headers.get(SENDER_HEADER))
    return user if user and user not in _NOT_AN_OFFICE else None


def describe(message: AbstractIncomingMessage) -> DeadLetter:
    headers: dict[str, Any] = dict(message.headers or {})
    deaths = _deaths(headers)
    reason = _text(headers.get(REASON_HEADER)) or (_text(deaths[0].get("reason")) if deaths else "")
    return DeadLetter(
        message_id=message.message_id,
        sender=sender_of(message),
        reason=reason or "unknown",
        detail=_text(headers.get(DETAIL_HEADER)),
        size=len(message.body),
    )


# How far into hub.dead a requeue reads: the letters it must keep are held (unacknowledged) until it
# ends, so that the next one read is the next in the queue, not a kept one back again.
MAX_WALK = 1_000
KEPT = "kept: "  # how the verdict of a letter left in hub.dead begins (the reason follows)


@dataclass(frozen=True)
class DeadLetterPage:
    letters: list[DeadLetter]  # the first ones
    total: int  # messages in hub.dead when it was read


async def _open(url: str) -> tuple[Any, AbstractQueue, int]:
    """A connection, hub.dead and how many messages it holds."""
    try:
        connection = await connect(url, name="hub-dead-letters")
    except (OSError, aiormq.exceptions.AMQPError) as exc:
        raise DeadLettersUnavailable(f"cannot reach the broker at HUB_AMQP_URL: {exc}") from exc
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(topology.DEAD_LETTER_QUEUE, passive=True)
    except aiormq.exceptions.ChannelNotFoundEntity as exc:
        await connection.close()
        raise DeadLettersUnavailable(
            f"the broker has no queue {topology.DEAD_LETTER_QUEUE}: start the hub once with HUB_AMQP_URL "
            "to declare its topology"
        ) from exc
    declared = queue.declaration_result
    return connection, queue, declared.message_count or 0


async def _take(queue: AbstractQueue, limit: int) -> list[AbstractIncomingMessage]:
    """Up to ``limit`` messages, each held (unacknowledged) until it is acked or put back."""
    taken: list[AbstractIncomingMessage] = []
    while len(taken) < limit:
        message = await queue.get(no_ack=False, fail=False)
        if message is None:
            break
        taken.append(message)
    return taken


async def read_dead_letters(url: str, *, limit: int = 100) -> DeadLetterPage:
    """Looks without taking: the first ``limit`` letters, and how many there are. Every message read
    is put back (RabbitMQ may then hand them out in another order: a second look is no next page)."""
    connection, queue, total = await _open(url)
    taken: list[AbstractIncomingMessage] = []
    try:
        taken = await _take(queue, limit)
        # The queue's count lags behind letters put back an instant ago (a requeue just run): never
        # fewer than the letters read.
        return DeadLetterPage([describe(m) for m in taken], max(total, len(taken)))
    finally:
        for message in taken:
            await message.nack(requeue=True)
        await connection.close()


async def list_dead_letters(url: str, *, limit: int = 100) -> list[DeadLetter]:
    """The first ``limit`` letters of hub.dead, left there."""
    return (await read_dead_letters(url, limit=limit)).letters


async def _requeue_one(
    sessions: async_sessionmaker[AsyncSession],
    processor: InboundProcessor,
    letter: DeadLetter,
    body: bytes,
    content_type: str,
) -> str | None:
    """The verdict of applying one letter as its sender, committed; None: it stays in hub.dead. A
    letter over the body limit was kept without its body: nothing to apply, the office resends."""
    if letter.sender is None or letter.reason == "payload_too_large":
        return None
    async with unit_of_work(sessions) as session:
        office = await OfficeRepository(session).get_by_code(letter.sender)
        if office is None:
            return None
        received = Received(body, content_type, transport="replay")
        outcome = await processor.receive(session, office, received, reply_receipt=True)
    if outcome.duplicate:
        return "duplicate"
    return "accepted" if outcome.accepted else f"refused [{outcome.receipt.errors[0]['code']}]"


async def requeue_dead_letters(
    url: str, sessions: async_sessionmaker[AsyncSession], processor: InboundProcessor, *, limit: int = 100
) -> list[tuple[DeadLetter, str]]:
    """Each message again through the inbound path, as the office whose AMQP user sent it (never
    as the operator or this tool); acked from hub.dead once its outcome is committed. A message
    that is no office's, whose office is still unknown, or whose handling fails, stays there, and
    the walk goes on past it: up to ``limit`` messages are run again, among the first ``MAX_WALK``
    (the ones kept are held meanwhile, then put back in the queue, so letters that cannot be
    applied yet never hide the ones behind them). Returns every letter read, run or kept."""
    # Walked until the queue answers empty, not up to its count: the count lags behind letters put
    # back an instant ago, and a walk bounded by it could read none. A letter kept is held, so it is
    # not handed out twice in one walk.
    connection, queue, _count = await _open(url)
    kept: list[AbstractIncomingMessage] = []
    results: list[tuple[DeadLetter, str]] = []
    run = 0
    try:
        while run < limit and len(results) < MAX_WALK:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            letter = describe(message)
            try:
                verdict = await _requeue_one(
                    sessions, processor, letter, message.body, message.content_type or "application/xml"
                )
            except Exception as exc:  # one letter's failure must not stop the others
                kept.append(message)
                results.append((letter, f"{KEPT}{type(exc).__name__}: {exc}"[:300]))
                continue
            if verdict is None:
                kept.append(message)
                why = (
                    f"AMQP user {letter.sender} is not a registered office"
                    if letter.sender
                    else "not an office's message, or sent with no AMQP user"
                )
                results.append((letter, f"{KEPT}{why}"))
            else:
                await message.ack()
                run += 1
                results.append((letter, verdict))
    finally:
        for message in kept:
            await message.nack(requeue=True)
        await connection.close()
    return results
