"""The hub's RabbitMQ topology: exchange and queue names, queue arguments, declaration, definitions.

One description (:func:`topology`) feeds both the live declaration (:func:`declare_topology`, run
by the hub at start and by :func:`declare_office_queue` when an office is added) and the
definitions document an operator loads into a fresh broker (:func:`definitions`, checked in as
``deploy/rabbitmq/definitions.json``), so the two cannot disagree.

Every work queue is a quorum queue (replicated, durable) with a dead-letter exchange and a
delivery limit: a message whose consumer keeps failing is moved to ``hub.dead`` with its reason
(``x-death``) instead of looping forever or blocking the queue. ``hub.inbound``, which the hub
consumes, has no ``x-delivery-limit``: the hub's consumer counts and dead-letters itself
(``adapters.amqp.consumer.Limits``, ADR 0021), because RabbitMQ 3.x also counts the returns of a
consumer that died, and a crash-looping worker would make the queue dead-letter healthy messages.

Dead-lettering is at-least-once (the source queue keeps the message until ``hub.dead`` has
confirmed it), which RabbitMQ only allows with ``x-overflow=reject-publish``: a full queue refuses
new messages (the publisher gets a nack and retries later) rather than silently dropping the oldest.

Regenerate the checked-in document after a change here::

    python -m adapters.amqp.topology > deploy/rabbitmq/definitions.json
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aio_pika.abc import AbstractChannel, ExchangeType

OUTBOUND_EXCHANGE = "hub.outbound"
"""Direct: the relay publishes mandates and acknowledgements here with ``office.<code>``."""
INBOUND_EXCHANGE = "hub.inbound"
"""Direct: offices publish their act reports here with :data:`INBOUND_ROUTING_KEY`."""
AGENCY_EXCHANGE = "hub.agency"
"""Topic: events for the agency (routing keys like ``act_report.received``)."""
DEAD_LETTER_EXCHANGE = "hub.dead"
"""Fanout: dead-lettered messages keep their original routing key, so a fanout catches all."""

INBOUND_QUEUE = "hub.inbound"
INBOUND_ROUTING_KEY = "hub.inbound"
AGENCY_QUEUE = "agency.events"
AGENCY_BINDING_KEY = "#"
DEAD_LETTER_QUEUE = "hub.dead"

DEFAULT_DELIVERY_LIMIT = 5
DEFAULT_VHOST = "/"

# The same rule as the offices module (2-16 capital letters or digits): a code is part of a
# queue name and a routing key, so nothing else may reach the broker.
OFFICE_CODE = re.compile(r"^[A-Z0-9]{2,16}$")

SAMPLE_OFFICE_CODES = ("CJ13001", "CJ69001", "CJ75001")
"""The offices of the checked-in ``deploy/rabbitmq/definitions.json`` (a sample to copy from)."""


def office_queue(code: str) -> str:
    """Queue (and routing key on ``hub.outbound``) of one office: ``office.<code>``."""
    if not OFFICE_CODE.match(code):
        raise ValueError(f"invalid office code {code!r}: use 2-16 capital letters or digits")
    return f"office.{code}"


def office_routing_key(code: str) -> str:
    return office_queue(code)


def quorum_queue_arguments(*, delivery_limit: int | None = DEFAULT_DELIVERY_LIMIT) -> dict[str, Any]:
    """Arguments of every work queue. Queue arguments are fixed at creation: changing them later
    needs a new queue (or a policy), so choose ``delivery_limit`` before the first deployment.
    ``None``: no broker limit, the queue's consumer dead-letters by rejecting (``hub.inbound``)."""
    if delivery_limit is not None and delivery_limit < 1:
        raise ValueError("delivery_limit must be at least 1")
    arguments: dict[str, Any] = {
        "x-queue-type": "quorum",
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }
    if delivery_limit is not None:
        arguments["x-delivery-limit"] = delivery_limit
    return arguments


# hub.dead itself has no dead-letter exchange and no delivery limit: a delivery limit without a
# dead-letter exchange would drop the message, and hub.dead is where messages must stay.
DEAD_LETTER_QUEUE_ARGUMENTS: dict[str, Any] = {"x-queue-type": "quorum"}


@dataclass(frozen=True)
class Exchange:
    name: str
    type: ExchangeType


@dataclass(frozen=True)
class Queue:
    name: str
    arguments: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class Binding:
    exchange: str
    queue: str
    routing_key: str


@dataclass(frozen=True)
class Topology:
    exchanges: tuple[Exchange, ...]
    queues: tuple[Queue, ...]
    bindings: tuple[Binding, ...]


EXCHANGES = (
    Exchange(OUTBOUND_EXCHANGE, ExchangeType.DIRECT),
    Exchange(INBOUND_EXCHANGE, ExchangeType.DIRECT),
    Exchange(AGENCY_EXCHANGE, ExchangeType.TOPIC),
    Exchange(DEAD_LETTER_EXCHANGE, ExchangeType.FANOUT),
)


def _office_part(code: str, delivery_limit: int) -> tuple[Queue, Binding]:
    name = office_queue(code)
    return (
        Queue(name, quorum_queue_arguments(delivery_limit=delivery_limit)),
        Binding(OUTBOUND_EXCHANGE, name, office_routing_key(code)),
    )


def topology(office_codes: Iterable[str], *, delivery_limit: int = DEFAULT_DELIVERY_LIMIT) -> Topology:
    """Everything the hub needs on the broker, offices sorted by code (a stable document).
    ``delivery_limit``: of the queues other parties consume (the offices', ``agency.events``)."""
    work = quorum_queue_arguments(delivery_limit=delivery_limit)
    queues = [
        Queue(DEAD_LETTER_QUEUE, dict(DEAD_LETTER_QUEUE_ARGUMENTS)),
        Queue(INBOUND_QUEUE, quorum_queue_arguments(delivery_limit=None)),
        Queue(AGENCY_QUEUE, dict(work)),
    ]
    bindings = [
        Binding(DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE, ""),
        Binding(INBOUND_EXCHANGE, INBOUND_QUEUE, INBOUND_ROUTING_KEY),
        Binding(AGENCY_EXCHANGE, AGENCY_QUEUE, AGENCY_BINDING_KEY),
    ]
    for code in sorted(set(office_codes)):
        queue, binding = _office_part(code, delivery_limit)
        queues.append(queue)
        bindings.append(binding)
    return Topology(EXCHANGES, tuple(queues), tuple(bindings))


async def _declare(channel: AbstractChannel, part: Topology) -> None:
    for exchange in part.exchanges:
        await channel.declare_exchange(exchange.name, exchange.type, durable=True)
    declared = {
        queue.name: await channel.declare_queue(queue.name, durable=True, arguments=queue.arguments)
        for queue in part.queues
    }
    for binding in part.bindings:
        # Bound through the declared queue object: a robust channel re-binds it after a reconnect.
        await declared[binding.queue].bind(binding.exchange, binding.routing_key)


async def declare_topology(
    channel: AbstractChannel,
    office_codes: Iterable[str],
    *,
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
) -> None:
    """Declares every exchange, queue and binding; idempotent with the same arguments.

    Raises ``aio_pika.exceptions.ChannelPreconditionFailed`` (and the channel is closed) when a
    queue already exists with other arguments, e.g. another ``delivery_limit``.
    """
    await _declare(channel, topology(office_codes, delivery_limit=delivery_limit))


async def declare_office_queue(
    channel: AbstractChannel,
    code: str,
    *,
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
) -> str:
    """Declares the outbound exchange and one office's queue and binding (an office was added).

    Idempotent; returns the queue name.
    """
    queue, binding = _office_part(code, delivery_limit)
    outbound = next(e for e in EXCHANGES if e.name == OUTBOUND_EXCHANGE)
    await _declare(channel, Topology((outbound,), (queue,), (binding,)))
    return queue.name


def definitions(
    office_codes: Iterable[str],
    *,
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
    vhost: str = DEFAULT_VHOST,
) -> dict[str, Any]:
    """A RabbitMQ definitions document (``rabbitmqctl import_definitions`` or ``load_definitions``).

    Shaped exactly like ``rabbitmqctl export_definitions`` of RabbitMQ 3.10 prints these objects,
    so a test can compare the broker's export with it.

    No policy is needed: every setting is a queue argument, which a policy could not override
    for the keys that matter here (queue type) and which stays visible on the queue itself.
    """
    part = topology(office_codes, delivery_limit=delivery_limit)
    return {
        "vhosts": [{"name": vhost}],
        "exchanges": [
            {
                "name": e.name,
                "vhost": vhost,
                "type": e.type.value,
                "durable": True,
                "auto_delete": False,
                "arguments": {},
            }
            for e in part.exchanges
        ],
        "queues": [
            {
                "name": q.name,
                "vhost": vhost,
                "type": q.arguments["x-queue-type"],
                "durable": True,
                "auto_delete": False,
                "arguments": dict(q.arguments),
            }
            for q in part.queues
        ],
        "bindings": [
            {
                "source": b.exchange,
                "vhost": vhost,
                "destination": b.queue,
                "destination_type": "queue",
                "routing_key": b.routing_key,
                "arguments": {},
            }
            for b in part.bindings
        ],
    }


def render_definitions(office_codes: Iterable[str] = SAMPLE_OFFICE_CODES, **kwargs: Any) -> str:
    """The exact text of ``deploy/rabbitmq/definitions.json`` (stable order, final newline)."""
    return json.dumps(definitions(office_codes, **kwargs), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> None:
    """``python -m adapters.amqp.topology [CODE ...]``: prints the definitions document."""
    sys.stdout.write(render_definitions(argv or SAMPLE_OFFICE_CODES))


if __name__ == "__main__":
    main(sys.argv[1:])
