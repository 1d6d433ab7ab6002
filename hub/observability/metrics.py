"""The hub's Prometheus metrics, every series defined here, served on ``/metrics`` (hub/health.py).

Two kinds:
- counters of what a process did (the relay's sends and failures, the webhook pushes by outcome),
  incremented where it happens; they start at zero with every label value, so an alert on
  ``increase(...)`` sees a series from the first scrape;
- the backlog (outbox depth and oldest pending age, messages in ``hub.dead``), read from the
  database and the broker when Prometheus scrapes, by every role: a stuck or dead relay still
  shows as a growing age on the API's scrapes. Alert rules take the ``max`` over instances.

The series live in the hub's own registry (:data:`REGISTRY`, with the process, platform and GC
collectors), not prometheus-client's global one. Each process (each ``hub serve`` worker) counts
its own; deploy/prometheus/alerts.yml names only series defined here (tests/deploy checks it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import structlog
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from adapters.amqp.topology import DEAD_LETTER_QUEUE
from hub.broker import Broker
from hub.database import READ_ONLY
from hub.kit.clock import utcnow
from hub.messaging.repository import MessageRepository

log = structlog.get_logger()
REGISTRY = CollectorRegistry()
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)
SCRAPE_READ_TIMEOUT_S = 3.0

# The relay (hub/messaging/relay.py). ``transport``: "amqp" (RabbitMQ, publisher confirms) or
# "mailbox" (an office's pull inbox or webhook queue, in the relay's own transaction).
TRANSPORTS = ("amqp", "mailbox")
RELAY_SENT = Counter(
    "hub_relay_sent",
    "Outbox messages the relay handed to a transport and saw confirmed",
    ["transport"],
    registry=REGISTRY,
)
RELAY_PUBLISH_FAILURES = Counter(
    "hub_relay_publish_failures",
    "Outbox messages a transport did not confirm (nacked, returned, timed out, not connected); "
    "each is retried with backoff",
    ["transport"],
    registry=REGISTRY,
)
RELAY_ERRORS = Counter(
    "hub_relay_errors",
    "Relay passes that failed as a whole (database or broker error); the relay tries again",
    registry=REGISTRY,
)

# The webhook pusher (hub/messaging/webhooks.py): one count per push attempt, by what came of it.
WEBHOOK_OUTCOMES = ("delivered", "failed", "given_up", "gone")
"""delivered: 2xx; failed: another answer or none, retried later; given_up: failed for the last
time (the message stays in the pull inbox); gone: 410, the office's endpoint is disabled."""
WEBHOOK_DELIVERIES = Counter(
    "hub_webhook_deliveries",
    "Webhook push attempts to offices, by outcome (delivered, failed, given_up, gone)",
    ["outcome"],
    registry=REGISTRY,
)

for _transport in TRANSPORTS:
    RELAY_SENT.labels(_transport)
    RELAY_PUBLISH_FAILURES.labels(_transport)
for _outcome in WEBHOOK_OUTCOMES:
    WEBHOOK_DELIVERIES.labels(_outcome)


@dataclass(frozen=True)
class Backlog:
    outbox_pending: int
    oldest_pending_age_s: float
    dead_letters: int | None
    """None when the hub runs without a broker, or the broker did not answer."""


class BacklogCollector(Collector):
    """The backlog as last read by :func:`read_backlog` (the scrape's handler reads it first)."""

    def __init__(self) -> None:
        self.backlog: Backlog | None = None
        self.broker_configured = False

    def collect(self) -> Iterator[GaugeMetricFamily]:
        backlog = self.backlog
        pending = GaugeMetricFamily(
            "hub_outbox_pending", "Outbox messages not sent yet (due or waiting for a retry)"
        )
        age = GaugeMetricFamily(
            "hub_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox message not sent yet; 0 when the outbox is empty",
        )
        if backlog is not None:
            pending.add_metric([], backlog.outbox_pending)
            age.add_metric([], backlog.oldest_pending_age_s)
        yield pending
        yield age
        if self.broker_configured:
            dead = GaugeMetricFamily(
                "hub_dead_letters", f"Messages waiting in the dead-letter queue {DEAD_LETTER_QUEUE}"
            )
            if backlog is not None and backlog.dead_letters is not None:
                dead.add_metric([], backlog.dead_letters)
            yield dead


BACKLOG = BacklogCollector()
REGISTRY.register(BACKLOG)


async def read_backlog(engine: AsyncEngine, broker: Broker | None) -> None:
    """Reads the outbox (two walks of its pending rows' index) and ``hub.dead``'s depth into
    :data:`BACKLOG`. A database that does not answer within 3 s leaves the outbox series without a
    value for this scrape (``/readyz`` says why) rather than showing a stale backlog; a broker that
    does not answer, the dead letters."""
    BACKLOG.broker_configured = broker is not None
    try:
        async with asyncio.timeout(SCRAPE_READ_TIMEOUT_S):
            async with AsyncSession(engine.execution_options(**READ_ONLY)) as session:
                pending, oldest = await MessageRepository(session).outbox_backlog()
    except Exception as exc:
        log.warning("metrics_outbox_unreadable", error=f"{type(exc).__name__}: {exc}"[:300])
        BACKLOG.backlog = None
        return
    dead = None
    if broker is not None:
        async with asyncio.timeout(SCRAPE_READ_TIMEOUT_S):
            dead = await broker.queue_depth(DEAD_LETTER_QUEUE)
    age = max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0
    BACKLOG.backlog = Backlog(pending, age, dead)


def render() -> bytes:
    """The text exposition of every series of this process."""
    return generate_latest(REGISTRY)
