"""The messaging module on the real RabbitMQ: offices publish on hub.inbound as their own AMQP
user, the hub consumes, commits, then acks; the relay publishes with confirms."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.amqp import topology
from adapters.amqp.connection import connect
from hub.bootstrap import inbound_processor
from hub.broker import Broker
from hub.database import create_engine, unit_of_work
from hub.kit.ratelimit import RateLimiter
from hub.messaging import amqp as amqp_module
from hub.messaging import service
from hub.messaging.amqp import AmqpTransport, InboundConsumer
from hub.messaging.dead_letters import KEPT, list_dead_letters, read_dead_letters, requeue_dead_letters
from hub.messaging.inbound import Received
from hub.messaging.models import InboxEntry, OutboxEntry, StoredMessage
from hub.messaging.relay import Relay
from hub.messaging.service import Envelope
from hub.messaging.signing import ReceiptSigner
from hub.offices import service as offices
from hub.offices.models import DeliveryChannel
from hub.offices.repository import OfficeRepository
from schemas.v1 import SAMPLES_DIR
from tests.conftest import database_like, eventually, rabbitmqctl

pytestmark = pytest.mark.rabbitmq
SAMPLE = (SAMPLES_DIR / "valid" / "act_report.xml").read_text()


def act_report(code: str, message_id: str) -> bytes:
    return SAMPLE.replace("CJ75001-2026-000123", message_id).replace("CJ75001", code).encode()


@pytest.fixture
def office_code(vhost: str) -> Any:
    """An office with an AMQP user of its own, allowed to write hub.inbound and read its queue."""
    code = "CJ" + secrets.token_hex(4).upper()
    rabbitmqctl("add_user", code, "office-secret")
    rabbitmqctl(
        "set_permissions", "-p", vhost, code, "^$", f"^{topology.INBOUND_EXCHANGE}$", f"^office\\.{code}$"
    )
    yield code
    rabbitmqctl("delete_user", code)


# The relay sends every pending row of its database. Rows other modules left for offices that
# have no queue in this run's virtual host would come back unroutable, ahead of this module's own.
@pytest.fixture(scope="module")
async def committed_database_url(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    async with database_like(database_url, tmp_path_factory.mktemp("amqp")) as url:
        yield url


@pytest.fixture(scope="module")
async def committed_engine(committed_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(committed_database_url)
    yield engine
    await engine.dispose()


def as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    return f"amqp://{user}:office-secret@{parts.hostname}:{parts.port}{parts.path}"


class Hub:
    def __init__(self, broker: Broker, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.broker = broker
        self.sessions = sessions
        self.processor = inbound_processor(ReceiptSigner("k" * 40))
        self.consumer = InboundConsumer(broker, sessions, self.processor)
        self.relay = Relay(sessions, broker=AmqpTransport(broker), idle_sleep_s=0.05)

    async def drain(self) -> None:
        while await self.relay.run_once():
            pass


@pytest.fixture
async def hub(
    vhost_url: str, sessions: async_sessionmaker[AsyncSession], office_code: str
) -> AsyncIterator[Hub]:
    async with unit_of_work(sessions) as session:
        await offices.add_office(
            session, code=office_code, name="Étude", delivery_channel=DeliveryChannel.AMQP
        )
    broker = Broker(vhost_url, [office_code])
    await broker.start()
    async with asyncio.timeout(30):
        await broker.ready()
    hub = Hub(broker, sessions)
    await hub.consumer.start()
    yield hub
    await hub.consumer.stop()
    await broker.stop()


async def publish_as_office(
    vhost_url: str,
    code: str,
    body: bytes,
    *,
    user_id: str | None = None,
    content_type: str = "application/xml",
) -> None:
    connection = await connect(as_user(vhost_url, code) if user_id != "guest" else vhost_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(topology.INBOUND_EXCHANGE, ensure=False)
        message = aio_pika.Message(
            body, content_type=content_type, user_id=user_id or code, message_id=secrets.token_hex(8)
        )
        await exchange.publish(message, topology.INBOUND_ROUTING_KEY)


async def collect(
    vhost_url: str, queue: str, into: list[AbstractIncomingMessage]
) -> aio_pika.abc.AbstractRobustConnection:
    connection = await connect(vhost_url)
    channel = await connection.channel()

    async def keep(message: AbstractIncomingMessage) -> None:
        into.append(message)
        await message.ack()

    await (await channel.declare_queue(queue, passive=True)).consume(keep)
    return connection


async def count(sessions: async_sessionmaker[AsyncSession], query: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(query) or 0)


async def until_count(
    sessions: async_sessionmaker[AsyncSession], query: Any, at_least: int, within: float = 30
) -> None:
    """Waits for committed rows (a liveness bound, not a timing assertion)."""
    async with asyncio.timeout(within):
        while await count(sessions, query) < at_least:  # noqa: ASYNC110 - polls the database
            await asyncio.sleep(0.05)


async def test_an_office_message_is_applied_receipted_and_routed(
    hub: Hub, vhost_url: str, office_code: str
) -> None:
    to_office: list[AbstractIncomingMessage] = []
    to_agency: list[AbstractIncomingMessage] = []
    listeners = [
        await collect(vhost_url, topology.office_queue(office_code), to_office),
        await collect(vhost_url, topology.AGENCY_QUEUE, to_agency),
    ]
    message_id = f"CR-{secrets.token_hex(4)}"
    await publish_as_office(vhost_url, office_code, act_report(office_code, message_id))

    applied = select(func.count()).select_from(InboxEntry).where(InboxEntry.message_id == message_id)
    await until_count(hub.sessions, applied, 1)
    await hub.drain()
    await eventually(lambda: len(to_office) == 1 and len(to_agency) == 1)

    [receipt] = to_office
    assert receipt.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert b"<receipt" in receipt.body and b"<accepted>true</accepted>" in receipt.body
    outbox_ids = await count(
        hub.sessions,
        select(func.count()).select_from(OutboxEntry).where(OutboxEntry.id == int(receipt.message_id or 0)),
    )
    assert outbox_ids == 1, "the AMQP message id is the outbox id"
    # The properties schemas/asyncapi.yaml lists: type and x-hub-kind the kind, the envelope's sender.
    assert (receipt.type, receipt.headers["x-hub-kind"], receipt.headers["x-hub-sender"]) == (
        "receipt",
        "receipt",
        "AGENCY",
    )
    [forwarded] = to_agency
    assert forwarded.routing_key == "act_report.received"
    assert forwarded.headers["x-hub-message-id"] == message_id
    assert (forwarded.type, forwarded.headers["x-hub-sender"]) == ("act_report", office_code)
    for connection in listeners:
        await connection.close()


async def test_messages_beyond_the_rate_are_refused_unread_with_a_receipt(
    vhost_url: str, sessions: async_sessionmaker[AsyncSession], office_code: str
) -> None:
    """Over AMQP the rate of the HTTP routes holds per AMQP user: beyond it a message is refused as
    HTTP answers 429, unread and unstored, and the office gets a signed negative receipt
    (``rate_limited``) to send it again; waiting instead would hold the one inbound queue up for
    every office."""
    async with unit_of_work(sessions) as session:
        await offices.add_office(
            session, code=office_code, name="Étude", delivery_channel=DeliveryChannel.AMQP
        )
    broker = Broker(vhost_url, [office_code])
    await broker.start()
    consumer = InboundConsumer(
        broker, sessions, inbound_processor(ReceiptSigner("k" * 40)), RateLimiter(rate=0.01, burst=2)
    )
    await consumer.start()
    to_office: list[AbstractIncomingMessage] = []
    listener = await collect(vhost_url, topology.office_queue(office_code), to_office)
    try:
        ids = [f"CR-{secrets.token_hex(4)}" for _ in range(5)]
        for message_id in ids:
            await publish_as_office(vhost_url, office_code, act_report(office_code, message_id))
        from_office = (
            select(func.count())
            .select_from(StoredMessage)
            .where(StoredMessage.sender == office_code, StoredMessage.direction == "inbound")
        )
        await until_count(sessions, from_office, 2)
        refusals = select(func.count()).select_from(OutboxEntry).where(OutboxEntry.recipient == office_code)
        await until_count(sessions, refusals, 2 + 3 * 2)  # two receipts; a receipt and a report each
        hub = Hub(broker, sessions)
        await hub.drain()
        await eventually(lambda: len(to_office) == 8)
    finally:
        await listener.close()
        await consumer.stop()
        await broker.stop()
    applied = select(func.count()).select_from(InboxEntry).where(InboxEntry.message_id.in_(ids))
    assert await count(sessions, applied) == 2  # the burst of two
    assert await count(sessions, from_office) == 2  # the refused ones are not stored
    limited = [m for m in to_office if b"rate_limited" in m.body]
    assert len(limited) == 6 and sum(b"<receipt" in m.body for m in limited) == 3


async def test_an_unknown_sender_is_dead_lettered_with_the_reason(hub: Hub, vhost_url: str) -> None:
    dead: list[AbstractIncomingMessage] = []
    listener = await collect(vhost_url, topology.DEAD_LETTER_QUEUE, dead)
    await publish_as_office(vhost_url, "guest", act_report("CJ75001", "CR-guest"), user_id="guest")
    pending = select(func.count()).select_from(StoredMessage).where(StoredMessage.kind == "dead_letter")
    await until_count(hub.sessions, pending, 1)
    await hub.drain()
    await eventually(lambda: len(dead) == 1)
    assert dead[0].headers["x-hub-reason"] == "sender.unknown"
    assert "guest" in str(dead[0].headers["x-hub-detail"])
    await listener.close()


async def test_an_unroutable_message_stays_pending(hub: Hub) -> None:
    async with unit_of_work(hub.sessions) as session:
        envelope = Envelope(f"M-{secrets.token_hex(4)}", "mandate", "AGENCY", "NOBODY")
        entry = await service.enqueue_outbound(
            session,
            envelope,
            b"<m/>",
            "application/xml",
            exchange="hub.outbound",
            routing_key="office.NOBODY",
        )
    await hub.relay.run_once()
    async with hub.sessions() as session:
        stored = await session.get(OutboxEntry, entry.id)
        assert stored is not None and stored.status == "pending" and stored.sent_at is None
        assert (stored.last_error or "").startswith("returned")


async def test_a_redelivery_after_commit_has_no_second_effect(
    hub: Hub, vhost_url: str, office_code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consumer dies between its commit and its ack: the broker redelivers, the inbox drops it."""
    real = hub.consumer.handle
    calls = 0

    async def commit_then_crash(delivery: Any) -> None:
        nonlocal calls
        calls += 1
        await real(delivery)
        if calls == 1:
            raise RuntimeError("crash after commit, before ack")

    monkeypatch.setattr(hub.consumer, "handle", commit_then_crash)
    await hub.consumer.stop()
    await hub.consumer.start()
    message_id = f"CR-{secrets.token_hex(4)}"
    await publish_as_office(vhost_url, office_code, act_report(office_code, message_id))
    await eventually(lambda: calls >= 2)
    await hub.drain()
    forwarded = (  # the forward to the agency: an outbox row pointing at the stored inbound message
        select(func.count())
        .select_from(OutboxEntry)
        .join(StoredMessage, StoredMessage.id == OutboxEntry.message_pk)
        .where(
            StoredMessage.message_id == message_id,
            StoredMessage.kind == "act_report",
            StoredMessage.direction == "inbound",
            OutboxEntry.routing_key == "act_report.received",
        )
    )
    assert await count(hub.sessions, forwarded) == 1
    applied = select(func.count()).select_from(InboxEntry).where(InboxEntry.message_id == message_id)
    assert await count(hub.sessions, applied) == 1


async def test_a_poison_message_reaches_hub_dead_while_others_flow(
    hub: Hub, vhost_url: str, office_code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = hub.processor.receive

    async def poisoned(session: AsyncSession, office: Any, received: Any, **kwargs: Any) -> Any:
        if b"POISON" in received.raw:
            raise RuntimeError("a bug the hub cannot get past")
        return await real(session, office, received, **kwargs)

    monkeypatch.setattr(hub.processor, "receive", poisoned)
    dead: list[AbstractIncomingMessage] = []
    listener = await collect(vhost_url, topology.DEAD_LETTER_QUEUE, dead)
    await publish_as_office(vhost_url, office_code, act_report(office_code, "POISON-1"))
    good = [f"CR-{secrets.token_hex(4)}" for _ in range(5)]
    for message_id in good:
        await publish_as_office(vhost_url, office_code, act_report(office_code, message_id))

    applied = select(func.count()).select_from(InboxEntry).where(InboxEntry.message_id.in_(good))
    await until_count(hub.sessions, applied, len(good), within=60)
    await eventually(lambda: len(dead) == 1, within=60)
    deaths = dead[0].headers["x-death"]
    # Rejected by the hub's consumer after its retries: hub.inbound has no broker limit (ADR 0021).
    assert deaths[0]["reason"] == "rejected"  # type: ignore[index]
    assert b"POISON-1" in dead[0].body
    await listener.close()


async def test_a_database_outage_holds_the_messages_in_flight_instead_of_dead_lettering_them(
    hub: Hub, vhost_url: str, office_code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refusing connections for longer than a message's redeliveries would last: the
    consumer holds the message and tries again, and it is applied once the database is back."""
    monkeypatch.setattr(amqp_module, "DATABASE_RETRY_S", (0.02, 0.1))
    real = hub.processor.receive
    refused = 0

    async def down_a_while(*args: Any, **kwargs: Any) -> Any:
        nonlocal refused
        if refused < 3 * topology.DEFAULT_DELIVERY_LIMIT:
            refused += 1
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
        return await real(*args, **kwargs)

    monkeypatch.setattr(hub.processor, "receive", down_a_while)
    dead: list[AbstractIncomingMessage] = []
    listener = await collect(vhost_url, topology.DEAD_LETTER_QUEUE, dead)
    message_id = f"CR-{secrets.token_hex(4)}"
    await publish_as_office(vhost_url, office_code, act_report(office_code, message_id))

    applied = select(func.count()).select_from(InboxEntry).where(InboxEntry.message_id == message_id)
    await until_count(hub.sessions, applied, 1, within=60)
    assert refused == 3 * topology.DEFAULT_DELIVERY_LIMIT
    await listener.close()
    assert dead == []
    assert await count(hub.sessions, applied) == 1


async def test_operators_list_and_requeue_dead_letters(
    hub: Hub, vhost_url: str, office_code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = hub.processor.receive

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database was down")

    monkeypatch.setattr(hub.processor, "receive", failing)
    await publish_as_office(vhost_url, office_code, act_report(office_code, "CR-RETRY-1"))
    async with asyncio.timeout(60):
        while not (letters := await list_dead_letters(vhost_url)):  # noqa: ASYNC110 - polls the broker
            await asyncio.sleep(0.2)
    assert [(d.sender, d.reason) for d in letters] == [(office_code, "rejected")]
    assert len(await list_dead_letters(vhost_url)) == 1  # listing leaves them there

    monkeypatch.setattr(hub.processor, "receive", real)  # the cause is fixed
    results = await requeue_dead_letters(vhost_url, hub.sessions, hub.processor)
    assert [verdict for _, verdict in results] == ["accepted"]
    assert await list_dead_letters(vhost_url) == []
    applied = select(func.count()).select_from(InboxEntry).where(InboxEntry.message_id == "CR-RETRY-1")
    assert await count(hub.sessions, applied) == 1


async def test_requeue_walks_past_the_letters_it_must_keep(
    hub: Hub, vhost_url: str, office_code: str
) -> None:
    """Letters that cannot be applied yet (an AMQP user not registered) stay in hub.dead, in their
    place, and never hide the ones behind them: a requeue runs those, up to its limit. A listing
    says how many there are."""
    ghosts = [f"GHOST-{i:02}" for i in range(55)]
    mine = [f"CR-DEAD-{i}" for i in range(3)]
    connection = await connect(vhost_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        for message_id in ghosts + mine:
            user = "CJGHOST" if message_id in ghosts else office_code
            headers = {
                "x-hub-reason": "sender.unknown",
                "x-hub-sender": "UNKNOWN",
                "x-hub-user-id": user,
                "x-hub-detail": f"AMQP user '{user}' is not a registered office",
            }
            letter = aio_pika.Message(
                act_report(office_code, message_id), content_type="application/xml", message_id=message_id
            )
            letter.headers = headers  # type: ignore[assignment]
            await channel.default_exchange.publish(letter, topology.DEAD_LETTER_QUEUE)

    listed = await read_dead_letters(vhost_url, limit=50)
    assert listed.total == 58 and len(listed.letters) == 50
    everything = await read_dead_letters(vhost_url, limit=100)
    assert sorted(d.message_id or "" for d in everything.letters) == sorted(ghosts + mine)

    results = await requeue_dead_letters(vhost_url, hub.sessions, hub.processor, limit=2)
    run = [letter.message_id for letter, verdict in results if not verdict.startswith(KEPT)]
    assert len(run) == 2 and set(run) <= set(mine)
    assert all(letter.sender == "CJGHOST" for letter, verdict in results if verdict.startswith(KEPT))
    rest = await requeue_dead_letters(vhost_url, hub.sessions, hub.processor)
    assert [letter.message_id for letter, verdict in rest if not verdict.startswith(KEPT)] == sorted(
        set(mine) - set(run)
    )
    left = await read_dead_letters(vhost_url)
    assert left.total == 55 and sorted(d.message_id or "" for d in left.letters) == ghosts
    stored = select(func.count()).select_from(StoredMessage).where(StoredMessage.message_id.in_(mine))
    assert await count(hub.sessions, stored) == 3


async def test_a_duplicate_gets_its_first_receipt_again(hub: Hub, vhost_url: str, office_code: str) -> None:
    """An office that saw no receipt sends its message again: applied once, and the office gets the
    first receipt again, under the same message id (its inbox drops a copy it had). A message whose
    first copy came over HTTP (the receipt was the response) gets its receipt sent now."""
    to_office: list[AbstractIncomingMessage] = []
    listener = await collect(vhost_url, topology.office_queue(office_code), to_office)
    twice, http_first = f"CR-{secrets.token_hex(4)}", f"CR-{secrets.token_hex(4)}"
    await publish_as_office(vhost_url, office_code, act_report(office_code, twice))
    applied = (
        select(func.count()).select_from(InboxEntry).where(InboxEntry.message_id.in_([twice, http_first]))
    )
    await until_count(hub.sessions, applied, 1)
    async with unit_of_work(hub.sessions) as session:  # as POST /v1/messages applies it
        office = await OfficeRepository(session).get_by_code(office_code)
        assert office is not None
        over_http = Received(act_report(office_code, http_first), "application/xml")
        assert (await hub.processor.receive(session, office, over_http)).accepted
    await publish_as_office(vhost_url, office_code, act_report(office_code, twice))
    await publish_as_office(vhost_url, office_code, act_report(office_code, http_first))

    resent = (
        select(func.count())
        .select_from(OutboxEntry)
        .join(StoredMessage, StoredMessage.id == OutboxEntry.message_pk)
        .where(StoredMessage.kind == "receipt", StoredMessage.recipient == office_code)
    )
    await until_count(hub.sessions, resent, 3)
    await hub.drain()
    await eventually(lambda: len(to_office) == 3)
    ids = sorted(m.headers["x-hub-message-id"] for m in to_office)  # type: ignore[misc]
    async with hub.sessions() as session:
        found = await session.scalars(
            select(StoredMessage).where(StoredMessage.message_id.in_([twice, http_first]))
        )
        firsts = {m.message_id: m.id for m in found}
    receipts = select(func.count()).select_from(StoredMessage)
    stored_receipts = await count(
        hub.sessions, receipts.where(StoredMessage.kind == "receipt", StoredMessage.recipient == office_code)
    )
    assert ids == sorted([f"RCPT-{firsts[twice].hex}"] * 2 + [f"RCPT-{firsts[http_first].hex}"])
    assert stored_receipts == 2  # the first one queued again, not a second copy
    assert await count(hub.sessions, applied) == 2  # nothing applied twice
    await listener.close()
