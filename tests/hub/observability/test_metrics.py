"""The series of hub/observability/metrics.py move with what the relay and the webhook pusher do,
and the backlog is read from the database at scrape time."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, Histogram
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.broker import Broker
from hub.database import create_engine, session_factory, unit_of_work
from hub.kit.clock import utcnow
from hub.kit.crypto import SecretBox
from hub.messaging.models import MailboxItem, OutboxEntry
from hub.messaging.relay import Outgoing, Relay
from hub.messaging.webhooks import RETRY_DELAYS, WebhookPusher
from hub.observability import metrics
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel
from tests.conftest import database_like
from tests.hub.messaging.test_relay import enqueue

BOX = SecretBox("m" * 40)
DOWN = "http://127.0.0.1:1/down"  # nothing listens on port 1: every push fails


def value(name: str, labels: dict[str, str] | None = None) -> float:
    found = metrics.REGISTRY.get_sample_value(name, labels or {})
    assert found is not None, name
    return found


class FailingTransport:
    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        return ["nack" for _ in batch]


class BrokenTransport:
    """Fails the whole pass, and asks the relay to stop after it."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop

    async def send(self, session: AsyncSession, batch: Sequence[Outgoing]) -> list[str | None]:
        self.stop.set()
        raise ConnectionError("the broker went away mid-batch")


def office_code() -> str:
    return "CJ" + secrets.token_hex(4).upper()


async def test_the_relay_counts_what_it_sent_and_what_the_transport_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    amqp_office, mailbox_office = office_code(), office_code()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=amqp_office, name="É", delivery_channel=DeliveryChannel.AMQP)
        await offices.add_office(session, code=mailbox_office, name="É")
        await enqueue(session, amqp_office, 3)
        await enqueue(session, mailbox_office, 2)
    failed, sent = (
        value("hub_relay_publish_failures_total", {"transport": "amqp"}),
        value("hub_relay_sent_total", {"transport": "mailbox"}),
    )
    while await Relay(sessions, broker=FailingTransport()).run_once():
        pass
    # Other tests' rows may share this database: at least ours were counted.
    assert value("hub_relay_publish_failures_total", {"transport": "amqp"}) - failed >= 3
    assert value("hub_relay_sent_total", {"transport": "mailbox"}) - sent >= 2


def test_observing_many_amounts_at_once_is_observing_each() -> None:
    # Amounts on a bound fall in its bucket (``le``), over the last in +Inf, as ``observe`` has them.
    amounts = [0.0, 0.05, 0.05000001, 0.3, 1.0, 7.5, 4 * 3600, 10**6, 0.1, 0.1]
    one_by_one, together = (
        Histogram("h", "h", ["t"], buckets=metrics.RELAY_LAG._upper_bounds, registry=registry)
        for registry in (CollectorRegistry(), CollectorRegistry())
    )
    for amount in amounts:
        one_by_one.labels("x").observe(amount)
    metrics.observe_many(together.labels("x"), amounts)
    metrics.observe_many(together.labels("x"), [])
    expected = [
        (s.name, s.labels, s.value) for s in one_by_one.collect()[0].samples if "created" not in s.name
    ]
    got = [(s.name, s.labels, s.value) for s in together.collect()[0].samples if "created" not in s.name]
    assert got == expected


def test_a_batch_is_counted_by_kind_with_each_message_lag() -> None:
    def now_counted() -> dict[str, float]:
        sent = {"transport": "amqp", "outcome": "sent"}
        lag = {"transport": "amqp"}
        samples = {
            "mandate": ("hub_messages_out_total", {"kind": "mandate", **sent}),
            "receipt": ("hub_messages_out_total", {"kind": "receipt", **sent}),
            "sent": ("hub_relay_sent_total", lag),
            "count": ("hub_relay_lag_seconds_count", lag),
            "0.25": ("hub_relay_lag_seconds_bucket", {"le": "0.25", **lag}),
            "0.5": ("hub_relay_lag_seconds_bucket", {"le": "0.5", **lag}),
            "sum": ("hub_relay_lag_seconds_sum", lag),
        }
        return {k: metrics.REGISTRY.get_sample_value(*sample) or 0.0 for k, sample in samples.items()}

    now = utcnow()
    # A row written "after" now (another process's clock) lags 0, as ``observe(max(0, lag))`` had it.
    sent = [
        ("mandate", now - timedelta(seconds=0.3)),
        ("receipt", now),
        ("mandate", now + timedelta(seconds=1)),
    ]
    before = now_counted()
    assert metrics.count_sent("amqp", sent, now) == 3
    moved = {k: v - before[k] for k, v in now_counted().items()}
    assert moved == {
        "mandate": 2,
        "receipt": 1,
        "sent": 3,
        "count": 3,
        "0.25": 2,
        "0.5": 3,
        "sum": moved["sum"],
    }
    assert abs(moved["sum"] - 0.3) < 1e-6


async def test_a_relay_pass_that_fails_whole_is_counted(sessions: async_sessionmaker[AsyncSession]) -> None:
    code = office_code()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="É", delivery_channel=DeliveryChannel.AMQP)
        await enqueue(session, code)
    errors = value("hub_relay_errors_total")
    stop = asyncio.Event()
    # One pass: with two in flight (a broker on PostgreSQL), the second fails too when rows other
    # tests left in this database are due.
    await Relay(sessions, broker=BrokenTransport(stop), passes=1).run_forever(stop)
    assert value("hub_relay_errors_total") - errors == 1


async def test_webhook_pushes_are_counted_by_outcome_and_the_last_failure_is_a_give_up(
    committed_database_url: str, tmp_path: Path
) -> None:
    # A database of its own: the pusher pushes every office's due items, and other tests leave some
    # (to endpoints long gone) in the shared one, which the counts would include.
    async with database_like(committed_database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            await _count_webhook_outcomes(session_factory(engine))
        finally:
            await engine.dispose()


async def _count_webhook_outcomes(sessions: async_sessionmaker[AsyncSession]) -> None:
    code = office_code()
    async with unit_of_work(sessions) as session:
        await offices.add_office(session, code=code, name="É")
        await offices.set_webhook(session, BOX, code, DOWN)
        await enqueue(session, code, 2)
    while await Relay(sessions).run_once():
        pass
    failed = value("hub_webhook_deliveries_total", {"outcome": "failed"})
    given_up = value("hub_webhook_deliveries_total", {"outcome": "given_up"})
    async with unit_of_work(sessions) as session:  # one item on its last try, both due now
        ours = MailboxItem.recipient == code
        due = utcnow() - timedelta(seconds=1)
        await session.execute(update(MailboxItem).where(ours).values(next_push_at=due))
        first = await session.scalar(select(func.min(MailboxItem.id)).where(ours))
        await session.execute(
            update(MailboxItem).where(MailboxItem.id == first).values(push_attempts=len(RETRY_DELAYS))
        )
    async with httpx.AsyncClient() as client:
        pusher = WebhookPusher(sessions, BOX, client)
        while await pusher.run_once():
            pass
    assert value("hub_webhook_deliveries_total", {"outcome": "given_up"}) - given_up == 1
    assert value("hub_webhook_deliveries_total", {"outcome": "failed"}) - failed == 1


async def test_the_backlog_is_the_pending_outbox_and_its_oldest_message(
    committed_database_url: str, tmp_path: Path
) -> None:
    async with database_like(committed_database_url, tmp_path) as url:
        engine = create_engine(url)
        try:
            sessions = session_factory(engine)
            await metrics.read_backlog(engine, None)
            assert (value("hub_outbox_pending"), value("hub_outbox_oldest_pending_age_seconds")) == (0, 0)
            code = office_code()
            async with unit_of_work(sessions) as session:
                await offices.add_office(session, code=code, name="É", delivery_channel=DeliveryChannel.AMQP)
                oldest, *_ = await enqueue(session, code, 3)
                await session.execute(
                    update(OutboxEntry)
                    .where(OutboxEntry.id == oldest)
                    .values(created_at=utcnow() - timedelta(hours=1))
                )
            await metrics.read_backlog(engine, None)
            assert value("hub_outbox_pending") == 3
            assert value("hub_outbox_oldest_pending_age_seconds") >= 3600
            assert metrics.REGISTRY.get_sample_value("hub_dead_letters") is None  # no broker, no series
        finally:
            await engine.dispose()


async def test_an_unreachable_broker_leaves_the_dead_letters_without_a_value(
    committed_database_url: str, tmp_path: Path
) -> None:
    async with database_like(committed_database_url, tmp_path) as url:
        engine = create_engine(url)
        broker = Broker("amqp://guest:guest@127.0.0.1:1/")  # never started: not connected
        try:
            await metrics.read_backlog(engine, broker)
            rendered = metrics.render().decode()
            assert "# TYPE hub_dead_letters gauge" in rendered
            assert metrics.REGISTRY.get_sample_value("hub_dead_letters") is None
            assert value("hub_outbox_pending") == 0
        finally:
            await engine.dispose()
