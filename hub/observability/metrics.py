"""The hub's Prometheus metrics, every series defined here, served on ``/metrics`` (hub/health.py).

Three kinds:
- counters of what a process did (the relay's sends and failures, the webhook pushes by outcome),
  incremented where it happens; they start at zero with every label value, so an alert on
  ``increase(...)`` sees a series from the first scrape;
- the backlog (outbox depth and oldest pending age, messages in ``hub.dead``), read from the
  database and the broker when Prometheus scrapes, by every role: a stuck or dead relay still
  shows as a growing age on the API's scrapes. Alert rules take the ``max`` over instances;
- what the hub's traffic is made of (messages in and out by kind, transport and outcome, the errors
  that refused them by code, the relay's lag, the cost flags raised, the ledger postings, the HTTP
  latency by route), counted at the few points every message or request goes through: the inbound
  processor, the relay and the webhook pusher, the ledger's posting function, the HTTP middleware.

Every label takes its values from a finite set written here or in the module that owns it (message
kinds, ledger kinds, flag reasons, route templates, never a raw path, an id or a name): a value
outside it is counted as ``other`` (:func:`bounded`), so no sender can grow the number of series.

The series live in the hub's own registry (:data:`REGISTRY`, with the process, platform and GC
collectors), not prometheus-client's global one. Each process (each ``hub serve`` worker) counts
its own; deploy/prometheus/alerts.yml names only series defined here (tests/deploy checks it).
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import structlog
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from adapters.amqp.topology import DEAD_LETTER_QUEUE
from hub.acts.assessment import BUDGET_OVERRUN, COST_ABOVE_RECOVERY, HOLD_BREACHED
from hub.broker import Broker
from hub.database import READ_ONLY
from hub.kit.clock import utcnow
from hub.ledger.postings import KINDS as LEDGER_KINDS
from hub.messaging.repository import MessageRepository
from schemas import v1

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

OTHER = "other"


def bounded(value: str | None, known: frozenset[str] | tuple[str, ...]) -> str:
    """``value`` as a label when it is one of ``known``, else ``other``."""
    return value if value is not None and value in known else OTHER


# Messages, both ways. ``kind``: a v1 message kind (unreadable ones: ``other``).
KINDS = frozenset(v1.MESSAGE_TYPES)
# How an office's message came in: an HTTP route, the AMQP consumer, a batch file's record, or
# ``hub replay`` / ``hub dead requeue`` (run through the inbound path again).
INBOUND_TRANSPORTS = ("http", "amqp", "batch", "replay")
INBOUND_OUTCOMES = ("accepted", "refused", "duplicate")
MESSAGES_IN = Counter(
    "hub_messages_in",
    "Office messages through the inbound processor, by kind, transport (http, amqp, batch, replay) "
    "and outcome (accepted, refused, duplicate)",
    ["kind", "transport", "outcome"],
    registry=REGISTRY,
)
# How a message went out: the relay's transports (amqp, mailbox), then the webhook pusher's pushes
# from the mailbox. Outcomes: sent (confirmed by the transport), failed (retried later); for
# webhooks those of WEBHOOK_OUTCOMES.
OUTBOUND_TRANSPORTS = ("amqp", "mailbox", "webhook")
MESSAGES_OUT = Counter(
    "hub_messages_out",
    "Messages the hub sent, by kind, transport (amqp, mailbox, webhook) and outcome (sent, failed; "
    "webhook: delivered, failed, given_up, gone)",
    ["kind", "transport", "outcome"],
    registry=REGISTRY,
)
VALIDATION_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,3}")
MAX_ERROR_CODES = 500
_error_codes_seen: set[str] = set()
VALIDATION_ERRORS = Counter(
    "hub_validation_errors",
    "Errors that refused office messages (each error of a refusal), by code",
    ["code"],
    registry=REGISTRY,
)
RELAY_LAG = Histogram(
    "hub_relay_lag_seconds",
    "Seconds from a message's outbox row (its commit) to its confirmed sending, by transport",
    ["transport"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600),
    registry=REGISTRY,
)
# The reasons an accepted act report is flagged for a person (hub/acts/assessment.py).
FLAG_REASONS = (
    COST_ABOVE_RECOVERY,
    BUDGET_OVERRUN,
    HOLD_BREACHED,
    "approval_pending",
    "approval_refused",
    "approval_other_act",
)
FLAGS_RAISED = Counter(
    "hub_act_flags_raised",
    "Reasons act reports were flagged for a person when accepted (cost above recovery, budget "
    "overrun, hold breached, an approval that does not count)",
    ["reason"],
    registry=REGISTRY,
)
LEDGER_POSTINGS = Counter(
    "hub_ledger_postings",
    "Balanced transactions written to the fee ledger (reversals included), by kind",
    ["kind"],
    registry=REGISTRY,
)
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HTTP_DURATION = Histogram(
    "hub_http_request_duration_seconds",
    "HTTP requests served, by method, route template (``unmatched`` when no route took it) and "
    "status class (2xx, 4xx, 5xx...)",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)

for _transport in TRANSPORTS:
    RELAY_SENT.labels(_transport)
    RELAY_PUBLISH_FAILURES.labels(_transport)
for _outcome in WEBHOOK_OUTCOMES:
    WEBHOOK_DELIVERIES.labels(_outcome)
for _reason in FLAG_REASONS:
    FLAGS_RAISED.labels(_reason)
for _kind in LEDGER_KINDS:
    LEDGER_POSTINGS.labels(_kind)


def count_inbound(kind: str, transport: str, outcome: str, error_codes: list[str]) -> None:
    """One office message out of the inbound processor (refused: with the codes of its errors)."""
    MESSAGES_IN.labels(bounded(kind, KINDS), bounded(transport, INBOUND_TRANSPORTS), outcome).inc()
    for code in error_codes:
        VALIDATION_ERRORS.labels(error_code(code)).inc()


def error_code(code: str) -> str:
    """An error's code as a label. Codes are written in the hub's code (``act_report.date_future``,
    ``schema.missing``: pydantic's error types), never taken from input; still, one that does not
    look like a code, or past the first 500 codes seen, is ``other``."""
    if not VALIDATION_ERROR_CODE.fullmatch(code) or len(code) > 80:
        return OTHER
    if code not in _error_codes_seen:
        if len(_error_codes_seen) >= MAX_ERROR_CODES:
            return OTHER
        _error_codes_seen.add(code)
    return code


def count_outbound(kind: str, transport: str, outcome: str, lag_s: float | None = None) -> None:
    """One message handed to a transport (``lag_s``: since its outbox row, when it was sent)."""
    MESSAGES_OUT.labels(bounded(kind, KINDS), transport, outcome).inc()
    if lag_s is not None:
        RELAY_LAG.labels(transport).observe(max(0.0, lag_s))


def count_sent(transport: str, sent: Iterable[tuple[str, datetime]], now: datetime) -> int:
    """``count_outbound`` of a relay batch's sent messages, (kind, when its outbox row was written)
    each, with one label look-up per kind instead of per message and the lags observed together
    (:func:`observe_many`); and ``RELAY_SENT``. How many."""
    kinds: collections.Counter[str] = collections.Counter()
    lags: list[float] = []
    for kind, created_at in sent:
        kinds[kind] += 1
        lags.append(max(0.0, (now - created_at).total_seconds()))
    observe_many(RELAY_LAG.labels(transport), lags)
    for kind, count in kinds.items():
        MESSAGES_OUT.labels(bounded(kind, KINDS), transport, "sent").inc(count)
    RELAY_SENT.labels(transport).inc(len(lags))
    return len(lags)


def observe_many(histogram: Histogram, amounts: Iterable[float]) -> None:
    """``histogram.observe`` of each amount (``histogram``: a child, its labels set), each bucket
    and the sum incremented once for all: ``observe`` takes two locks and walks the buckets per
    amount, a quarter of the relay's own CPU on its batches of 500 (docs/performance.md).
    The bucket is the first whose upper bound is at least the amount, as ``observe`` finds it.
    prometheus-client has no public call for this: it reads the child's bounds and values, which
    ``test_metrics`` checks against ``observe`` one by one."""
    bounds = histogram._upper_bounds
    counts = [0] * len(bounds)
    total = 0.0
    for amount in amounts:
        counts[bisect.bisect_left(bounds, amount)] += 1
        total += amount
    histogram._sum.inc(total)
    for bucket, count in zip(histogram._buckets, counts, strict=True):
        if count:
            bucket.inc(count)


def count_flags(flags: list[dict[str, str]]) -> None:
    """The reasons an accepted act report was flagged (``assessment["flags"]``)."""
    for flag in flags:
        FLAGS_RAISED.labels(bounded(flag.get("code"), FLAG_REASONS)).inc()


def count_posting(kind: str) -> None:
    LEDGER_POSTINGS.labels(bounded(kind, LEDGER_KINDS)).inc()


def observe_request(method: str, route: str, status: int, duration_s: float) -> None:
    """``route``: the template (``/v1/mandates/{mandate_id}``), never the path."""
    status_class = f"{status // 100}xx" if 100 <= status < 600 else OTHER
    HTTP_DURATION.labels(bounded(method, HTTP_METHODS), route, status_class).observe(duration_s)


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
